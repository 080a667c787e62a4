"""Store a batch of telemetry messages: the one path of MQTT and HTTP.

:func:`ingest_batch` checks every message (:func:`gridmap.devices.messages.validate_message`),
then in one statement stores the new ones and updates their devices:

- **once**: ``insert … on conflict (device_id, message_id) do nothing`` — a message delivered
  twice (an MQTT redelivery, an HTTP retry) is stored once and answered ``duplicate``;
- **latest event time wins**: each device takes the state (readings, alarms, battery, and for
  a moving device its place and grid) of the newest stored message of the batch, and only
  when that message's event time is later than the device's ``last_seen`` — a late message is
  stored but changes nothing;
- **set-based**: one statement per batch locks the devices (in id order, so two consumers
  sharing devices cannot deadlock), stores the messages of active ones and updates them.

Rejected messages are logged with their reason and counted per reason (``device_rejected``).
Alarm changes of the updated devices go to :mod:`gridmap.devices.alarms`. The caller commits
(and acknowledges MQTT messages only after that).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.devices.messages import MessageRejected, TelemetryMessage, validate_message
from gridmap.devices.registry import GRID_OF_LOCATION
from gridmap.i18n import msg, render

log = logging.getLogger("gridmap.devices")

_POINT = "ST_SetSRID(ST_MakePoint(m.lon, m.lat), 4490)"
#: One statement per batch, its messages one JSON parameter (a JSON array of objects, decoded
#: by the server: passing seven arrays cost the client ~30 µs a message in psycopg's list
#: dumping). The batch's devices are locked first (in id order, so two consumers sharing
#: devices cannot deadlock) and their statuses returned, so unknown and retired devices are
#: answered from the same round trip; only the messages of active devices are stored. The
#: devices' state before the batch is read from the locked rows (``locked``), not from a
#: plain read of ``device``: the statement's snapshot predates the lock, and a consumer that
#: committed the same device in between would otherwise be missed (a lost alarm change);
#: the update itself sees that newest row (PostgreSQL re-reads a row updated meanwhile).
_STORE = text(f"""
    with incoming as (
        select * from json_to_recordset(cast(:batch as json))
            as m(device_id text, message_id text, event_time timestamptz, lon float8,
                 lat float8, readings jsonb, alarms jsonb)
    ), locked as materialized (
        select id, status, last_state -> 'alarms' as old_alarms, battery as old_battery
        from device where id in (select device_id from incoming)
        order by id for no key update
    ), accepted as (
        select m.* from incoming m join locked l on l.id = m.device_id
        where l.status <> 'retired'  -- = 'active' (ck_device_status), estimated as not rare
    ), stored as (
        insert into device_telemetry as t
            (device_id, message_id, event_time, location, readings, alarms)
        select m.device_id, m.message_id, m.event_time,
               case when m.lon is null then null else {_POINT} end,
               m.readings, m.alarms
        from accepted m
        on conflict (device_id, message_id) do nothing
        returning t.device_id, t.message_id, t.event_time, t.location, t.readings, t.alarms
    ), latest as (
        select distinct on (device_id) * from stored
        order by device_id, event_time desc, message_id desc
    ), changed as (
        update device d set
            last_seen = l.event_time,
            last_state = jsonb_build_object('message_id', l.message_id,
                                            'readings', l.readings, 'alarms', l.alarms),
            battery = coalesce(cast(l.readings ->> 'battery' as float8), d.battery),
            location = case when d.moving and l.location is not null then l.location
                            else d.location end,
            grid_id = case when d.moving and l.location is not null
                                and (d.location is null or not ST_Equals(d.location, l.location))
                           then {GRID_OF_LOCATION.format(location="l.location")}
                           else d.grid_id end
        from latest l, locked old
        where d.id = l.device_id and old.id = l.device_id
          and (d.last_seen is null or l.event_time > d.last_seen)
        returning d.id, l.event_time, old.old_alarms, l.alarms as new_alarms,
                  old.old_battery, d.battery as new_battery
    ), back_online as (
        update device_alarm a set active = false, cleared_at = c.event_time
        from changed c
        where a.device_id = c.id and a.alarm_type = 'offline' and a.active
          and a.ended_at is null
        returning a.device_id, c.event_time
    )
    select 'status' as kind, id as device_id, status as message_id,
           null::timestamptz as event_time, null::jsonb as old_alarms, null::jsonb as new_alarms,
           null::float8 as old_battery, null::float8 as new_battery
    from locked
    union all
    select 'stored', device_id, message_id, null::timestamptz as event_time,
           null::jsonb as old_alarms, null::jsonb as new_alarms, null::float8 as old_battery,
           null::float8 as new_battery
    from stored
    union all
    select 'changed', id, null, event_time, old_alarms, new_alarms, old_battery, new_battery
    from changed
    union all
    select 'online', device_id, null, event_time, null, null, null, null from back_online
