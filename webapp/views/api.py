"""JSON API: the hierarchy as GeoJSON, and every map layer by bbox."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from gridmap import codes as gcodes
from gridmap.errors import InvalidInput, NotFound, SchemaOutdated
from gridmap.i18n import msg
from gridmap.schema import schema_status
from layers import LayerQuery, get_layer
from webapp import params
from webapp.auth import access, caller_scope
from webapp.database import get_session

bp = Blueprint("api", __name__, url_prefix="/api")

_HIERARCHY_FILTERS = {"community": 12, "street": 9, "district": 6}


def _layers():
    return current_app.extensions["gridmap_layers"]


def _hierarchy_filter() -> dict[str, str]:
    """The one of community/street/district given, checked for form and existence."""
    given = {k: v for k in _HIERARCHY_FILTERS if (v := params.single(k))}
    if len(given) != 1:
        raise InvalidInput(msg("give exactly one of community=CODE (12 digits), street=CODE (9) "
                               "or district=CODE (6)"))
    (level, code), = given.items()
    gcodes.check_division_code(code, level)  # ASCII digits only: not ４２０１１１
    # The table name comes from the fixed keys above, never from the request.
    found = get_session().execute(text(f"select 1 from {level} where code = :c"),
                                  {"c": code}).scalar()
    if not found:
        raise NotFound(msg("{level} {code} is not loaded", level=level, code=code))
    return given


@bp.get("/districts")
@access("reader")
def districts():
    layer = get_layer(_layers(), "districts")
    return jsonify(layer.query(get_session(), LayerQuery(limit=params.limit()),
                               scope=caller_scope()))


@bp.get("/grids")
@access("reader")
def grids():
    """Grids of a community, street or district; with ``at=YYYY-MM-DD&lon=…&lat=…`` the grid
    that held that place on that day."""
    date = params.single("at")
    if date is not None:
        from webapp.views.plans import grid_on_date

        return grid_on_date(date)
    query = LayerQuery(bbox=LayerQuery.parse_bbox(params.single("bbox")),
                       filters=_hierarchy_filter(), limit=params.limit())
    return jsonify(get_layer(_layers(), "grids").query(get_session(), query,
                                                            scope=caller_scope()))


@bp.get("/grids/<code>")
@access("reader")
def grid(code: str):
    gcodes.parse(code)  # a malformed code is a 400 naming the bad part
    try:
        return jsonify(get_layer(_layers(), "grids").get(get_session(), code,
                                                         scope=caller_scope()))
    except NotFound:
        raise NotFound(msg("no active grid has code {code}", code=code)) from None


@bp.get("/layers")
@access("reader")
def layers():
    """The layers the caller may read."""
    scope = caller_scope()
    return jsonify([layer.describe() for layer in _layers().values()
                    if scope.allows_collection(layer.name)])


@bp.get("/layers/<name>/features")
@access("reader")
def layer_features(name: str):
    layer = get_layer(_layers(), name)
    return jsonify(layer.query(get_session(), params.feature_query(), scope=caller_scope()))


@bp.get("/layers/<name>/labels")
@access("reader")
def layer_labels(name: str):
    """Where the map writes each feature's label, with the fields the label reads (a layer
    drawn from vector tiles is labelled from these, once a feature)."""
    layer = get_layer(_layers(), name)
    return jsonify(layer.labels(get_session(), params.feature_query(), scope=caller_scope()))


@bp.get("/layers/<name>/features/<feature_id>")
@access("reader")
def layer_feature(name: str, feature_id: str):
    return jsonify(get_layer(_layers(), name).get(get_session(), feature_id,
                                                  scope=caller_scope()))


@bp.get("/health")
@access("public")
def health():
    """200 when the database answers and its schema is the code's; 503 saying what is not."""
    status = schema_status(get_session(check_schema=False))
    problem = status.problem()
    if problem:
        raise SchemaOutdated(problem, schema=status.as_dict())
    return jsonify({"status": "ok", "database": "reachable", "schema": status.as_dict()})
