"""Every feature of every demo layer is RFC 7946 GeoJSON that shapely accepts as valid."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st
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


def test_multipolygon_columns_stay_multipolygons(client):
    district = client.get("/api/districts").get_json()["features"][0]
    assert district["geometry"]["type"] == "MultiPolygon"


_coord = st.integers(0, 2000).map(lambda i: 114.4 + i * 1e-8)  # a 20 µ° square near Wuhan


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(_coord, _coord.map(lambda x: x - 84)), min_size=3, max_size=9,
                unique=True))
def test_snap_rounding_keeps_any_polygon_valid(engine, points):
    """Polygons with vertices far closer together than 1e-7° still come out valid, CCW."""
    from shapely.geometry import MultiPoint

    hull = MultiPoint(points).convex_hull
    if not isinstance(hull, Polygon):
        return
    # A clockwise ring with one vertex repeated, as a worst case for the writer.
    ring = list(hull.exterior.coords)[::-1]
    ring.insert(1, ring[0])
    wkt = Polygon(ring).wkt
    with engine.connect() as conn:
        geometry = conn.execute(text(
            f"select {geojson_geometry('g')} from ST_GeomFromText(:w, 4490) g"),
            {"w": wkt}).scalar()
    geom = shape(geometry)
    assert geom.is_valid and "crs" not in geometry
    if not geom.is_empty:  # a polygon under 1 cm across may collapse: empty, still valid
        check_feature({"id": wkt, "geometry": geometry})