""")

_COUNT_REJECTED = text("""
    insert into device_rejected as r (reason, count, last_at, last_detail)
    select * from unnest(cast(:reasons as text[]), cast(:counts as bigint[]),
                         cast(:ats as timestamptz[]), cast(:details as text[]))
    on conflict (reason) do update set count = r.count + excluded.count,
        last_at = excluded.last_at, last_detail = excluded.last_detail
""")


@dataclass(frozen=True)
class IncomingMessage:
    """A message as received: ``payload`` (bytes from MQTT, a decoded object from HTTP) and
    the device its MQTT topic names (None over HTTP, where the message names it)."""

    payload: Any
    topic_device: str | None = None


@dataclass(frozen=True)
class DeviceChange:
    """A device whose state moved on: its alarm flags and battery before and after."""

    device_id: str
    event_time: dt.datetime
    old_alarms: Mapping[str, Any]
    new_alarms: Mapping[str, Any]
    old_battery: float | None
    new_battery: float | None


@dataclass
class BatchResult:
    """Per message, in order: ``stored``, ``duplicate`` or ``rejected`` (with the reason and
    detail); and the devices whose state changed."""

    results: list[dict]
    changes: list[DeviceChange]
    back_online: list[tuple[str, dt.datetime]]

    def counts(self) -> Counter:
        return Counter(r["status"] for r in self.results)


def _reject(results: list, index: int, error: MessageRejected, device: str | None) -> None:
    detail = render(error.detail)
    results[index] = {"status": "rejected", "reason": error.reason, "detail": detail}
    log.warning("rejected message (%s) of device %s: %s", error.reason, device or "?", detail)


def ingest_batch(session: Session, messages: Iterable[IncomingMessage], *,
                 now: dt.datetime | None = None, max_bytes: int,
                 low_battery_percent: float, data_dir: str) -> BatchResult:
    """Check, store and apply a batch of messages (see the module docstring); then open and
    clear the alarms the batch changed (:func:`gridmap.devices.alarms.apply_changes`).
    The caller commits."""
    from gridmap.devices.alarms import apply_changes

    now = now or dt.datetime.now(dt.timezone.utc)
    messages = list(messages)
    results: list[dict | None] = [None] * len(messages)
    valid: list[tuple[int, TelemetryMessage]] = []
    for index, incoming in enumerate(messages):
        try:
            valid.append((index, validate_message(incoming.payload,
                                                  device_id=incoming.topic_device,
                                                  max_bytes=max_bytes, now=now)))
        except MessageRejected as error:
            _reject(results, index, error, incoming.topic_device)
    changes, online = [], []
    if valid:
        rows = session.execute(_STORE, {"batch": _batch_json([m for _, m in valid])}).all()
        statuses = {r.device_id: r.message_id for r in rows if r.kind == "status"}
        stored = {(r.device_id, r.message_id) for r in rows if r.kind == "stored"}
        seen: set[tuple[str, str]] = set()
        for index, message in valid:
            status = statuses.get(message.device_id)
            if status != "active":
                reason = "unknown_device" if status is None else "retired_device"
                _reject(results, index, MessageRejected(reason, msg(
                    "device {id} is {what}", id=message.device_id,
                    what=msg("not registered") if status is None else msg("retired"))),
                    message.device_id)
                continue
            key = (message.device_id, message.message_id)
            fresh = key in stored and key not in seen
            seen.add(key)
            results[index] = {"status": "stored" if fresh else "duplicate"}
        changes = [DeviceChange(r.device_id, r.event_time, r.old_alarms or {},
                                r.new_alarms or {}, r.old_battery, r.new_battery)
                   for r in rows if r.kind == "changed"]
        online = [(r.device_id, r.event_time) for r in rows if r.kind == "online"]
    _count_rejected(session, [r for r in results if r["status"] == "rejected"], now)
    result = BatchResult(results, changes, online)
    if changes or online:
        apply_changes(session, result, low_battery_percent=low_battery_percent,
                      data_dir=data_dir, now=now)
    return result


def _batch_json(messages: list[TelemetryMessage]) -> str:
    """The messages as the JSON array :data:`_STORE` reads (event times in ISO 8601 with
    their offset, microseconds kept)."""
    return json.dumps([{"device_id": m.device_id, "message_id": m.message_id,
                        "event_time": m.event_time.isoformat(), "lon": m.lon, "lat": m.lat,
                        "readings": m.readings, "alarms": m.alarms} for m in messages],
                      separators=(",", ":"))


def _count_rejected(session: Session, rejected: list[dict], now: dt.datetime) -> None:
    if not rejected:
        return
    counts = Counter(r["reason"] for r in rejected)
    last = {r["reason"]: r["detail"] for r in rejected}
    reasons = sorted(counts)
    session.execute(_COUNT_REJECTED, {"reasons": reasons,
                                      "counts": [counts[r] for r in reasons],
                                      "ats": [now] * len(reasons),
                                      "details": [last[r][:500] for r in reasons]})
