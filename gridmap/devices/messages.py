"""One device telemetry message: its format, and the check every message passes before it is
stored, whether it came over MQTT or HTTP.

A message is a JSON object::

    {"message_id": "m-000123",                      # 1–64 characters, unique per device
     "event_time": "2026-12-04T09:00:00.250+08:00", # RFC 3339, with its offset
     "location": [114.39, 30.50],                   # lon, lat (CGCS2000); moving devices
     "readings": {"battery": 87, "temperature": 21.5},
     "alarms": {"smoke": false, "tamper": false}}

``location``, ``readings`` and ``alarms`` may be left out. Over HTTP each message also names
its ``device_id``; over MQTT the topic does (``gridmap/devices/{device_id}/telemetry``) and a
``device_id`` in the payload must agree with it. :func:`validate_message` raises
:class:`MessageRejected` only, with a short ``reason`` (counted per reason) and a detail.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from gridmap.errors import InvalidInput
from gridmap.i18n import N_, msg

DEVICE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}", re.ASCII)
_RFC3339 = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}:[0-9]{2}:[0-9]{2})"
                      r"(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})", re.ASCII)
MAX_ENTRIES = 64
MAX_MESSAGE_ID = 64
#: How far ahead of the receiver's clock an event time may lie (device clocks drift a little;
#: a time far ahead would hold the device's state for ever).
MAX_CLOCK_AHEAD = dt.timedelta(minutes=10)
FIELDS = frozenset({"device_id", "message_id", "event_time", "location", "readings", "alarms"})

#: Why messages are rejected: the counters' keys (``gridmap device stats``).
REASONS = ("bad_json", "not_object", "missing_field", "unknown_field", "bad_message_id",
           "bad_time", "bad_location", "bad_readings", "bad_alarms", "bad_device_id",
           "topic_mismatch", "oversized", "unknown_device", "retired_device")


class MessageRejected(InvalidInput):
    """A telemetry message that cannot be stored; ``reason`` is one of :data:`REASONS`."""

    title = N_("message rejected")

    def __init__(self, reason: str, detail) -> None:
        super().__init__(detail, reason=reason)
        self.reason = reason


@dataclass(frozen=True)
class TelemetryMessage:
    """A checked message. ``event_time`` is timezone-aware."""

    device_id: str
    message_id: str
    event_time: dt.datetime
    lon: float | None
    lat: float | None
    readings: dict[str, float]
    alarms: dict[str, bool]


def parse_event_time(value: Any, now: dt.datetime) -> dt.datetime:
    """An RFC 3339 time with its offset; not more than :data:`MAX_CLOCK_AHEAD` after ``now``.

    Raises
    ------
    MessageRejected
        ``bad_time``.
    """
    match = _RFC3339.fullmatch(value) if isinstance(value, str) else None
    parsed = None
    if match:
        date, clock, fraction, offset = match.groups()
        fraction = (fraction or "")[:7]  # Python reads at most 6 digits of a second
        offset = "+00:00" if offset in ("Z", "z") else offset
        try:
            parsed = dt.datetime.fromisoformat(f"{date}T{clock}{fraction}{offset}")
        except ValueError:
            parsed = None
    if parsed is None or not (2000 <= parsed.year <= 9998):
        raise MessageRejected("bad_time", msg(
            "event_time {value!r}: expected an RFC 3339 time with its offset, e.g. "
            "2026-12-04T09:00:00+08:00", value=_short(value)))
    if parsed - now > MAX_CLOCK_AHEAD:
        raise MessageRejected("bad_time", msg(
            "event_time {value} lies {minutes:.0f} minutes ahead of the receiver's clock: "
            "expected a time no later than now", value=value,
            minutes=(parsed - now).total_seconds() / 60))
    return parsed


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           default=str)
    return text[:40]


def _number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and abs(value) < 1e15)


def _location(value: Any) -> tuple[float | None, float | None]:
    if value is None:
        return None, None
    if (isinstance(value, list) and len(value) == 2 and all(_number(v) for v in value)
            and -180 <= value[0] <= 180 and -90 <= value[1] <= 90):
        return float(value[0]), float(value[1])
    raise MessageRejected("bad_location", msg(
        "location {value}: expected [longitude, latitude] in degrees (CGCS2000)",
        value=_short(value)))


def _mapping(value: Any, reason: str, name: str, check, expected: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_ENTRIES:
        raise MessageRejected(reason, msg("{name}: expected an object of at most {limit} "
                                          "entries", name=name, limit=MAX_ENTRIES))
    for key, item in value.items():
        if not _NAME.fullmatch(key) or not check(item):
            raise MessageRejected(reason, msg(
                "{name}.{key}: {value}: expected {expected}", name=name, key=_short(key),
                value=_short(item), expected=expected))
    return value


def validate_message(payload: bytes | object, *, device_id: str | None = None,
                     max_bytes: int, now: dt.datetime) -> TelemetryMessage:
    """Check one message: ``payload`` as bytes (MQTT: JSON text) or already decoded (an
    element of an HTTP batch). ``device_id`` is the one its topic names (MQTT), or None when
    the message must name it itself (HTTP).

    Raises
    ------
    MessageRejected
        Nothing else, whatever ``payload`` holds.
    """
    if isinstance(payload, (bytes, bytearray)):  # as received over MQTT
        size = len(payload)
    else:  # decoded already (an element of an HTTP batch): its size as compact JSON
        try:
            size = len(json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
                       .encode("utf-8", "surrogatepass"))
        except (TypeError, ValueError, RecursionError):
            size = max_bytes + 1
    if size > max_bytes:
        raise MessageRejected("oversized", msg(
            "message of {size} bytes: expected at most {limit}", size=size, limit=max_bytes))
    if isinstance(payload, (bytes, bytearray)):
        try:
            body = json.loads(payload)
        except (ValueError, RecursionError):
            raise MessageRejected("bad_json", msg("the message is not JSON (UTF-8)")) \
                from None
    else:
        body = payload
    if not isinstance(body, dict):
        raise MessageRejected("not_object", msg("the message is {kind}: expected a JSON "
                                                "object", kind=type(body).__name__))
    unknown = sorted(k for k in body if k not in FIELDS)
    if unknown:
        raise MessageRejected("unknown_field", msg(
            "field {field!r} is not part of a message: expected {fields}",
            field=_short(unknown[0]), fields=", ".join(sorted(FIELDS))))
    if device_id is not None and not DEVICE_ID.fullmatch(device_id):
        raise MessageRejected("bad_device_id", msg(
            "topic names device {value!r}: expected 1–64 letters, digits, '.', '_' or '-'",
            value=device_id[:70]))
    named = body.get("device_id")
    if named is not None or device_id is None:
        if not isinstance(named, str) or not DEVICE_ID.fullmatch(named):
            reason = "missing_field" if named is None else "bad_device_id"
            raise MessageRejected(reason, msg(
                "device_id {value!r}: expected 1–64 letters, digits, '.', '_' or '-'",
                value=_short(named)))
        if device_id is not None and named != device_id:
            raise MessageRejected("topic_mismatch", msg(
                "device_id {named!r} in a message on the topic of device {device!r}",
                named=named, device=device_id))
    for field in ("message_id", "event_time"):
        if field not in body:
            raise MessageRejected("missing_field", msg("field {field} is missing",
                                                       field=field))
    message_id = body["message_id"]
    if not isinstance(message_id, str) or not 1 <= len(message_id) <= MAX_MESSAGE_ID \
            or not message_id.isprintable():
        raise MessageRejected("bad_message_id", msg(
            "message_id {value!r}: expected 1–{limit} printable characters",
            value=_short(message_id), limit=MAX_MESSAGE_ID))
    event_time = parse_event_time(body["event_time"], now)
    lon, lat = _location(body.get("location"))
    readings = _mapping(body.get("readings"), "bad_readings", "readings", _number,
                        "a number")
    alarms = _mapping(body.get("alarms"), "bad_alarms", "alarms",
                      lambda v: isinstance(v, bool), "true or false")
    return TelemetryMessage(device_id or named, message_id, event_time, lon, lat,
                            {k: float(v) for k, v in readings.items()}, dict(alarms))
