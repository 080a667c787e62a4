"""Export → re-read gives the same features, for every format × CRS (hypothesis).

Random buildings (valid polygons, names in Chinese or digit strings with leading zeros, ids
near the 32-bit limit, grids of the demo district) are written in a box outside the demo's
buildings; the box is exported and read back with GDAL (pyogrio): the count equals the
source's, ids, names and grid codes are exactly the same text, and every geometry is the one
PostGIS gives in that CRS within the CRS's precision, with x = longitude/easting.
"""
from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from pyproj import CRS
from sqlalchemy import text

from gridmap.export import Selection, export_layer, get_writer, parse_export_crs
from tests.conftest import rolled_back
from tests.export.conftest import ADMIN, gdal_path, read_back

import pyogrio

BOX = (114.420, 30.520, 114.426, 30.526)  # east of the demo's buildings, in district 420111
CRSS = ["EPSG:4326", "EPSG:4490", "EPSG:3857", "EPSG:4547"]
CASES = [(fmt, crs) for fmt in ("geojson", "gpkg", "shp", "kml", "csv", "fgb") for crs in CRSS
         if fmt != "kml" or crs == "EPSG:4326"]

_CHINESE = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1,
                   max_size=40)
_NAMES = st.one_of(_CHINESE, st.from_regex(r"\A0[0-9]{14}\Z"),
                   st.builds(lambda a, b: f"{a}·{b}号楼", _CHINESE, st.integers(0, 99)))


@st.composite
def polygons(draw):
    """A valid polygon of 3–7 vertices (a convex hull) inside :data:`BOX`."""
    x0, y0, x1, y1 = BOX
    n = draw(st.integers(3, 7))
    xs = draw(st.lists(st.floats(x0, x1), min_size=n, max_size=n))
    ys = draw(st.lists(st.floats(y0, y1), min_size=n, max_size=n))
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([xs, ys])))
    # at least ~1 m² and not a sliver, so that a centimetre of rounding keeps it valid
    if hull.geom_type != "Polygon" or hull.area < 1e-9 or hull.area < 1e-5 * hull.length ** 2:
        hull = shapely.box(xs[0], ys[0], min(xs[0] + 1e-4, x1), min(ys[0] + 1e-4, y1))
    return hull


features = st.lists(st.tuples(st.integers(10 ** 6, 2 ** 31 - 1), _NAMES, polygons(),
                              st.integers(0, 23)),
                    min_size=1, max_size=6, unique_by=lambda f: f[0])


def _parts(geometry) -> list:
    return sorted((shapely.normalize(p) for p in shapely.get_parts(geometry)), key=lambda p: p.wkt)


def _check(session, frame, rows, crs, fmt):
    by_id = {str(int(float(v))): i for i, v in enumerate(frame["id"])}
    grid_codes = dict(session.execute(text("select id, code from grid")).all())
    tolerance = parse_export_crs(crs).tolerance
    expected = dict(session.execute(text(
        "select id, ST_AsBinary(ST_Transform(footprint, :srid)) from building "
        "where id = any(:ids)"), {"srid": parse_export_crs(crs).srid,
                                   "ids": [r[0] for r in rows]}).all())
    for building_id, name, _, grid in rows:
        i = by_id[str(building_id)]
        assert frame["name"].iloc[i] == name
        assert frame["grid_code"].iloc[i] == grid_codes[grid]
        got, want = frame.geometry.iloc[i], shapely.from_wkb(bytes(expected[building_id]))
        # x is longitude/easting: the first coordinate is the one near 114° or 500 km
        assert abs(got.centroid.x - want.centroid.x) < 1e-3 * max(1, abs(want.centroid.x))
        for a, b in zip(_parts(got), _parts(want), strict=True):
            # the same vertices within the CRS's precision, wherever a ring starts (rounding
            # can change which vertex normalize() puts first)
            assert shapely.get_num_coordinates(a) == shapely.get_num_coordinates(b)
            assert shapely.hausdorff_distance(a, b) <= tolerance, (fmt, crs, a.wkt, b.wkt)


@pytest.mark.parametrize("fmt,crs", CASES)
@settings(max_examples=3, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=features)
def test_export_rereads_equal(engine, layers, fmt, crs, rows):
    with rolled_back(engine) as session, tempfile.TemporaryDirectory() as tmp:
        grid_ids = [g for (g,) in session.execute(
            text("select id from grid where valid_to is null order by id"))]
        rows = [(i, name, poly, grid_ids[g % len(grid_ids)]) for i, name, poly, g in rows]
        for building_id, name, poly, grid in rows:
            session.execute(text(
                "insert into building (id, district_code, source, source_id, name, use, "
                "households, grid_id, footprint) values (:id, '420111', 'test', :sid, :name, "
                "'residential', 1, :grid, ST_Multi(ST_GeomFromWKB(:wkb, 4490)))"),
                {"id": building_id, "sid": str(building_id), "name": name, "grid": grid,
                 "wkb": shapely.to_wkb(poly)})
        source = layers["buildings"].export_source(ADMIN, Selection(bbox=BOX))
        path = Path(tmp) / f"out{get_writer(fmt).suffix}"
        result = export_layer(session, source, path, format=fmt, crs=crs)
        assert result.count == source.count(session) == len(rows)
        frame = read_back(path, fmt, "buildings")
        assert len(frame) == len(rows)
        _check(session, frame, rows, crs, fmt)


@pytest.mark.parametrize("fmt,crs", CASES)
def test_gdal_reads_the_crs_requested(db, layers, tmp_path, fmt, crs):
    source = layers["grids"].export_source(ADMIN, Selection.of(community="420111002015"))
    path = tmp_path / f"grids{get_writer(fmt).suffix}"
    export_layer(db, source, path, format=fmt, crs=crs)
    info = pyogrio.read_info(gdal_path(path, fmt, "grids"))
    # GDAL names the EPSG code itself, except for the CSV's .prj sidecar (read, not matched)
    assert info["crs"] == crs or (fmt == "csv" and CRS(info["crs"]).to_epsg(
        min_confidence=20) == int(crs.split(":")[1]))
    # and the coordinates are x = east: the bounds' x span is the longitude/easting one
    frame = read_back(path, fmt, "grids")
    x0, y0, x1, y1 = frame.total_bounds
    if crs in ("EPSG:4326", "EPSG:4490"):
        assert 114 < x0 < x1 < 115 and 30 < y0 < y1 < 31
    elif crs == "EPSG:4547":  # EPSG:4547 has its central meridian at 114°E: eastings near 500 km
        assert 400_000 < x0 < x1 < 600_000 and 3_300_000 < y0 < y1 < 3_500_000
    else:
        assert math.isclose(x0, 12_734_000, rel_tol=0.01)
    # every code exactly as stored (FlatGeobuf's spatial index orders features its own way)
    codes = db.execute(text("select code from grid where valid_to is null and "
                            "community_code = '420111002015'")).scalars().all()
    assert sorted(frame["code"]) == sorted(codes) and all(len(c) == 15 for c in codes)
