"""Device alarms → incidents: at most one open incident per device and alarm type.

An alarm is **on** when the device's latest state says so: an alarm flag of the message with
the latest event time (``smoke``, ``tamper``, … as listed in ``device_alarms.csv``), a battery
reading below ``GRIDMAP_DEVICE_LOW_BATTERY_PERCENT`` (``low_battery``), or no message for
longer than ``GRIDMAP_DEVICE_OFFLINE_MINUTES`` (``offline``, found by :func:`check_offline`,
which ``gridmap ingest-mqtt`` runs every minute and ``gridmap device check-offline`` runs on
demand).

An alarm that goes **on** opens an *episode* (a ``device_alarm`` row) and, through
:func:`gridmap.incidents.service.report_incident`, an incident of the alarm's event class at
the device's place (so in its grid). A partial unique index allows one unended episode per
device and alarm type: two consumers raising the same alarm at once open one incident. An
alarm that goes **off** is marked cleared and a note says so on the incident; if it goes on
again while the incident is still open, a note says that too and no second incident opens.
Once the incident is finished (closed or rejected), the episode ends, and the next time the
alarm goes on a new incident opens. An alarm that stays on is one episode: only a change
from off to on raises it.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Iterable, Mapping

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.audit import Actor, acting_as, record
from gridmap.auth.scope import Scope
from gridmap.devices.taxonomy import alarm_classes, device_types
from gridmap.errors import GridmapError
from gridmap.i18n import render
from gridmap.incidents.service import note_incident, report_incident
from gridmap.incidents.stages import FINAL

if TYPE_CHECKING:
    from gridmap.devices.telemetry import BatchResult

log = logging.getLogger("gridmap.devices")
ACTOR = Actor("system", "devices")
SCOPE = Scope("system:devices", "device_alarms", None, None, None, True)
LOW_BATTERY = "low_battery"
OFFLINE = "offline"


def alarms_on(alarms: Mapping, battery: float | None, *, known: Iterable[str],
              low_battery_percent: float) -> set[str]:
    """The alarm types a state turns on: known flags that are true, and low battery."""
    on = {name for name in known if alarms.get(name) is True}
    if battery is not None and battery < low_battery_percent:
        on.add(LOW_BATTERY)
    return on


def apply_changes(session: Session, batch: "BatchResult", *, low_battery_percent: float,
                  data_dir: str, now: dt.datetime) -> None:
    """Raise and clear the alarms whose state the batch changed (only devices whose state
    moved on are looked at: a batch without alarm changes costs nothing here)."""
    known = set(alarm_classes(data_dir)) - {LOW_BATTERY, OFFLINE}
    with acting_as(ACTOR):
        for change in batch.changes:
            before = alarms_on(change.old_alarms, change.old_battery, known=known,
                               low_battery_percent=low_battery_percent)
            after = alarms_on(change.new_alarms, change.new_battery, known=known,
                              low_battery_percent=low_battery_percent)
            for alarm in sorted(after - before):
                raise_alarm(session, change.device_id, alarm, at=change.event_time,
                            data_dir=data_dir)
            for alarm in sorted(before - after):
                clear_alarm(session, change.device_id, alarm, at=change.event_time,
                            data_dir=data_dir)
        for device_id, at in batch.back_online:
            _note_open_episode(session, device_id, OFFLINE, at, data_dir, "cleared")


_OPEN_EPISODE = text("""
    select a.id, a.active, a.incident_id, i.stage
    from device_alarm a left join incident i on i.id = a.incident_id
    where a.device_id = :device and a.alarm_type = :alarm and a.ended_at is null
    for update of a
""")
_NEW_EPISODE = text("""
    insert into device_alarm (device_id, alarm_type, active, raised_at)
    values (:device, :alarm, true, :at)
    on conflict (device_id, alarm_type) where ended_at is null do nothing
    returning id
