"""Devices: the registry, telemetry over MQTT and HTTP, alarms that open incidents."""
