"""JSON API: the hierarchy as GeoJSON, and every map layer by bbox."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import text

from gridmap import codes as gcodes
from gridmap.errors import InvalidInput, NotFound
from layers import LayerQuery, get_layer
from webapp.database import get_session

bp = Blueprint("api", __name__, url_prefix="/api")

_HIERARCHY_FILTERS = {"community": 12, "street": 9, "district": 6}


def _layers():
    return current_app.extensions["gridmap_layers"]


def _limit() -> int:
    ceiling = current_app.config["GRIDMAP"]["api_max_features"]
    raw = request.args.get("limit", str(ceiling))
    if not raw.isdigit() or not 1 <= int(raw) <= ceiling:
        raise InvalidInput(f"limit {raw!r}: expected a whole number from 1 to {ceiling}")
    return int(raw)


def _hierarchy_filter() -> dict[str, str]:
    """The one of community/street/district given, checked for form and existence."""
    given = {k: request.args[k] for k in _HIERARCHY_FILTERS if request.args.get(k)}
    if len(given) != 1:
        raise InvalidInput("give exactly one of community=CODE (12 digits), street=CODE (9) "
                           "or district=CODE (6)")
    (level, code), = given.items()
    gcodes.check_division_code(code, level)  # ASCII digits only: not ４２０１１１
    table = {"community": "community", "street": "street", "district": "district"}[level]
    found = get_session().execute(text(f"select 1 from {table} where code = :c"),
                                  {"c": code}).scalar()
    if not found:
        raise NotFound(f"{level} {code} is not loaded")
    return given


@bp.get("/districts")
def districts():
    layer = get_layer(_layers(), "districts")
    return jsonify(layer.query(get_session(), LayerQuery(limit=_limit())))


@bp.get("/grids")
def grids():
    query = LayerQuery(bbox=LayerQuery.parse_bbox(request.args.get("bbox")),
                       filters=_hierarchy_filter(), limit=_limit())
    return jsonify(get_layer(_layers(), "grids").query(get_session(), query))


@bp.get("/grids/<code>")
def grid(code: str):
    gcodes.parse(code)  # a malformed code is a 400 naming the bad part
    try:
        return jsonify(get_layer(_layers(), "grids").get(get_session(), code))
    except NotFound:
        raise NotFound(f"no active grid has code {code}") from None


@bp.get("/layers")
def layers():
    return jsonify([layer.describe() for layer in _layers().values()])


@bp.get("/layers/<name>/features")
def layer_features(name: str):
    layer = get_layer(_layers(), name)
    filters = {k: v for k, v in request.args.items() if k not in ("bbox", "limit")}
    query = LayerQuery(bbox=LayerQuery.parse_bbox(request.args.get("bbox")), filters=filters,
                       limit=_limit())
    return jsonify(layer.query(get_session(), query))


@bp.get("/layers/<name>/features/<feature_id>")
def layer_feature(name: str, feature_id: str):
    return jsonify(get_layer(_layers(), name).get(get_session(), feature_id))


@bp.get("/health")
def health():
    get_session().execute(text("select 1"))
    return jsonify({"status": "ok"})
