"""Open311 GeoReport v2 at ``/open311/v2/`` (JSON and XML by the path's extension).

The views parse the spec's parameters and call :mod:`gridmap.incidents.open311` and
:mod:`gridmap.incidents.service`. Reading is public; ``POST requests`` needs the ``api_key``
parameter of a key that names the ``open311`` service. Errors take the spec's form,
``[{"code": 400, "description": "…"}]`` (or ``<errors>`` in XML), through the app's one
error handler.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import xml.etree.ElementTree as ET

from flask import Blueprint, Response, jsonify, request
from flask_babel import get_locale

from gridmap.audit import Actor, acting_as
from gridmap.auth.keys import service_key
from gridmap.auth.scope import Scope
from gridmap.errors import InvalidInput, NotFound
from gridmap.i18n import msg
from gridmap.incidents import open311
from gridmap.incidents.service import report_incident
from gridmap.models.incident import EventClass, Incident
from webapp.auth import access, credential_in_body
from webapp.database import get_session

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
_FORMAT = "<any(json, xml):fmt>"
_IDS = re.compile(r"[0-9]{1,9}(,[0-9]{1,9}){0,99}")
_CODES = re.compile(r"[0-9]{4}(,[0-9]{4}){0,99}")


def _chinese() -> bool:
    return str(get_locale() or "zh").startswith("zh")


def _xml(root: str, item: str | None, content) -> Response:
    """``content`` (a dict, or a list of dicts each an ``item``) as the spec's XML."""
    top = ET.Element(root)

    def fill(parent, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                fill(ET.SubElement(parent, key), inner)
        elif isinstance(value, list):
            for inner in value:
                fill(ET.SubElement(parent, item or "item"), inner)
        elif value is not None:
            parent.text = str(value).lower() if isinstance(value, bool) else str(value)

    fill(top, content)
    body = ET.tostring(top, encoding="unicode", xml_declaration=True)
    return Response(body, mimetype="text/xml")


def _answer(fmt: str, root: str, item: str | None, content, status: int = 200):
    response = _xml(root, item, content) if fmt == "xml" else jsonify(content)
    response.status_code = status
    return response


def error_response(status: int, description: str) -> Response:
    """An error as GeoReport v2 gives it (the app's error handler calls this for /open311)."""
    fmt = "xml" if request.path.endswith(".xml") else "json"
    return _answer(fmt, "errors", "error", [{"code": status, "description": description}],
                   status)


@bp.get(f"/discovery.{_FORMAT}")
@access("public")
def discovery(fmt: str):
    base = request.url_root.rstrip("/") + bp.url_prefix + "/"
    content = {"changeset": open311.CHANGESET, "contact": "gridmap",
               "key_service": "an administrator issues keys (gridmap apikey add --collections "
                              "open311)",
               "endpoints": [{"specification": open311.SPECIFICATION, "url": base,
                              "changeset": open311.CHANGESET, "type": "production",
                              "formats": ["application/json", "text/xml"]}]}
    if fmt == "xml":
        content["endpoints"] = [{**e, "formats": [{"format": f} for f in e["formats"]]}
                                for e in content["endpoints"]]
        return _xml("discovery", "endpoint", content)
    return jsonify(content)


@bp.get(f"/services.{_FORMAT}")
@access("public")
def services(fmt: str):
    return _answer(fmt, "services", "service",
                   open311.services(get_session(), chinese=_chinese()))


@bp.get(f"/services/<code>.{_FORMAT}")
@access("public")
def service(code: str, fmt: str):
    return _answer(fmt, "service_definition", "attribute",
                   open311.service_definition(get_session(), code))


def _date(name: str) -> dt.datetime | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(msg("{name} {raw!r}: expected an ISO 8601 time such as "
                               "2026-12-04T09:00:00+08:00", name=name, raw=raw[:40])) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _listed(name: str, pattern: re.Pattern) -> list[str] | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if not pattern.fullmatch(raw):
        raise InvalidInput(msg("{name} {raw!r}: expected values separated by commas",
                               name=name, raw=raw[:40]))
    return raw.split(",")


@bp.get(f"/requests.{_FORMAT}")
@access("public")
def requests_(fmt: str):
    session = get_session()
    ids = _listed("service_request_id", _IDS)
    statuses = request.args.get("status")
    found = open311.find_requests(
        session, ids=None if ids is None else [int(i) for i in ids],
        service_codes=_listed("service_code", _CODES),
        statuses=None if statuses is None else statuses.split(","),
        start=_date("start_date"), end=_date("end_date"))
    return _answer(fmt, "service_requests", "request",
                   [open311.as_request(session, i, chinese=_chinese()) for i in found])


@bp.get(f"/requests/<int(max=2147483647):request_id>.{_FORMAT}")
@access("public")
def request_(request_id: int, fmt: str):
    session = get_session()
    incident = session.get(Incident, request_id)
    if incident is None:
        raise NotFound(msg("service request {id} does not exist", id=request_id))
    return _answer(fmt, "service_requests", "request",
                   [open311.as_request(session, incident, chinese=_chinese())])


def _coordinate(name: str, low: float, high: float) -> float:
    raw = request.form.get(name)
    try:
        value = float(raw) if raw is not None else math.nan
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and low <= value <= high):
        if raw is None and request.form.get("address_string"):
            raise InvalidInput(msg("lat and long are required: an address alone cannot be "
                                   "placed in a grid"))
        raise InvalidInput(msg("{name} {raw!r}: expected a number from {low:g} to {high:g}",
                               name=name, raw=(raw or "")[:40], low=low, high=high))
    return value


@bp.post(f"/requests.{_FORMAT}")
@access("public")
@credential_in_body
def submit(fmt: str):
    """Create a service request (an incident in stage reported) with the spec's form
    parameters: api_key, service_code, lat, long, description."""
    session = get_session()
    key = service_key(session, request.form.get("api_key") or "", "open311")
    code = request.form.get("service_code") or ""
    event_class = session.get(EventClass, code) if re.fullmatch(r"[0-9]{4}", code) else None
    if event_class is None:
        raise InvalidInput(msg("service_code {code!r}: expected one of services.{fmt}",
                               code=code[:20], fmt=fmt))
    lat, lon = _coordinate("lat", -90, 90), _coordinate("long", -180, 180)
    description = (request.form.get("description") or "").strip() or event_class.name_zh
    with acting_as(Actor("api_key", f"{key.agency} ({key.prefix})", request.remote_addr)):
        incident = report_incident(session, Scope.for_service_client(key.prefix),
                                   class_code=code, lon=lon, lat=lat,
                                   description=description)
    session.commit()
    return _answer(fmt, "service_requests", "request",
                   [{"service_request_id": str(incident.id),
                     "service_notice": None, "account_id": None}])
