"""The message check: what it accepts, and that it raises nothing but MessageRejected."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, strategies as st

from gridmap.devices.messages import REASONS, MessageRejected, validate_message

NOW = dt.datetime(2026, 12, 4, 12, tzinfo=dt.timezone.utc)


def check(body, device="d-1", max_bytes=8192):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return validate_message(data, device_id=device, max_bytes=max_bytes, now=NOW)


def test_a_full_message():
    message = check({"message_id": "m", "event_time": "2026-12-04T19:59:59.1234567+08:00",
                     "location": [114.4, 30.5], "readings": {"battery": 80},
                     "alarms": {"smoke": False}})
    assert message.event_time == dt.datetime(2026, 12, 4, 11, 59, 59, 123456,
                                             tzinfo=dt.timezone.utc)
    assert (message.lon, message.lat, message.readings) == (114.4, 30.5, {"battery": 80.0})


@pytest.mark.parametrize("body, reason", [
    (b"\xff", "bad_json"), ([1], "not_object"), ({"event_time": "2026-12-04T00:00:00Z"},
                                                  "missing_field"),
    ({"message_id": "m", "event_time": "2026-12-04"}, "bad_time"),
    ({"message_id": "m", "event_time": "2026-12-04T12:00:00"}, "bad_time"),  # no offset
    ({"message_id": "m", "event_time": "2027-01-01T00:00:00Z"}, "bad_time"),  # far ahead
    ({"message_id": "m", "event_time": "2026-12-04T00:00:00Z", "location": [200, 0]},
     "bad_location"),
    ({"message_id": "m", "event_time": "2026-12-04T00:00:00Z", "readings": {"a": True}},
     "bad_readings"),
    ({"message_id": "m", "event_time": "2026-12-04T00:00:00Z", "alarms": {"smoke": 1}},
     "bad_alarms"),
    ({"message_id": "", "event_time": "2026-12-04T00:00:00Z"}, "bad_message_id"),
    ({"message_id": "m", "event_time": "2026-12-04T00:00:00Z", "device_id": "d-2"},
     "topic_mismatch"),
])
def test_rejections(body, reason):
    with pytest.raises(MessageRejected) as caught:
        check(body)
    assert caught.value.reason == reason


def test_oversized():
    with pytest.raises(MessageRejected) as caught:
        check({"message_id": "m", "event_time": "2026-12-04T00:00:00Z"}, max_bytes=32)
    assert caught.value.reason == "oversized"


JSON = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
FIELDS = st.fixed_dictionaries({}, optional={
    "message_id": JSON | st.text(max_size=70), "device_id": JSON | st.just("d-1"),
    "event_time": JSON | st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    "location": JSON, "readings": JSON, "alarms": JSON})


@given(st.one_of(JSON, FIELDS, st.binary(max_size=64)), st.sampled_from([None, "d-1", "bad/id"]))
def test_never_raises_anything_else(body, device):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    for payload in (data, body):
        try:
            validate_message(payload, device_id=device, max_bytes=4096, now=NOW)
        except MessageRejected as exc:
            assert exc.reason in REASONS
