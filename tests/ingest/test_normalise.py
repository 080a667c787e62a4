"""Bringing features to EPSG:4490: the no-op WGS 84 → CGCS2000 shortcut gives exactly what a
full reprojection gives; other CRSs are reprojected; 3D footprints are flattened, 2D ones are
left as they are."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from hypothesis import given, settings, strategies as st

from gridmap.ingest import Recipe
from gridmap.ingest.normalise import polygons_only, to_storage_crs

RECIPE = Recipe(source=Path("test.geojson"), layer="buildings", district="420111",
                source_name="test", fields={"source_id": "bid"})


def _boxes(seed: int, n: int, lon: float, lat: float, size: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = lon + rng.uniform(0, 100 * size, n)
    y = lat + rng.uniform(0, 100 * size, n)
    return shapely.box(x, y, x + size * rng.uniform(0.1, 1, n), y + size * rng.uniform(0.1, 1, n))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 50), st.sampled_from([4326, 4490, 4547, 3857]))
def test_storage_crs_matches_full_reprojection(seed, n, epsg):
    lonlat = gpd.GeoSeries(_boxes(seed, n, 114.3, 30.5, 1e-3), crs=4326)
    frame = gpd.GeoDataFrame({"bid": range(n)}, geometry=lonlat.to_crs(epsg).values, crs=epsg)
    got = to_storage_crs(frame, RECIPE)
    expected = frame.to_crs(4490)
    assert got.crs.equals(expected.crs)
    assert np.array_equal(shapely.get_coordinates(got.geometry.values),
                          shapely.get_coordinates(expected.geometry.values))


def test_third_dimension_dropped_and_2d_kept():
    flat = _boxes(1, 5, 114.3, 30.5, 1e-3)
    raised = shapely.force_3d(flat, 12.0)
    for geoms in (flat, np.concatenate([flat, raised])):
        frame = gpd.GeoDataFrame({"bid": range(len(geoms))}, geometry=geoms, crs=4490)
        out = polygons_only(frame, RECIPE).geometry.values
        assert not shapely.has_z(out).any()
        assert shapely.equals_exact(out, shapely.force_2d(geoms), tolerance=0).all()
