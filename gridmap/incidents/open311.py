"""Open311 GeoReport v2 over the incidents: event classes as services, incidents as service
requests (http://wiki.open311.org/GeoReport_v2).

Open311 knows two states: the six stages map to ``open`` (reported, registered, dispatched,
handled, verified, deferred) and ``closed`` (closed, rejected), with the detailed stage in
``status_notes``. ``agency_responsible`` is the department a case was dispatched to,
``expected_datetime`` its deadline. A request needs a location (``lat``/``long``); an address
alone cannot be placed in a grid and is refused. Reading is public, as Open311 expects;
submitting needs a key that names the ``open311`` service (:data:`gridmap.auth.keys.SERVICES`).
"""
from __future__ import annotations

import datetime as dt

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gridmap.errors import InvalidInput, NotFound
from gridmap.i18n import msg
from gridmap.incidents.stages import FINAL, Stage
from gridmap.models.incident import Department, EventClass, Incident

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-04T00:00:00+08:00"
MAX_REQUESTS = 1000
#: How each stage reads in ``status_notes`` (zh, en).
STAGE_NOTES = {
    Stage.REPORTED: ("已上报，待立案", "reported, waiting to be registered"),
    Stage.REGISTERED: ("已立案，待派遣", "registered, waiting to be dispatched"),
    Stage.DISPATCHED: ("已派遣，处置中", "dispatched, being handled"),
    Stage.HANDLED: ("已处置，待核查", "handled, waiting for verification on site"),
    Stage.VERIFIED: ("已核查，待结案", "verified, waiting to be closed"),
    Stage.CLOSED: ("已结案", "closed"),
    Stage.REJECTED: ("不予立案", "rejected: not a case"),
    Stage.DEFERRED: ("挂账，暂缓处置", "deferred: handling postponed with approval"),
}


def status_of(stage: str) -> str:
    """``open`` or ``closed``."""
    return "closed" if Stage(stage) in FINAL else "open"


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def services(session: Session, *, chinese: bool) -> list[dict]:
    """Every loaded event class as an Open311 service."""
    return [{"service_code": c.code,
             "service_name": c.name_zh if chinese else c.name_en,
             "description": (f"{c.major_zh} / {c.name_zh}" if chinese
                             else f"{c.major_en} / {c.name_en}"),
             "metadata": False, "type": "realtime",
             "keywords": c.major_zh if chinese else c.major_en,
             "group": c.major_zh if chinese else c.major_en}
            for c in session.execute(select(EventClass).order_by(EventClass.code)).scalars()]


def service_definition(session: Session, code: str) -> dict:
    """The definition of one service: no extra attributes beyond the request's own."""
    if session.get(EventClass, code) is None:
        raise NotFound(msg("service {code!r} does not exist", code=code[:20]))
    return {"service_code": code, "attributes": []}


def as_request(session: Session, incident: Incident, *, chinese: bool) -> dict:
    """One incident as an Open311 service request."""
    event_class = session.get(EventClass, incident.class_code)
    department = session.get(Department, incident.department_code) \
        if incident.department_code else None
    updated = max((step.at for step in incident.steps), default=None)
    point = to_shape(incident.location)
    zh, en = STAGE_NOTES[Stage(incident.stage)]
    return {
        "service_request_id": str(incident.id),
        "status": status_of(incident.stage),
        "status_notes": f"{incident.stage}: {zh if chinese else en}",
        "service_name": event_class.name_zh if chinese else event_class.name_en,
        "service_code": incident.class_code,
        "description": incident.description,
        "agency_responsible": None if department is None
        else (department.name_zh if chinese else department.name_en),
        "service_notice": None,
        "requested_datetime": _iso(incident.reported_at),
        "updated_datetime": _iso(updated),
        "expected_datetime": _iso(incident.deadline),
        "address": None, "address_id": None, "zipcode": None,
        "lat": point.y, "long": point.x, "media_url": None,
    }


def find_requests(session: Session, *, ids: list[int] | None = None,
                  service_codes: list[str] | None = None, statuses: list[str] | None = None,
                  start: dt.datetime | None = None, end: dt.datetime | None = None,
                  limit: int = MAX_REQUESTS) -> list[Incident]:
    """Incidents matching the GeoReport v2 query parameters, newest first."""
    query = select(Incident).options(selectinload(Incident.steps)) \
        .order_by(Incident.reported_at.desc(), Incident.id.desc())
    if ids is not None:
        query = query.where(Incident.id.in_(ids))
    if service_codes:
        query = query.where(Incident.class_code.in_(service_codes))
    if statuses:
        unknown = set(statuses) - {"open", "closed"}
        if unknown:
            raise InvalidInput(msg("status {value!r}: expected open or closed",
                                   value=sorted(unknown)[0][:20]))
        closed = [s.value for s in FINAL]
        if statuses == ["open"]:
            query = query.where(Incident.stage.not_in(closed))
        elif statuses == ["closed"]:
            query = query.where(Incident.stage.in_(closed))
    if start is not None:
        query = query.where(Incident.reported_at >= start)
    if end is not None:
        query = query.where(Incident.reported_at <= end)
    return list(session.execute(query.limit(limit)).scalars())
