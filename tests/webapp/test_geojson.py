"""Every feature of every demo layer is RFC 7946 GeoJSON that shapely accepts as valid."""
from __future__ import annotations

import pytest
from hypothesis import assume, given, settings, strategies as st
from shapely.geometry import MultiPolygon, Polygon, shape
from sqlalchemy import text

from layers import load_layers
from layers.sql import DECIMALS, geojson_geometry

LAYERS = list(load_layers())


def _rings(geometry):
    depth = {"Polygon": 1, "MultiPolygon": 2, "LineString": 0, "MultiLineString": 1}
    def walk(coords, level):
        if level == 0:
            yield coords
        else:
            for part in coords:
                yield from walk(part, level - 1)
    yield from walk(geometry["coordinates"], depth.get(geometry["type"], -1)) \
        if geometry["type"] in depth else ()


def _decimals(value: float) -> int:
    text_ = repr(value)
    return len(text_.split(".")[1]) if "." in text_ and "e" not in text_ else 0


def check_feature(feature):
    geometry = feature["geometry"]
    assert "crs" not in feature and "crs" not in geometry
    geom = shape(geometry)
    assert not geom.is_empty and geom.is_valid, feature["id"]
    polygons = geom.geoms if isinstance(geom, MultiPolygon) else \
        [geom] if isinstance(geom, Polygon) else []
    for polygon in polygons:
        assert polygon.exterior.is_ccw, feature["id"]
        assert not any(ring.is_ccw for ring in polygon.interiors), feature["id"]
    for ring in _rings(geometry):
        assert all(a != b for a, b in zip(ring, ring[1:])), f"repeated vertex in {feature['id']}"
        assert all(_decimals(c) <= DECIMALS for point in ring for c in point)


@pytest.mark.parametrize("name", LAYERS)
def test_every_feature_of_every_layer(client, name):
    body = client.get(f"/api/layers/{name}/features").get_json()
    assert "crs" not in body and body["features"] and body["truncated"] is False
    for feature in body["features"]:
        check_feature(feature)
    one = client.get(f"/api/layers/{name}/features/{body['features'][0]['id']}").get_json()
    check_feature(one)


def test_demo_has_buildings_that_plain_rounding_breaks(db):
    """So that the test above is a real check: rounding alone would break these."""
    broken = db.execute(text(f"select count(*) from building where not "
                             f"ST_IsValid(ST_SnapToGrid(footprint, 1e-{DECIMALS}), 0)")).scalar()
    assert broken > 0


def test_multipolygon_columns_stay_multipolygons(client):
    district = client.get("/api/districts").get_json()["features"][0]
    assert district["geometry"]["type"] == "MultiPolygon"


@st.composite
def _star_polygons(draw):
    """Simple, star-shaped polygons a few 1e-7° across: vertices far closer together than
    the 7-decimal grid, so that plain rounding often breaks them."""
    import math

    n = draw(st.integers(3, 12))
    angles = sorted(set(draw(st.lists(st.floats(0, 2 * math.pi, exclude_max=True),
                                      min_size=n, max_size=n))))
    radii = draw(st.lists(st.floats(1e-8, 1e-6), min_size=len(angles), max_size=len(angles)))
    cx, cy = 114.4 + draw(st.floats(0, 1e-7)), 30.5 + draw(st.floats(0, 1e-7))
    ring = [(cx + r * math.cos(a), cy + r * math.sin(a)) for a, r in zip(angles, radii)]
    assume(len(set(ring)) == len(ring) >= 3)
    polygon = Polygon(ring[::-1])  # clockwise, the wrong way round for RFC 7946
    assume(polygon.is_valid and polygon.area > 0)
    return polygon


def _stored_expression() -> str:
    """Migration 0017's expression of ``building.footprint_geojson``, over a column ``g``."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[2] / "migrations" / "versions" / "0017_stored_geojson.py"
    spec = importlib.util.spec_from_file_location("migration_0017", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._GEOJSON.replace("footprint", "g")


@settings(max_examples=60, deadline=None)
@given(_star_polygons(), st.booleans())
def test_stored_geojson_is_the_computed_text(engine, polygon, multi):
    """The stored GeoJSON (migration 0017) is byte for byte what geojson_geometry computes."""
    wkt = MultiPolygon([polygon]).wkt if multi else polygon.wkt
    with engine.connect() as conn:
        stored, computed = conn.execute(text(
            f"select {_stored_expression()}, ({geojson_geometry('g')})::text "
            f"from ST_GeomFromText(:w, 4490) g"), {"w": wkt}).one()
    assert stored == computed


def test_every_buildings_stored_geojson_is_current(db):
    """Every building's stored GeoJSON equals the computed one, and a footprint moved moves
    it."""
    computed = f"({geojson_geometry('footprint')})::text"
    assert db.execute(text("select count(*) from building")).scalar() > 0
    assert db.execute(text(f"select count(*) from building "
                           f"where footprint_geojson is distinct from {computed}")).scalar() == 0
    row = db.execute(text("update building set footprint = ST_Translate(footprint, 0.0001, 0) "
                          "where id = (select min(id) from building) "
                          "returning footprint_geojson, " + computed)).one()
    assert row[0] == row[1]


@settings(max_examples=150, deadline=None)
@given(_star_polygons())
def test_snap_rounding_keeps_any_polygon_valid(engine, polygon):
    """Any valid polygon comes out valid, counter-clockwise, without repeated vertices."""
    with engine.connect() as conn:
        geometry = conn.execute(text(
            f"select {geojson_geometry('g')} from ST_GeomFromText(:w, 4490) g"),
            {"w": polygon.wkt}).scalar()
    geom = shape(geometry)
    assert geom.is_valid and "crs" not in geometry
    if not geom.is_empty:  # a polygon under 1 cm across may collapse: empty, still valid
        check_feature({"id": polygon.wkt, "geometry": geometry})
