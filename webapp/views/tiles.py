"""Vector tiles: ``/tiles/<layer>/<z>/<x>/<y>.mvt`` and a TileJSON per layer at
``/tiles/<layer>.json``, cut to the caller's scope; rendering and the shared cache live in
:mod:`gridmap.tiles` and :mod:`layers.tiles`.

Tiles answer ``Cache-Control: private, no-cache`` with an ``ETag``: a browser keeps them and
asks again on every use, and an unchanged tile is a ``304`` without a body. They are stored
gzipped and sent so to clients that accept it (``Content-Encoding: gzip``). ``X-Tile-Cache``
says whether the server's cache had it (``hit``), rendered it (``miss``) or never caches this
layer (``off``).
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import text

from gridmap import tiles
from gridmap.tiles.tilemath import MAX_ZOOM
from layers import get_layer
from layers.tiles import tile_fields
from webapp.auth import access, caller_scope
from webapp.database import get_session

bp = Blueprint("tiles", __name__, url_prefix="/tiles")

MEDIA_TYPE = "application/vnd.mapbox-vector-tile"


def _layers():
    return current_app.extensions["gridmap_layers"]


def _cached_layers(session) -> frozenset[str]:
    """The layers with invalidation triggers, read once per process (the schema's, not
    data)."""
    known = current_app.extensions.get("gridmap_cached_tile_layers")
    if known is None:
        known = tiles.cached_layers(session)
        current_app.extensions["gridmap_cached_tile_layers"] = known
    return known


@bp.get("/<name>/<z>/<x>/<y>.mvt")
@access("reader")
def tile(name: str, z: str, x: str, y: str):
    layer = get_layer(_layers(), name)
    address = tiles.TileAddress.parse(z, x, y)
    scope = caller_scope()
    session = get_session()
    sql, params = layer.tile_query(address, scope)  # 403 when the collection is not reached
    if address.z < int(layer.definition.get("min_zoom") or 0):
        result = tiles.Tile(b"", "empty", False)  # nothing to draw at this zoom
        cacheable = False
    else:
        settings = current_app.config["GRIDMAP"]
        cacheable = (settings["tile_cache"]
                     and name in _cached_layers(session))
        key = tiles.scope_key(scope, public=getattr(layer, "scope_kind", "") == "public")
        result = tiles.tile(session, name, address, key=key, cacheable=cacheable, sql=sql,
                            params=params, max_bytes=settings["tile_cache_max_mb"] << 20)
        if not result.cached:  # a hit wrote nothing: the session's close ends it
            session.commit()
    gzipped = bool(result.gzipped) and "gzip" in request.headers.get("Accept-Encoding", "")
    etag = f'"{result.etag}"' if gzipped else f'"{result.etag}-identity"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache",
               "Vary": "Cookie, X-API-Key, Accept-Encoding",
               "X-Tile-Cache": "hit" if result.cached else ("miss" if cacheable else "off")}
    if etag in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers=headers)
    if gzipped:
        headers["Content-Encoding"] = "gzip"
        return Response(result.gzipped, mimetype=MEDIA_TYPE, headers=headers)
    return Response(result.body, mimetype=MEDIA_TYPE, headers=headers)


@bp.get("/<name>.json")
@access("reader")
def tilejson(name: str):
    """TileJSON 3.0.0 of one layer: the tile URL, zooms, bounds (of the loaded districts) and
    the fields its tiles carry."""
    layer = get_layer(_layers(), name)
    layer.check_collection(caller_scope())
    extent = get_session().execute(text(
        "select ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
        "from (select ST_Extent(geom) as e from district) d")).one()
    bounds = [-180, -85.0511, 180, 85.0511] if extent[0] is None else [round(v, 6)
                                                                       for v in extent]
    minzoom = int(layer.definition.get("min_zoom") or 0)
    root = request.url_root.rstrip("/")
    response = jsonify({
        "tilejson": "3.0.0",
        "name": layer.title,
        "scheme": "xyz",
        "tiles": [f"{root}/tiles/{name}/{{z}}/{{x}}/{{y}}.mvt"],
        "minzoom": minzoom,
        "maxzoom": MAX_ZOOM,
        "bounds": bounds,
        "center": [round((bounds[0] + bounds[2]) / 2, 6), round((bounds[1] + bounds[3]) / 2, 6),
                   max(minzoom, 14)],
        "vector_layers": [{"id": name, "fields": tile_fields(layer), "minzoom": minzoom,
                           "maxzoom": MAX_ZOOM}],
    })
    response.headers["Cache-Control"] = "private, no-cache"
    return response
