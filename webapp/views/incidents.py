"""Incidents over HTTP (``/api/incidents…``) and the event taxonomy (``/api/event-classes``).

Views parse the request and call :mod:`gridmap.incidents.service`; the caller's
:class:`~gridmap.auth.scope.Scope` decides what they see (incidents of their grids, or of
their street or district) and which actions they may take (their role's capabilities).
"""
from __future__ import annotations

import math

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select

from gridmap.errors import InvalidInput
from gridmap.i18n import msg
from gridmap.incidents.attachments import Upload, attach, read_attachment
from gridmap.incidents.calendar import load_calendar
from gridmap.incidents.counts import count_open_incidents
from gridmap.incidents.service import (advance_incident, describe, get_incident,
                                       list_incidents, report_incident)
from gridmap.models.incident import Department, EventClass
from gridmap.storage import storage_from_settings
from webapp import params
from webapp.auth import access, caller_scope
from webapp.database import get_session

bp = Blueprint("incidents", __name__, url_prefix="/api")


def _number(body: dict, name: str) -> float:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value):
        raise InvalidInput(msg("{name}: expected a number (CGCS2000 degrees)", name=name))
    return float(value)


def _text(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(msg("{name}: expected text", name=name))
    return value


@bp.get("/event-classes")
@access("reader")
def event_classes():
    session = get_session()
    departments = {d.code: d for d in session.execute(select(Department)).scalars()}
    return jsonify({"event_classes": [
        {"code": c.code, "major": c.code[:2], "major_zh": c.major_zh, "major_en": c.major_en,
         "name_zh": c.name_zh, "name_en": c.name_en, "time_limit_hours": c.time_limit_hours,
         "department": c.department_code,
         "department_zh": departments[c.department_code].name_zh,
         "department_en": departments[c.department_code].name_en}
        for c in session.execute(select(EventClass).order_by(EventClass.code)).scalars()]})


def _flag(name: str) -> bool:
    raw = params.single(name)
    if raw not in (None, "0", "1"):
        raise InvalidInput(msg("{name} {raw!r}: expected 1 or 0", name=name, raw=raw))
    return raw == "1"


@bp.get("/incidents")
@access("person")
def incidents():
    """``?stage=…&overdue=1&open=1&grid=…&limit=…``: incidents in the caller's scope,
    newest first."""
    overdue, open_only = _flag("overdue"), _flag("open")
    session, scope = get_session(), caller_scope()
    found = list_incidents(session, scope, stage=params.single("stage"), overdue=overdue,
                           open_only=open_only, grid=params.single("grid"),
                           limit=params.limit())
    return jsonify({"incidents": [describe(session, i, scope) for i in found]})


@bp.get("/incidents/counts")
@access("person")
def counts():
    """``?unit=CODE``: open and overdue incidents in a district, street, community or grid,
    per grid and per department (with its names), cut to the caller's scope."""
    session = get_session()
    found = count_open_incidents(session, caller_scope(), params.single("unit") or "")
    names = {d.code: d for d in session.execute(select(Department)).scalars()}

    def named(count):
        department = names.get(count.key)
        return {"department": count.key, "open": count.open, "overdue": count.overdue,
                "name_zh": department.name_zh if department else None,
                "name_en": department.name_en if department else None}
    return jsonify({"unit": found.unit, "open": found.open, "overdue": found.overdue,
                    "grids": [{"grid": c.key, "open": c.open, "overdue": c.overdue}
                              for c in found.grids],
                    "departments": [named(c) for c in found.departments]})


def _attach(session, scope, incident_id: int, uploads: list[Upload]) -> None:
    settings = current_app.config["GRIDMAP"]
    attach(session, storage_from_settings(settings), scope, incident_id, uploads,
           max_bytes=settings["attachment_max_kib"] * 1024)


@bp.post("/incidents")
@access("person")
def report():
    """``{"class": "0401", "lon": …, "lat": …, "description": "…"}`` (CGCS2000) as JSON, or
    the same fields as a multipart form with photos: the incident and its photos are one
    transaction (a refused photo leaves no incident)."""
    multipart = request.mimetype == "multipart/form-data"
    body = dict(request.form.items()) if multipart else params.json_object()
    if multipart:  # form fields arrive as text
        for name in ("lon", "lat"):
            try:
                body[name] = float(body.get(name, ""))
            except ValueError:
                pass  # left as text: _number names the field
    session, scope = get_session(), caller_scope()
    incident = report_incident(session, scope, class_code=_text(body, "class") or "",
                               lon=_number(body, "lon"), lat=_number(body, "lat"),
                               description=_text(body, "description") or "")
    if multipart and request.files:
        _attach(session, scope, incident.id, params.uploads())
    shown = describe(session, incident, scope)
    session.commit()
    return jsonify(shown), 201


@bp.post("/incidents/<int(max=2147483647):incident_id>/attachments")
@access("person")
def add_attachments(incident_id: int):
    """Photos of an incident, as a multipart form (any field names; optional ``sha256``
    fields, one per file)."""
    session, scope = get_session(), caller_scope()
    get_incident(session, scope, incident_id)  # 404 outside the scope, whatever was sent
    if request.mimetype != "multipart/form-data":
        raise InvalidInput(msg("expected a multipart/form-data body with the files"))
    _attach(session, scope, incident_id, params.uploads())
    shown = describe(session, get_incident(session, scope, incident_id), scope)
    session.commit()
    return jsonify(shown), 201


@bp.get("/incidents/<int(max=2147483647):incident_id>/attachments/<sha256>")
@access("person")
def attachment(incident_id: int, sha256: str):
    session, scope = get_session(), caller_scope()
    row, data = read_attachment(session,
                                storage_from_settings(current_app.config["GRIDMAP"]),
                                scope, incident_id, sha256)
    response = Response(data, mimetype=row.media_type)
    response.headers["Cache-Control"] = "private, max-age=86400, immutable"
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.get("/incidents/<int(max=2147483647):incident_id>")
@access("person")
def incident(incident_id: int):
    session, scope = get_session(), caller_scope()
    return jsonify(describe(session, get_incident(session, scope, incident_id), scope))


@bp.post("/incidents/<int(max=2147483647):incident_id>/actions")
@access("person")
def act(incident_id: int):
    """``{"action": "register", "comment": "…", "expected_stage": "reported"}``: take an
    action; an action the stage does not allow is a 409 naming the stage and the allowed
    ones, an action the caller's role does not carry a 403."""
    body = params.json_object()
    session, scope = get_session(), caller_scope()
    action = _text(body, "action")
    if not action:
        raise InvalidInput(msg("action: expected the action to take, e.g. register"))
    found = advance_incident(session, scope, incident_id, action,
                             calendar=load_calendar(current_app.config["GRIDMAP"]),
                             comment=_text(body, "comment"),
                             expected_stage=_text(body, "expected_stage"))
    shown = describe(session, found, scope)
    session.commit()
    return jsonify(shown)
