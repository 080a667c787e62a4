"""Device tests' helpers: unique device ids per test (the tests commit: HTTP requests and the
MQTT consumer run their own transactions), a place inside a demo grid, message builders, and
the broker every MQTT test needs (one clear failure when none answers)."""
from __future__ import annotations

import datetime as dt
import json
import socket
import uuid
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from gridmap.config import load_settings
from gridmap.db import session_scope
from gridmap.devices.registry import DeviceSpec, register_devices
from tests.conftest import REPO

DATA_DIR = str(REPO / "data")
MQTT_URL = load_settings()["mqtt_url"]


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def message(message_id: str, at: dt.datetime, **fields) -> dict:
    return {"message_id": message_id, "event_time": at.isoformat(), **fields}


def payload(message_id: str, at: dt.datetime, **fields) -> bytes:
    return json.dumps(message(message_id, at, **fields)).encode()


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@pytest.fixture(scope="session")
def place(database_url) -> tuple[float, float, str]:
    """A point inside the first active residential grid: (lon, lat, grid code)."""
    with session_scope(database_url) as session:
        return tuple(session.execute(text(
            "select ST_X(p), ST_Y(p), code from (select ST_PointOnSurface(geom) p, code "
            "from grid where valid_to is null and kind = 'residential' order by code "
            "limit 1) g")).one())


@pytest.fixture()
def devices(database_url, place):
    """``devices(n, type=…)``: register n fixed devices with fresh ids at ``place``
    (committed); returns their ids."""
    def register(count: int = 1, type: str = "smoke_sensor", moving: bool = False):
        ids = [unique("dev") for _ in range(count)]
        with session_scope(database_url) as session:
            register_devices(session, [DeviceSpec(i, type, None, place[0], place[1], moving)
                                       for i in ids], data_dir=DATA_DIR)
        return ids
    return register


@pytest.fixture(scope="session")
def broker() -> str:
    """The MQTT broker at GRIDMAP_MQTT_URL; the session fails with one message if none
    answers (`make test` starts one: scripts/ensure-broker.sh)."""
    parts = urlsplit(MQTT_URL)
    try:
        socket.create_connection((parts.hostname, parts.port or 1883), timeout=2).close()
    except OSError as exc:
        pytest.fail(f"no MQTT broker answers at {MQTT_URL} ({exc.strerror or exc}); start one "
                    f"with scripts/ensure-broker.sh (make test does)", pytrace=False)
    return MQTT_URL
