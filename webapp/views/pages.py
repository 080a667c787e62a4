"""HTML pages: the map.

The map's URL says what it shows — ``?district=…&street=…&community=…`` (any prefix of the
path; each code must extend the one before) and ``map=zoom/lat/lon`` — so a view can be
shared. Malformed values are a 400 page and a unit that is not loaded a 404 page, each saying
what was received and what was expected.
"""
from __future__ import annotations

import math

from flask import Blueprint, current_app, render_template, request
from flask_wtf.csrf import generate_csrf

from gridmap import units
from gridmap.errors import InvalidInput
from gridmap.i18n import msg
from gridmap.incidents.stages import REPORT_CAPABILITY
from webapp.auth import access, caller_scope
from webapp.database import get_session

bp = Blueprint("pages", __name__)

MAX_ZOOM = 22


def parse_view(raw: str | None) -> list[float] | None:
    """``zoom/lat/lon`` → ``[zoom, lat, lon]``; ``None`` when absent."""
    if not raw:
        return None
    parts = raw.split("/")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 3 or not all(math.isfinite(v) for v in values) \
            or not 0 <= values[0] <= MAX_ZOOM or not -90 <= values[1] <= 90 \
            or not -180 <= values[2] <= 180:
        raise InvalidInput(msg("map {raw!r}: expected zoom/lat/lon, zoom 0–{max_zoom}, lat "
                               "−90…90, lon −180…180, e.g. map=16/30.5077/114.3951", raw=raw,
                               max_zoom=MAX_ZOOM))
    return values


def route_grids(scope) -> list[str]:
    """The grids whose route the map offers at once: a grid worker's own (others choose the
    grid shown or tapped)."""
    return [] if scope.units is None else sorted(scope.units["grid"])


def default_unit(scope) -> str | None:
    """Where a person whose scope is one division opens the map: that unit (a grid worker's
    community, a community admin's community, a planner's street or district)."""
    if scope.divisions is not None and len(scope.divisions) == 1:
        return next(iter(scope.divisions))
    return None


@bp.get("/")
@access("person")
def map_page():
    scope = caller_scope()
    code = units.resolve_selection(request.args.get("district"), request.args.get("street"),
                                   request.args.get("community"))
    view = parse_view(request.args.get("map"))
    if code is None and view is None:
        code = default_unit(scope)
    if code is not None:
        # a unit that is not loaded is a 404 page, one outside the scope a 403 page
        units.browse(get_session(), code, scope)
    layers = [layer.describe() for layer in current_app.extensions["gridmap_layers"].values()
              if scope.allows_collection(layer.name)]
    # the editor's requests carry the CSRF token; the server checks who may edit what
    return render_template("map.html", config={"layers": layers, "unit": code, "view": view,
                                               "may_plan": scope.may("plan"),
                                               "may_report": scope.may(REPORT_CAPABILITY),
                                               "route_grids": route_grids(scope),
                                               "may_visit": scope.may("route.visit"),
                                               "csrf": generate_csrf()})
