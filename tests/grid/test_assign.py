"""Assignment agrees with a brute-force oracle; the PostGIS path agrees with the batch path."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings, strategies as st
from shapely.geometry import box
from sqlalchemy import text

from gridmap.grid.assign import assign_buildings_to_grids, assign_building_in_db
from gridmap.grid.pointindex import label_points, point_polygon_pairs


def voronoi_tiles(seed: int, n: int, size: float = 1000.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pts = shapely.multipoints(rng.uniform(0, size, (n, 2)))
    extent = box(0, 0, size, size)
    cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=extent))
    return shapely.intersection(cells, extent)


def oracle_labels(x, y, polygons, include_boundary):
    test = shapely.intersects if include_boundary else shapely.contains
    labels = []
    for px, py in zip(x, y):
        point = shapely.Point(px, py)
        hits = [i for i, p in enumerate(polygons) if test(p, point)]
        labels.append(min(hits) if hits else -1)
    return np.array(labels)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 40), st.integers(1, 300), st.booleans())
def test_label_points_matches_oracle(seed, n_polygons, n_points, include_boundary):
    rng = np.random.default_rng(seed + 1)
    polys = voronoi_tiles(seed, n_polygons)
    # Points inside, outside and exactly on polygon vertices (boundaries).
    x = rng.uniform(-100, 1100, n_points)
    y = rng.uniform(-100, 1100, n_points)
    vertices = shapely.get_coordinates(polys)
    k = min(len(vertices), n_points // 3)
    x[:k], y[:k] = vertices[:k, 0], vertices[:k, 1]
    got = label_points(x, y, polys, include_boundary=include_boundary)
    assert list(got) == list(oracle_labels(x, y, polys, include_boundary))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 30))
def test_overlapping_polygons_give_all_pairs(seed, n):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 100, (n, 2))
    polys = shapely.buffer(shapely.points(centres), rng.uniform(5, 30, n))
    x, y = rng.uniform(0, 100, (2, 200))
    pts, owners = point_polygon_pairs(x, y, polys)
    got = sorted(zip(pts.tolist(), owners.tolist()))
    expected = sorted((i, j) for i in range(200) for j in range(n)
                      if shapely.contains_xy(polys[j], x[i], y[i]))
    assert got == expected


def oracle_assignment(footprints, grids):
    labels = []
    for foot in footprints:
        point = foot.representative_point()
        hits = [i for i, g in enumerate(grids) if g.intersects(point)]
        if not hits:
            labels.append(-1)
            continue
        labels.append(max(hits, key=lambda i: (foot.intersection(grids[i]).area, -i)))
    return np.array(labels)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 25), st.integers(1, 80))
def test_building_assignment_matches_oracle(seed, n_grids, n_buildings):
    rng = np.random.default_rng(seed)
    grids = voronoi_tiles(seed, n_grids)
    centres = rng.uniform(-50, 1050, (n_buildings, 2))
    sizes = rng.uniform(5, 80, (n_buildings, 2))
    feet = shapely.box(centres[:, 0], centres[:, 1], centres[:, 0] + sizes[:, 0],
                       centres[:, 1] + sizes[:, 1])
    got = assign_buildings_to_grids(feet, grids)
    assert list(got) == list(oracle_assignment(feet, grids))
    inside = shapely.contains(box(0, 0, 1000, 1000), shapely.point_on_surface(feet))
    assert (got[inside] >= 0).all()  # every building whose point is in the tiling has a grid


def test_boundary_tie_goes_to_largest_overlap():
    grids = np.array([box(0, 0, 100, 100), box(100, 0, 200, 100)])
    # A footprint whose representative point is on x = 100, mostly in the second grid.
    foot = box(90, 45, 110, 55).union(box(100, 55, 110, 60))
    assert shapely.point_on_surface(foot).x == 100.0
    assert assign_buildings_to_grids(np.array([foot]), grids)[0] == 1


def test_single_edit_in_postgis_matches_batch(db):
    rows = db.execute(text("select id, grid_id from building where district_code = '420111' "
                           "order by id limit 20")).all()
    for building_id, grid_id in rows:
        db.execute(text("update building set grid_id = null where id = :id"),
                   {"id": building_id})
        assert assign_building_in_db(db, building_id) == grid_id
    totals = db.execute(text("""select count(*) from grid g where g.households <>
        (select coalesce(sum(b.households), 0) from building b where b.grid_id = g.id)""")
                        ).scalar()
    assert totals == 0


def test_moving_a_building_updates_both_totals(db):
    building_id, old_grid, households = db.execute(text(
        "select id, grid_id, households from building where households > 0 order by id limit 1"
    )).one()
    before = dict(db.execute(text("select id, households from grid")).all())
    other = db.execute(text("select id, ST_AsText(ST_PointOnSurface(geom)) from grid "
                            "where id <> :g and valid_to is null order by id limit 1"),
                       {"g": old_grid}).one()
    db.execute(text("update building set footprint = ST_Multi(ST_Buffer(ST_GeomFromText(:p, "
                    "4490), 0.00005)) where id = :id"), {"p": other[1], "id": building_id})
    assert assign_building_in_db(db, building_id) == other[0]
    after = dict(db.execute(text("select id, households from grid")).all())
    assert after[old_grid] == before[old_grid] - households
    assert after[other[0]] == before[other[0]] + households


@pytest.mark.parametrize("batch", [40, 25_000])
def test_district_assignment_is_the_batch_rule_on_stored_footprints(db, monkeypatch, batch):
    """assign_district (footprints read back as WKB in batches, reprojected by pyproj) gives
    what the batch rule gives on the GeoDataFrames of frames.py, and writes only what
    changed."""
    from gridmap.grid import assign
    from gridmap.grid.assign import assign_district, grid_ids_for

    monkeypatch.setattr(assign, "_BATCH", batch)
    from gridmap.grid.frames import load_buildings, load_grids, projected_epsg

    epsg = projected_epsg(db, "420111")
    grids = load_grids(db, district_code="420111", epsg=epsg)
    stored = load_buildings(db, district_code="420111")
    labels = assign_buildings_to_grids(stored.to_crs(epsg).geometry.values,
                                       grids.geometry.values)
    expected = np.where(labels >= 0, grids["id"].to_numpy()[np.maximum(labels, 0)], -1)
    assert (grid_ids_for(db, "420111", stored.geometry.values) == expected).all()
    moved = stored["id"].iloc[:7].tolist()
    db.execute(text("update building set grid_id = null where id = any(:ids)"), {"ids": moved})
    stats = assign_district(db, "420111")
    assert stats["changed"] == sum(expected[:7] >= 0)
    assert stats["assigned"] == int((expected >= 0).sum()) and stats["buildings"] == len(stored)
    after = load_buildings(db, district_code="420111")["grid_id"].fillna(-1).to_numpy()
    assert (after == expected).all()
