"""Inspection routes over HTTP: a grid's route (``/api/routes/GRID``) as JSON, GeoJSON or GPX,
the visits recorded on it, and each community's service station.

Views parse the request and call :mod:`gridmap.inspection`; the caller's Scope decides which
grids and communities they reach and whether they may record visits (``route.visit``) or set
a station (``route.station``).
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, jsonify

from gridmap.errors import InvalidInput, NotFound
from gridmap.i18n import msg
from gridmap.inspection.due import day_bounds
from gridmap.inspection.output import route_dict, route_geojson, route_gpx
from gridmap.inspection.plan import MAX_DAYS, parse_day, plan_route, today
from gridmap.inspection.stations import get_station, set_station
from gridmap.inspection.visits import list_visits, record_visit
from webapp import params
from webapp.auth import access, caller_scope
from webapp.database import get_session

bp = Blueprint("routes", __name__, url_prefix="/api")
_GRID = "<string(maxlength=40):grid_code>"
_COMMUNITY = "<string(maxlength=12):community>"
FORMATS = ("json", "geojson", "gpx")


def _date() -> dt.date | None:
    return parse_day(params.single("date"), "date")


def _days() -> int:
    raw = params.single("days")
    if raw is None:
        return 1
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3):
        raise InvalidInput(msg("days {value!r}: expected a whole number from 1 to {limit}",
                               value=raw[:20], limit=MAX_DAYS))
    return int(raw)


@bp.get(f"/routes/{_GRID}")
@access("person")
def route(grid_code: str):
    """``?date=YYYY-MM-DD&days=N&format=json|geojson|gpx``: the grid's route for ``days``
    days from ``date`` (default: today, one day)."""
    fmt = params.single("format") or "json"
    if fmt not in FORMATS:
        raise InvalidInput(msg("format {value!r}: expected one of {items}", value=fmt[:20],
                               items=", ".join(FORMATS)))
    session = get_session()
    found = plan_route(session, caller_scope(), grid_code, settings=current_app.config["GRIDMAP"],
                       on=_date(), days=_days())
    session.commit()
    if fmt == "json":
        return jsonify(route_dict(found))
    name = f"route-{found.grid}-{found.days[0].date.isoformat()}"
    if fmt == "geojson":
        response = jsonify(route_geojson(found))
        response.mimetype = "application/geo+json"
    else:
        response = Response(route_gpx(found), mimetype="application/gpx+xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@bp.post(f"/routes/{_GRID}/visits")
@access("person")
def visit(grid_code: str):
    """``{"stop": "building:12", "done_at"?: ISO time, "lon"?, "lat"?, "accuracy_m"?,
    "note"?, "client_id"?}``: 201 with the visit, or 200 with the one already recorded
    under this ``client_id``."""
    session = get_session()
    shown, created = record_visit(session, caller_scope(), grid_code, params.json_object())
    session.commit()
    return jsonify(shown), 201 if created else 200


@bp.get(f"/routes/{_GRID}/visits")
@access("person")
def visits(grid_code: str):
    """``?date=YYYY-MM-DD`` (default today): the grid's visits that day."""
    settings = current_app.config["GRIDMAP"]
    start, end = day_bounds(_date() or today(settings), ZoneInfo(settings["timezone"]))
    return jsonify({"visits": list_visits(get_session(), caller_scope(), grid_code,
                                          since=start, until=end)})


@bp.get(f"/communities/{_COMMUNITY}/station")
@access("person")
def station(community: str):
    if not caller_scope().sees_division(community):
        raise NotFound(msg("community {code} does not exist", code=community))
    return jsonify(get_station(get_session(), community,
                               current_app.config["GRIDMAP"]).as_dict())


@bp.put(f"/communities/{_COMMUNITY}/station")
@access("person")
def place_station(community: str):
    """``{"lon", "lat", "day_minutes"?, "day_start"?: "08:30", "building_days"?}``."""
    body = params.json_object()
    unknown = sorted(set(body) - {"lon", "lat", "day_minutes", "day_start", "building_days"})
    if unknown:
        raise InvalidInput(msg("unknown field {name!r}: expected lon, lat, day_minutes, "
                               "day_start, building_days", name=unknown[0][:30]))
    session = get_session()
    shown = set_station(session, caller_scope(), community, lon=body.get("lon"),
                        lat=body.get("lat"), day_minutes=body.get("day_minutes"),
                        day_start=body.get("day_start"),
                        building_days=body.get("building_days"),
                        settings=current_app.config["GRIDMAP"]).as_dict()
    session.commit()
    return jsonify(shown)
