"""Simulated devices for the demo: a few registered in the demo district's grids, and a
publisher (``gridmap simulate-devices``) that sends their telemetry over MQTT every few seconds
with an occasional alarm, so ``make run`` shows alarms becoming cases.

Randomness is seeded: the same seed gives the same readings and the same alarms in the same
rounds. A smoke alarm lasts a few rounds and clears (its incident gets a note); the tracker
walks a small loop, crossing grids.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import math
import random
import threading
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.devices.registry import DeviceSpec, register_devices

log = logging.getLogger("gridmap.devices")
DEMO_PREFIX = "demo-"
#: (id suffix, type, name, moving)
DEMO_DEVICES = (
    ("smoke-01", "smoke_sensor", "1号楼烟感", False),
    ("smoke-02", "smoke_sensor", "2号楼烟感", False),
    ("smoke-03", "smoke_sensor", "社区食堂烟感", False),
    ("water-01", "water_meter", "小区总水表", False),
    ("water-02", "water_meter", "3号楼水表", False),
    ("gate-01", "access_gate", "小区东门门禁", False),
    ("camera-01", "camera", "广场监控", False),
    ("tracker-01", "patrol_tracker", "巡查定位终端", True),
)


def ensure_demo_devices(session: Session, district: str, *, data_dir: str) -> int:
    """Register the demo devices at places inside the district's grids unless they exist;
    return how many were registered."""
    ids = [DEMO_PREFIX + suffix for suffix, *_ in DEMO_DEVICES]
    known = session.execute(text("select count(*) from device where id = any(:ids)"),
                            {"ids": ids}).scalar()
    if known:
        return 0
    places = session.execute(text(
        "select ST_X(p), ST_Y(p) from (select ST_PointOnSurface(geom) as p from grid "
        "where district_code = :d and valid_to is null order by code) g"),
        {"d": district}).all()
    if not places:
        return 0
    specs = [DeviceSpec(DEMO_PREFIX + suffix, kind, name, *places[(n * 3) % len(places)],
                        moving) for n, (suffix, kind, name, moving) in enumerate(DEMO_DEVICES)]
    return register_devices(session, specs, data_dir=data_dir)["inserted"]


@dataclass
class SimulatedDevice:
    id: str
    type: str
    lon: float
    lat: float
    moving: bool
    battery: float
    smoke_rounds: int = 0


def telemetry_round(devices: list[SimulatedDevice], rng: random.Random, number: int,
                    at: dt.datetime) -> list[tuple[str, dict]]:
    """One round of messages ``(device id, message)``: readings drift, a smoke alarm starts
    now and then (rarely) and lasts a few rounds, a tamper flag flickers very rarely."""
    out = []
    for device in devices:
        device.battery = max(0.0, device.battery - rng.uniform(0, 0.05))
        readings: dict[str, float] = {"battery": round(device.battery, 1)}
        alarms: dict[str, bool] = {}
        if device.type == "smoke_sensor":
            if device.smoke_rounds == 0 and rng.random() < 0.01:
                device.smoke_rounds = rng.randint(3, 8)
            alarms["smoke"] = device.smoke_rounds > 0
            device.smoke_rounds = max(0, device.smoke_rounds - 1)
            readings["temperature"] = round(22 + rng.gauss(0, 0.5)
                                            + (15 if alarms["smoke"] else 0), 1)
        elif device.type == "water_meter":
            readings["flow_m3h"] = round(abs(rng.gauss(1.2, 0.4)), 3)
        elif device.type == "access_gate":
            readings["passages"] = float(rng.randint(0, 12))
            alarms["tamper"] = rng.random() < 0.003
        # named by the round's time, not its number alone: a simulator started again counts
        # from 1, and ids it used before would be taken for redeliveries and dropped
        message: dict = {"message_id": f"sim-{number}-{at:%Y%m%dT%H%M%S.%f}",
                         "event_time": at.isoformat(),
                         "readings": readings, "alarms": alarms}
        if device.moving:
            angle = number / 20 * math.tau
            message["location"] = [device.lon + 0.002 * math.cos(angle),
                                   device.lat + 0.0015 * math.sin(angle)]
        out.append((device.id, message))
    return out


def load_simulated(session: Session) -> list[SimulatedDevice]:
    """The demo devices as the simulator starts them (full batteries but one)."""
    rows = session.execute(text(
        "select id, type, ST_X(location), ST_Y(location), moving from device "
        "where id like :p and status = 'active' and location is not null order by id"),
        {"p": DEMO_PREFIX + "%"}).all()
    return [SimulatedDevice(r[0], r[1], r[2], r[3], r[4],
                            battery=18.0 if r[0].endswith("water-02") else 95.0)
            for r in rows]


def publish_forever(devices: list[SimulatedDevice], *, url: str, interval_s: float,
                    seed: int, stop: threading.Event, rounds: int | None = None,
                    topic_root: str = "gridmap/devices") -> int:
    """Publish rounds of telemetry (QoS 1) until ``stop`` (or ``rounds``); return how many
    messages were published."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from gridmap.devices.mqtt import broker_address, telemetry_topic

    rng = random.Random(seed)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"gridmap-simulator-{seed}",
                         protocol=mqtt.MQTTv5)
    host, port = broker_address(url)
    delay = 1.0
    while not stop.is_set():
        try:
            client.connect(host, port)
            break
        except OSError as exc:
            log.error("no MQTT broker answers at %s (%s); retrying in %.0f s", url,
                      exc.strerror or exc, delay)
            stop.wait(delay)
            delay = min(delay * 2, 30)
    client.loop_start()
    sent, number = 0, 0
    try:
        while not stop.is_set() and (rounds is None or number < rounds):
            number += 1
            at = dt.datetime.now(dt.timezone.utc)
            for device_id, message in telemetry_round(devices, rng, number, at):
                client.publish(telemetry_topic(device_id, topic_root),
                               json.dumps(message, ensure_ascii=False), qos=1)
                sent += 1
            stop.wait(interval_s)
    finally:
        client.disconnect()
        client.loop_stop()
    return sent
