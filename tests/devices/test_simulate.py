"""The demo's simulated devices: every message passes the receiver's check, and a simulator
started again never reuses a message id (the receiver would take it for a redelivery and
drop it, so the demo devices would stop updating after a restart of `make run`)."""
from __future__ import annotations

import datetime as dt
import json
import random

from gridmap.devices.messages import validate_message
from gridmap.devices.simulate import SimulatedDevice, telemetry_round


def _devices() -> list[SimulatedDevice]:
    return [SimulatedDevice("demo-smoke-01", "smoke_sensor", 114.40, 30.50, False, 95.0),
            SimulatedDevice("demo-tracker-01", "tracker", 114.41, 30.51, True, 60.0)]


def test_messages_pass_the_check_and_a_restart_uses_new_ids():
    first_run = dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.timezone.utc)
    restarted = first_run + dt.timedelta(minutes=3)
    ids: dict[str, set[str]] = {}
    for start in (first_run, restarted):  # each run counts its rounds from 1
        devices, rng = _devices(), random.Random(420111)
        for number in range(1, 4):
            at = start + dt.timedelta(seconds=5 * number)
            for device_id, message in telemetry_round(devices, rng, number, at):
                checked = validate_message(json.dumps(message).encode(), device_id=device_id,
                                           max_bytes=8192, now=at)
                assert checked.event_time == at
                assert checked.message_id not in ids.setdefault(device_id, set())
                ids[device_id].add(checked.message_id)
    assert all(len(seen) == 6 for seen in ids.values())
