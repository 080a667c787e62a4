"""Tiles and TileJSON over HTTP: headers, conditional requests, bad addresses, and scope —
a caller sees only what their scope reaches, also when another scope's tile is cached."""
from __future__ import annotations

import mapbox_vector_tile
import pytest
import requests
from sqlalchemy import text

from gridmap.db import session_scope
from gridmap.tiles.tilemath import MAX_ZOOM, tile_of
from tests.conftest import sign_in


def _grid_point(url: str, code: str | None = None) -> tuple[float, float]:
    with session_scope(url) as session:
        return tuple(session.execute(text(
            "select ST_X(p), ST_Y(p) from (select (ST_MaximumInscribedCircle(geom)).center p "
            "from grid where valid_to is null and (cast(:code as text) is null or code = :code) "
            "order by code limit 1) g"), {"code": code}).one())


def test_a_tile_carries_its_type_tag_and_answers_304_when_unchanged(world):
    lon, lat = _grid_point(world.url)
    x, y = tile_of(lon, lat, 15)
    path = f"/tiles/grids/15/{x}/{y}.mvt"
    answer = world.get(path)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert answer.headers["Cache-Control"] == "private, no-cache"
    assert "X-API-Key" in answer.headers["Vary"]
    etag = answer.headers["ETag"]
    again = world.get(path, 1, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    assert world.get(path, 1, **{"If-None-Match": '"other"'}).status_code == 200
    # stored and sent gzipped to clients that take it; as it is to others, under its own tag
    assert answer.headers["Content-Encoding"] == "gzip"
    plain = world.get(path, 1, **{"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.content == answer.content
    assert plain.headers["ETag"] != etag
    assert world.get(path, 1, **{"Accept-Encoding": "identity",
                                 "If-None-Match": plain.headers["ETag"]}).status_code == 304
    decoded = mapbox_vector_tile.decode(answer.content)
    assert decoded["grids"]["features"]
    props = decoded["grids"]["features"][0]["properties"]
    # what the map draws with and shows on a tap; not what it does not use (export-only)
    assert {"id", "kind", "load", "code", "label_x", "label_y", "community_name",
            "area_m2"} <= set(props)
    assert "community_code" in props and "label_point" not in props


def test_below_a_layers_min_zoom_a_tile_is_empty(world):
    lon, lat = _grid_point(world.url)
    x, y = tile_of(lon, lat, 12)
    answer = world.get(f"/tiles/buildings/12/{x}/{y}.mvt")
    assert answer.status_code == 200 and answer.content == b""


@pytest.mark.parametrize("path, status, names", [
    ("/tiles/nope/1/0/0.mvt", 404, "layers are"),
    ("/tiles/grids/19/0/0.mvt", 400, "zoom 19"),
    ("/tiles/grids/3/8/0.mvt", 400, "tile x 8"),
    ("/tiles/grids/3/0/8.mvt", 400, "tile y 8"),
    ("/tiles/grids/z/0/0.mvt", 400, "tile z 'z'"),
    ("/tiles/grids/1/0/0.png", 404, "/tiles/LAYER/Z/X/Y.mvt"),
    ("/tiles/grids/1/0.mvt", 404, "/tiles/LAYER/Z/X/Y.mvt"),
    ("/tiles/nope.json", 404, "layers are"),
    ("/tiles/grids/99999999999/0/0.mvt", 400, "tile z"),
])
def test_a_bad_address_is_a_json_error_naming_what_is_allowed(world, path, status, names):
    answer = world.get(path)
    assert answer.status_code == status
    assert set(answer.json()) == {"error", "detail"} and names in answer.json()["detail"]


def test_a_stranger_gets_401_json_not_the_login_page(world):
    answer = requests.get(world.bases[0] + "/tiles/grids/1/0/0.mvt", allow_redirects=False,
                          timeout=10)
    assert answer.status_code == 401 and set(answer.json()) == {"error", "detail"}


def test_tilejson_names_the_tiles_zooms_bounds_and_fields(world):
    answer = world.get("/tiles/buildings.json")
    assert answer.status_code == 200
    doc = answer.json()
    assert doc["tilejson"] == "3.0.0" and doc["scheme"] == "xyz"
    assert doc["tiles"] == [world.bases[0] + "/tiles/buildings/{z}/{x}/{y}.mvt"]
    assert (doc["minzoom"], doc["maxzoom"]) == (14, MAX_ZOOM)
    west, south, east, north = doc["bounds"]
    lon, lat = _grid_point(world.url)
    assert west < lon < east and south < lat < north
    (layer,) = doc["vector_layers"]
    assert layer["id"] == "buildings" and set(layer["fields"]) == {
        "id", "grid_code", "name", "use", "households", "floors"}


def _codes(response) -> set[str]:
    decoded = mapbox_vector_tile.decode(response.data) if response.data else {}
    return {str(f["properties"].get("code") or f["properties"].get("grid_code"))
            for layer in decoded.values() for f in layer["features"]}


@pytest.mark.parametrize("layer", ["grids", "buildings"])
def test_a_worker_sees_only_their_grid_even_when_everything_is_cached(app, people, layer):
    """The administrator's tile (everything) is cached first; the worker's, then, is their
    own: the cache is keyed by scope."""
    worker = people["t-worker-a"]
    (_, grid_a), = worker.scopes
    lon, lat = _grid_point(app.config["GRIDMAP"]["database_url"], grid_a)
    x, y = tile_of(lon, lat, 15)
    path = f"/tiles/{layer}/15/{x}/{y}.mvt"
    admin = app.test_client()
    sign_in(admin, "t-admin")
    admin.get(path)
    everything = admin.get(path)
    assert everything.headers["X-Tile-Cache"] == "hit"
    assert len(_codes(everything)) > 1 and grid_a in _codes(everything)
    client = app.test_client()
    sign_in(client, worker.login)
    mine = client.get(path)
    assert mine.status_code == 200 and _codes(mine) == {grid_a}
    assert client.get(path).headers["X-Tile-Cache"] == "hit"
    assert _codes(client.get(path)) == {grid_a}
