"""Publishing to and consuming from the real broker in tests: unique topic roots, groups and
client ids per test, sessions removed afterwards."""
from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gridmap.config import load_settings
from gridmap.devices.mqtt import TelemetryConsumer, broker_address, telemetry_topic
from tests.devices.conftest import unique


def publish(url: str, root: str, items: list[tuple[str, bytes]]) -> None:
    """Publish ``(device id, payload)`` pairs with QoS 1 and wait until the broker has them."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=unique("pub"),
                         protocol=mqtt.MQTTv5)
    client.connect(*broker_address(url))
    client.loop_start()
    try:
        infos = [client.publish(telemetry_topic(device, root), body, qos=1)
                 for device, body in items]
        for info in infos:
            info.wait_for_publish(timeout=10)
    finally:
        client.disconnect()
        client.loop_stop()


def forget_session(url: str, client_id: str) -> None:
    """Remove a consumer's persistent session from the broker (clean start, expiry 0)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv5)
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 0
    client.connect(*broker_address(url), clean_start=True, properties=properties)
    client.loop_start()
    time.sleep(0.2)
    client.disconnect()
    client.loop_stop()


class Running:
    """A consumer in a thread: ``with Running(...) as consumer:`` starts it and waits for its
    subscription; leaving stops it (its batch committed and acknowledged)."""

    def __init__(self, database_url: str, url: str, *, root: str, group: str,
                 client_id: str | None = None, **options) -> None:
        settings = load_settings({"database_url": database_url})
        self.consumer = TelemetryConsumer(
            database_url=database_url, settings=settings, url=url, group=group,
            client_id=client_id or unique("consumer"), topic_root=root,
            session_expiry_s=options.pop("session_expiry_s", 120), **options)
        self.thread = threading.Thread(target=self.consumer.run, daemon=True)

    def __enter__(self) -> TelemetryConsumer:
        self.thread.start()
        assert self.consumer.subscribed.wait(10), "the consumer did not subscribe"
        time.sleep(0.3)  # the SUBACK: the subscription is in place at the broker
        return self.consumer

    def __exit__(self, *exc) -> None:
        self.consumer.stop()
        self.thread.join(15)
        assert not self.thread.is_alive()


def wait_for(predicate, timeout: float = 15.0, step: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
