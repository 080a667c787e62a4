"""Alarms open one incident per device and alarm type; clearing is noted; a finished incident
lets the next alarm open a new one; two sessions raising at once still open one."""
from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import text

from gridmap.db import session_scope
from gridmap.devices.alarms import check_offline, raise_alarm
from gridmap.devices.telemetry import IncomingMessage, ingest_batch
from tests.devices.conftest import DATA_DIR, now, payload


def _send(url: str, device: str, *messages: bytes) -> None:
    with session_scope(url) as session:
        ingest_batch(session, [IncomingMessage(m, device) for m in messages], max_bytes=8192,
                     low_battery_percent=20, data_dir=DATA_DIR)


def _episodes(url: str, device: str) -> list:
    with session_scope(url) as session:
        return session.execute(text(
            "select a.alarm_type, a.incident_id, a.active, a.ended_at is not null as ended, "
            "i.class_code, i.stage from device_alarm a left join incident i "
            "on i.id = a.incident_id where a.device_id = :d order by a.id"),
            {"d": device}).all()


def _notes(url: str, incident: int) -> list[str]:
    with session_scope(url) as session:
        return list(session.execute(text(
            "select comment from incident_step where incident_id = :i and action = 'note' "
            "order by id"), {"i": incident}).scalars())


def test_smoke_alarm_opens_one_incident_and_its_clearing_is_noted(database_url, devices,
                                                                   place):
    (device,) = devices(1)
    at = now() - dt.timedelta(minutes=10)
    step = dt.timedelta(seconds=10)
    _send(database_url, device, payload("1", at, alarms={"smoke": True}),
          payload("2", at + step, alarms={"smoke": True}))
    _send(database_url, device, payload("3", at + 2 * step, alarms={"smoke": True}))
    (episode,) = _episodes(database_url, device)
    assert (episode.alarm_type, episode.class_code, episode.active) == ("smoke", "0506", True)
    incident = episode.incident_id
    with session_scope(database_url) as session:
        grid = session.execute(text("select g.code from incident i join grid g on "
                                    "g.id = i.reported_grid_id where i.id = :i"),
                               {"i": incident}).scalar()
    assert grid == place[2]
    # a late message from before the alarm changes nothing
    _send(database_url, device, payload("0", at - step, alarms={"smoke": False}))
    assert _notes(database_url, incident) == []
    _send(database_url, device, payload("4", at + 3 * step, alarms={"smoke": False}))
    assert "cleared" in _notes(database_url, incident)[0]
    # on again while the incident is open: noted, no second incident
    _send(database_url, device, payload("5", at + 4 * step, alarms={"smoke": True}))
    assert len(_episodes(database_url, device)) == 1
    assert "raised again" in _notes(database_url, incident)[1]
    # the case is closed; the alarm clears and fires again: a new incident
    with session_scope(database_url) as session:
        session.execute(text("update incident set stage = 'closed' where id = :i"),
                        {"i": incident})
    _send(database_url, device, payload("6", at + 5 * step, alarms={"smoke": False}),)
    _send(database_url, device, payload("7", at + 6 * step, alarms={"smoke": True}))
    episodes = _episodes(database_url, device)
    assert [(e.ended, e.active) for e in episodes] == [(True, False), (False, True)]
    assert episodes[1].incident_id not in (None, incident)


def test_low_battery_and_tamper(database_url, devices):
    (device,) = devices(1, type="access_gate")
    at = now() - dt.timedelta(minutes=5)
    _send(database_url, device, payload("1", at, readings={"battery": 15},
                                        alarms={"tamper": True, "unknown_flag": True}))
    kinds = {(e.alarm_type, e.class_code) for e in _episodes(database_url, device)}
    assert kinds == {("low_battery", "0509"), ("tamper", "0508")}


def test_offline_then_back(database_url, devices):
    (device,) = devices(1)
    at = now() - dt.timedelta(minutes=3)
    _send(database_url, device, payload("1", at))
    later = now() + dt.timedelta(hours=5)
    with session_scope(database_url) as session:
        assert device in check_offline(session, now=later, offline_minutes=60,
                                       data_dir=DATA_DIR, limit=100_000)
    with session_scope(database_url) as session:  # checked again: still one
        assert device not in check_offline(session, now=later, offline_minutes=60,
                                           data_dir=DATA_DIR, limit=100_000)
    (episode,) = _episodes(database_url, device)
    assert (episode.alarm_type, episode.class_code, episode.active) == ("offline", "0510", True)
    _send(database_url, device, payload("2", now()))
    (episode,) = _episodes(database_url, device)
    assert not episode.active and "cleared" in _notes(database_url, episode.incident_id)[0]


def test_two_sessions_raising_at_once_open_one_incident(database_url, devices):
    (device,) = devices(1)
    at = now() - dt.timedelta(minutes=1)
    barrier = threading.Barrier(2)
    opened, errors = [], []

    def raise_it() -> None:
        try:
            with session_scope(database_url) as session:
                session.execute(text("select 1"))
                barrier.wait(5)
                opened.append(raise_alarm(session, device, "smoke", at=at,
                                          data_dir=DATA_DIR))
                if opened[-1] is not None:
                    import time
                    time.sleep(0.5)  # hold the episode uncommitted while the other tries
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=raise_it) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert sorted(opened, key=lambda i: i is None)[1] is None and opened.count(None) == 1
    assert len(_episodes(database_url, device)) == 1