""")


def raise_alarm(session: Session, device_id: str, alarm: str, *, at: dt.datetime,
                data_dir: str) -> int | None:
    """Turn ``alarm`` on for the device; return the id of the incident it opened, or None
    when an open incident already covers it (or the device has no place yet)."""
    with acting_as(ACTOR):
        episode = session.execute(_OPEN_EPISODE, {"device": device_id, "alarm": alarm}).first()
        if episode is not None and episode.stage is not None and episode.stage in {
                s.value for s in FINAL}:
            session.execute(text("update device_alarm set ended_at = :at where id = :id"),
                            {"at": at, "id": episode.id})
            episode = None
        if episode is not None:
            if not episode.active:
                session.execute(text("update device_alarm set active = true, cleared_at = null "
                                     "where id = :id"), {"id": episode.id})
                _note(session, episode.incident_id, alarm, at, data_dir, "raised again")
            return None
        new = session.execute(_NEW_EPISODE, {"device": device_id, "alarm": alarm,
                                             "at": at}).scalar()
        if new is None:
            return None  # another consumer opened it meanwhile (and its incident)
        incident_id = _open_incident(session, device_id, alarm, at, data_dir)
        session.execute(text("update device_alarm set incident_id = :i where id = :id"),
                        {"i": incident_id, "id": new})
        record(session, action="alarm", table="device_alarm", key=f"{device_id}/{alarm}",
               after={"incident": incident_id, "at": at.isoformat()})
        return incident_id


def _open_incident(session: Session, device_id: str, alarm: str, at: dt.datetime,
                   data_dir: str) -> int | None:
    device = session.execute(text(
        "select type, name, ST_X(location) as lon, ST_Y(location) as lat from device "
        "where id = :id"), {"id": device_id}).one()
    named = alarm_classes(data_dir).get(alarm)
    if device.lon is None or named is None:
        log.warning("alarm %s of device %s opens no incident: %s", alarm, device_id,
                    "no event class for it in device_alarms.csv" if named is None
                    else "the device has no place yet")
        return None
    kind = device_types(data_dir).get(device.type)
    description = (f"{named.name_zh}：{kind.name_zh if kind else device.type} "
                   f"{device.name or ''}（设备 {device_id}）".replace("  ", " "))
    try:
        with session.begin_nested():
            incident = report_incident(session, SCOPE, class_code=named.event_class,
                                       lon=device.lon, lat=device.lat,
                                       description=description, now=at)
    except GridmapError as exc:  # e.g. the city's taxonomy lacks the class: keep ingesting
        log.error("alarm %s of device %s opens no incident: %s", alarm, device_id,
                  render(str(exc)))
        return None
    log.info("alarm %s of device %s opened incident %s", alarm, device_id, incident.id)
    return incident.id


def clear_alarm(session: Session, device_id: str, alarm: str, *, at: dt.datetime,
                data_dir: str) -> None:
    """Turn ``alarm`` off for the device and note it on the open incident."""
    _note_open_episode(session, device_id, alarm, at, data_dir, "cleared")


def _note_open_episode(session: Session, device_id: str, alarm: str, at: dt.datetime,
                       data_dir: str, what: str) -> None:
    with acting_as(ACTOR):
        episode = session.execute(_OPEN_EPISODE, {"device": device_id, "alarm": alarm}).first()
        if episode is None:
            return
        if episode.active or alarm == OFFLINE:
            session.execute(text("update device_alarm set active = false, cleared_at = :at "
                                 "where id = :id"), {"at": at, "id": episode.id})
            record(session, action="alarm_cleared", table="device_alarm",
                   key=f"{device_id}/{alarm}", after={"at": at.isoformat()})
            if episode.stage not in {s.value for s in FINAL}:
                _note(session, episode.incident_id, alarm, at, data_dir, what)


_WORDS = {"cleared": ("已解除", "cleared"), "raised again": ("再次报警", "raised again")}


def _note(session: Session, incident_id: int | None, alarm: str, at: dt.datetime,
          data_dir: str, what: str) -> None:
    if incident_id is None:
        return
    named = alarm_classes(data_dir).get(alarm)
    zh, en = _WORDS[what]
    comment = (f"{named.name_zh if named else alarm}{zh} / {named.name_en if named else alarm} "
               f"{en} ({at.isoformat()})")
    note_incident(session, SCOPE, incident_id, comment, now=at)


_OFFLINE_CANDIDATES = text("""
    select d.id, d.last_seen from device d
    where d.status = 'active' and coalesce(d.last_seen, d.registered_at) < :before
      and not exists (select 1 from device_alarm a where a.device_id = d.id
                      and a.alarm_type = 'offline' and a.ended_at is null and a.active)
    order by d.id
    limit :limit
""")


def check_offline(session: Session, *, now: dt.datetime, offline_minutes: int,
                  data_dir: str, limit: int = 1000) -> list[str]:
    """Raise the offline alarm of every active device silent for longer than
    ``offline_minutes`` (never seen: since it was registered); return their ids."""
    before = now - dt.timedelta(minutes=offline_minutes)
    found = session.execute(_OFFLINE_CANDIDATES, {"before": before, "limit": limit}).all()
    for device_id, _ in found:
        raise_alarm(session, device_id, OFFLINE, at=now, data_dir=data_dir)
    return [device_id for device_id, _ in found]
