"""POST /api/devices/telemetry: a batch with a devices key, answered per message."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from gridmap.auth import issue_key
from gridmap.db import session_scope
from tests.devices.conftest import message, now

URL = "/api/devices/telemetry"


@pytest.fixture(scope="module")
def device_key(database_url) -> str:
    with session_scope(database_url) as session:
        return issue_key(session, "device gateway", ["devices"]).secret


@pytest.fixture(scope="module")
def other_key(database_url) -> str:
    with session_scope(database_url) as session:
        return issue_key(session, "open311 app", ["open311"]).secret


def test_batch_stored_duplicates_and_rejections(anonymous, device_key, devices, database_url):
    a, b = devices(2)
    at = now() - dt.timedelta(minutes=1)
    batch = [{"device_id": a, **message("m1", at, readings={"battery": 90})},
             {"device_id": a, **message("m1", at, readings={"battery": 90})},
             {"device_id": b, **message("m1", at + dt.timedelta(seconds=1))},
             {"device_id": "nobody-" + a, **message("m1", at)},
             {"device_id": b, "message_id": "m2", "event_time": "yesterday"},
             {"device_id": b, **message("m3", at), "colour": "red"},
             "not an object"]
    response = anonymous.post(URL, json={"api_key": device_key, "messages": batch})
    assert response.status_code == 200, response.get_data(True)
    body = response.get_json()
    assert [r["status"] for r in body["results"]] == [
        "stored", "duplicate", "stored", "rejected", "rejected", "rejected", "rejected"]
    assert [r.get("reason") for r in body["results"][3:]] == [
        "unknown_device", "bad_time", "unknown_field", "not_object"]
    assert (body["stored"], body["duplicate"], body["rejected"]) == (2, 1, 4)
    # the same batch again: nothing new is stored
    again = anonymous.post(URL, json={"api_key": device_key, "messages": batch[:3]}).get_json()
    assert [r["status"] for r in again["results"]] == ["duplicate"] * 3
    with session_scope(database_url) as session:
        assert session.execute(text(
            "select count(*) from device_telemetry where device_id in (:a, :b)"),
            {"a": a, "b": b}).scalar() == 2
        assert session.execute(text("select battery from device where id = :a"),
                               {"a": a}).scalar() == 90


@pytest.mark.parametrize("body, status", [
    (None, 400),
    ({"messages": []}, 401),
    ({"api_key": "gmk_" + "x" * 43, "messages": [{}]}, 401),
])
def test_bad_key_or_body(anonymous, body, status):
    response = anonymous.post(URL, json=body) if body is not None else \
        anonymous.post(URL, data="[1, 2", content_type="application/json")
    assert response.status_code == status
    assert set(response.get_json()) == {"error", "detail"}


def test_key_without_the_service_is_refused(anonymous, other_key):
    response = anonymous.post(URL, json={"api_key": other_key, "messages": [{}]})
    assert response.status_code == 403
    assert "devices" in response.get_json()["detail"]


@pytest.mark.parametrize("messages, status", [([], 400), ("many", 400), ([{}] * 1001, 413)])
def test_bad_envelope(anonymous, device_key, messages, status):
    response = anonymous.post(URL, json={"api_key": device_key, "messages": messages})
    assert response.status_code == status
    assert set(response.get_json()) == {"error", "detail"}


def test_header_key_stays_read_only(anonymous, device_key):
    response = anonymous.post(URL, json={"messages": [{}]}, headers={"X-API-Key": device_key})
    assert response.status_code == 403


def test_devices_read_back(client, devices):
    (a,) = devices(1)
    listed = client.get("/api/devices?limit=5000").get_json()["devices"]
    assert a in {d["id"] for d in listed}
    one = client.get(f"/api/devices/{a}").get_json()
    assert one["type"] == "smoke_sensor" and one["grid"] and one["status"] == "active"
    assert client.get("/api/devices/no-such-device").status_code == 404


def test_devices_layer(client, devices, place):
    (a,) = devices(1)
    features = client.get("/api/layers/devices/features?limit=5000").get_json()["features"]
    (mine,) = [f for f in features if f["id"] == a]
    assert mine["properties"]["grid_code"] == place[2]
    assert mine["properties"]["condition"] == "ok"
