"""Acknowledgements wait for the commit: while a batch cannot commit (its device row locked
by another transaction), its message is still the session's — a client that takes the
consumer's session over (same client id) is delivered it again — whereas a message already
committed is not."""
from __future__ import annotations

import datetime as dt
import json
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import text

from gridmap.db import get_engine, session_scope
from gridmap.devices.mqtt import broker_address
from tests.devices.conftest import now, payload, unique
from tests.devices.mqtt_helpers import Running, forget_session, publish, wait_for


def _take_over(url: str, client_id: str, seconds: float) -> list[str]:
    """Connect as ``client_id`` resuming its session (the broker drops the consumer's
    connection) and return the message ids delivered within ``seconds``."""
    got: list[str] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv5)
    client.on_message = lambda c, u, m: got.append(json.loads(m.payload)["message_id"])
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 120
    client.connect(*broker_address(url), clean_start=False, properties=properties)
    client.loop_start()
    time.sleep(seconds)
    client.disconnect()
    client.loop_stop()
    return got


def _waiting_for_a_lock(url: str) -> bool:
    with session_scope(url) as session:
        return bool(session.execute(text(
            "select count(*) from pg_stat_activity where datname = current_database() "
            "and wait_event_type = 'Lock' and query like '%device_telemetry%'")).scalar())


def _stored(url: str, device: str) -> list[str]:
    with session_scope(url) as session:
        return list(session.execute(text(
            "select message_id from device_telemetry where device_id = :d order by 1"),
            {"d": device}).scalars())


def test_a_message_is_acknowledged_only_after_its_batch_commits(database_url, broker,
                                                                devices):
    (device,) = devices(1)
    root, group, client_id = unique("root"), unique("g"), unique("consumer")
    at = now() - dt.timedelta(minutes=1)
    try:
        with Running(database_url, broker, root=root, group=group, client_id=client_id,
                     batch_ms=10):
            publish(broker, root, [(device, payload("committed", at))])
            assert wait_for(lambda: _stored(database_url, device) == ["committed"])
            with get_engine(database_url).connect() as blocker:
                blocker.execute(text("select 1 from device where id = :d for update"),
                                {"d": device})
                publish(broker, root, [(device, payload("waiting", at + dt.timedelta(
                    seconds=1)))])
                # the consumer holds it in a batch that waits for the lock: not committed
                assert wait_for(lambda: _waiting_for_a_lock(database_url))
                redelivered = _take_over(broker, client_id, 0.8)
                assert _stored(database_url, device) == ["committed"]
                blocker.rollback()
            assert redelivered == ["waiting"]  # unacknowledged; the committed one was acked
            # the consumer commits it once the lock is gone (once, whatever was redelivered)
            assert wait_for(lambda: _stored(database_url, device) == ["committed", "waiting"])
    finally:
        forget_session(broker, client_id)
