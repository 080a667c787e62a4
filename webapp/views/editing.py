"""Hand edits of a community's grids over HTTP: ``POST /api/plans/preview`` (the grids after
the edits and their comparison; writes nothing) and ``POST /api/plans/edits`` (keep them as a
draft plan). Both take::

    {"community": CODE, "base_version": N, "plan": ID or absent, "title": "…",
     "edits": [{"op": "split", "grid": KEY, "line": [[lon, lat], …]},
               {"op": "merge", "grids": [KEY, KEY]},
               {"op": "move", "buildings": [ID, …], "to": KEY},
               {"op": "redraw", "grid": KEY, "geometry": GeoJSON polygon}]}

Keys are the grids' codes, ``draft-N`` for the grids of draft ``plan``, and ``new-N`` for
grids an earlier edit made. The request is parsed here into typed edits
(:mod:`gridmap.plans.edits`); who may edit is the rule of drafting (planners and
administrators over the community).
"""
from __future__ import annotations

import math

import shapely
from flask import Blueprint, current_app, jsonify
from shapely.geometry import LineString

from gridmap import codes as gcodes
from gridmap.errors import InvalidInput
from gridmap.i18n import msg
from gridmap.plans.compare import compare_plan
from gridmap.plans.editing import preview_edits, save_edits
from gridmap.plans.edits import Edit, Merge, MoveBuildings, Redraw, Split
from webapp.auth import access
from webapp.database import get_session
from webapp.views.plans import _json_body, _may_plan, _plan_json

bp = Blueprint("editing", __name__, url_prefix="/api/plans")

#: Vertices of one drawn line or shape, and buildings moved by one edit.
MAX_POINTS = 5_000


def _key(value, where: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 40:
        raise InvalidInput(msg("{where}: expected a grid's key (its code, draft-N or new-N)",
                               where=where))
    return value


def _point(value, where: str) -> tuple[float, float]:
    if (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            and all(math.isfinite(v) for v in value)
            and -180 <= value[0] <= 180 and -90 <= value[1] <= 90):
        return float(value[0]), float(value[1])
    raise InvalidInput(msg("{where}: expected [lon, lat] with lon −180…180 and lat −90…90",
                           where=where))


def _polygon(value, where: str):
    try:
        shape = shapely.geometry.shape(value)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError,
            shapely.errors.GEOSException):
        shape = None
    if shape is None or shape.geom_type not in ("Polygon", "MultiPolygon") or shape.is_empty:
        raise InvalidInput(msg("{where}: expected a GeoJSON polygon", where=where))
    coords = shapely.get_coordinates(shape)
    if len(coords) > MAX_POINTS:
        raise InvalidInput(msg("{where}: {count} vertices; expected at most {limit}",
                               where=where, count=len(coords), limit=MAX_POINTS))
    for xy in coords.tolist():
        _point(xy, where)
    return shape


def parse_edit(raw, number: int) -> Edit:
    """One edit of the request, typed; 400 naming the edit and what was expected."""
    where = msg("edit {number}", number=number)
    if not isinstance(raw, dict):
        raise InvalidInput(msg("{where}: expected an object with op", where=where))
    op = raw.get("op")
    if op == "split":
        line = raw.get("line")
        if not isinstance(line, list) or not 2 <= len(line) <= MAX_POINTS:
            raise InvalidInput(msg("{where}: line: expected 2 to {limit} points [lon, lat]",
                                   where=where, limit=MAX_POINTS))
        return Split(_key(raw.get("grid"), where),
                     LineString([_point(p, where) for p in line]))
    if op == "merge":
        pair = raw.get("grids")
        if not isinstance(pair, list) or len(pair) != 2:
            raise InvalidInput(msg("{where}: grids: expected two keys", where=where))
        return Merge(_key(pair[0], where), _key(pair[1], where))
    if op == "move":
        ids = raw.get("buildings")
        if (not isinstance(ids, list) or not 1 <= len(ids) <= MAX_POINTS
                or not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2 ** 63
                           for i in ids)):
            raise InvalidInput(msg("{where}: buildings: expected a list of building ids",
                                   where=where))
        return MoveBuildings(tuple(ids), _key(raw.get("to"), where))
    if op == "redraw":
        return Redraw(_key(raw.get("grid"), where), _polygon(raw.get("geometry"), where))
    raise InvalidInput(msg("{where}: op {op!r}; expected split, merge, move or redraw",
                           where=where, op=str(op)[:20]))


def _request() -> dict:
    """The body as typed arguments of :func:`preview_edits` / :func:`save_edits`."""
    body = _json_body()
    community = str(body.get("community", ""))
    gcodes.check_division_code(community, "community")
    _may_plan(community)
    base_version = body.get("base_version")
    if isinstance(base_version, bool) or not isinstance(base_version, int) \
            or not 0 <= base_version < 2 ** 31:
        raise InvalidInput(msg("base_version: expected the version of the community's grids "
                               "the edits started from, a whole number (GET "
                               "/api/plans?community=)"))
    plan = body.get("plan")
    if plan is not None and (isinstance(plan, bool) or not isinstance(plan, int)
                             or not 1 <= plan < 2 ** 31):
        raise InvalidInput(msg("plan: expected the id of the draft being edited"))
    edits = body.get("edits")
    if not isinstance(edits, list):
        raise InvalidInput(msg("edits: expected a list of edits"))
    return {"community_code": community, "base_version": base_version, "plan_id": plan,
            "edits": [parse_edit(e, n) for n, e in enumerate(edits, start=1)],
            "title": body.get("title")}


@bp.post("/preview")
@access("person")
def preview():
    args = _request()
    args.pop("title")
    session = get_session()
    preview = preview_edits(session, args.pop("community_code"), args.pop("edits"), **args)
    session.rollback()
    return jsonify(preview.as_dict())


@bp.post("/edits")
@access("person")
def save():
    args = _request()
    title = args.pop("title")
    session = get_session()
    plan = save_edits(session, args.pop("community_code"), args.pop("edits"),
                      title=str(title or "map edits")[:200],
                      tolerance_m=current_app.config["GRIDMAP"]["containment_tolerance_m"],
                      **args)
    comparison = compare_plan(session, plan)
    session.commit()
    return jsonify({**_plan_json(plan), "comparison": comparison.as_dict()}), 201
