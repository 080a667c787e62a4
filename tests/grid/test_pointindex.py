"""The bin index agrees with brute force on every (point, polygon) pair: points on edges,
vertices and bin lines, holes, multipolygons, overlaps, odd geometries, any coordinate scale."""
from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings, strategies as st

from gridmap.grid.pointindex import _build_index, label_points, point_polygon_pairs

# (offset, scale): metres near the origin, degrees in China, Gauss–Krüger eastings with and
# without the zone prefix, and tiny polygons far from the origin.
FRAMES = [(0.0, 1.0), (114.3, 1e-5), (500_000.0, 1.0), (38_500_000.0, 0.5), (1e6, 1e-3)]


def _voronoi(rng, n):
    cells = shapely.voronoi_polygons(shapely.multipoints(rng.uniform(0, 100, (n, 2))),
                                     extend_to=shapely.box(0, 0, 100, 100))
    return list(shapely.intersection(shapely.get_parts(cells), shapely.box(0, 0, 100, 100)))


def _boxes(rng, n):
    """Boxes on an integer lattice: shared edges, overlaps, points exactly on edges."""
    lo = rng.integers(0, 90, (n, 2))
    return list(shapely.box(lo[:, 0], lo[:, 1], lo[:, 0] + rng.integers(1, 30, n),
                            lo[:, 1] + rng.integers(1, 30, n)))


def _donuts(rng, n):
    centres = rng.uniform(10, 90, (n, 2))
    outer = shapely.buffer(shapely.points(centres), rng.uniform(5, 25, n), quad_segs=3)
    return list(shapely.difference(outer, shapely.buffer(shapely.points(centres),
                                                         rng.uniform(1, 4, n), quad_segs=2)))


def _multis(rng, n):
    parts = _boxes(rng, 2 * n)
    return [shapely.MultiPolygon([parts[2 * i], parts[2 * i + 1]])
            if not parts[2 * i].intersects(parts[2 * i + 1]) else parts[2 * i]
            for i in range(n)]


def _odd(rng, n):
    """Mostly polygons, with a line, a point, an empty and a missing geometry."""
    return _voronoi(rng, n) + [shapely.LineString([(0, 0), (50, 50)]), shapely.Point(5, 5),
                               shapely.Polygon(), None]


LAYOUTS = {"voronoi": _voronoi, "boxes": _boxes, "donuts": _donuts, "multis": _multis,
           "odd": _odd}


def _frame(geoms, points, offset, scale):
    move = np.vectorize(lambda g: None if g is None else
                        shapely.transform(g, lambda c: c * scale + offset), otypes=[object])
    return move(np.array(geoms, dtype=object)), points * scale + offset


def _points(rng, polys, n):
    """Random points, and points exactly on vertices and on integer lattice edges."""
    pts = rng.uniform(-10, 110, (n, 2))
    vertices = shapely.get_coordinates(np.array([p for p in polys if p is not None]))
    k = min(len(vertices), n // 3)
    pts[:k] = vertices[rng.choice(len(vertices), k, replace=False)]
    pts[k:2 * k] = rng.integers(0, 100, (k, 2))
    return pts


def _oracle(points, polys, include_boundary):
    fresh = shapely.from_wkb(shapely.to_wkb(polys))  # unprepared copies
    test = shapely.intersects if include_boundary else shapely.contains
    hit = test(fresh[None, :], shapely.points(points)[:, None])
    return sorted(zip(*(a.tolist() for a in np.nonzero(hit))))


@settings(max_examples=120, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(sorted(LAYOUTS)), st.integers(1, 25),
       st.integers(1, 2500), st.sampled_from(FRAMES), st.booleans())
def test_pairs_match_brute_force(seed, layout, n_polygons, n_points, frame, include_boundary):
    rng = np.random.default_rng(seed)
    geoms = LAYOUTS[layout](rng, n_polygons)
    polys, points = _frame(geoms, _points(rng, geoms, n_points), *frame)
    got = point_polygon_pairs(points[:, 0], points[:, 1], polys,
                              include_boundary=include_boundary)
    assert sorted(zip(*(a.tolist() for a in got))) == _oracle(points, polys, include_boundary)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(sorted(LAYOUTS)), st.integers(1, 12),
       st.sampled_from(FRAMES), st.booleans())
def test_points_on_bin_lines(seed, layout, n_polygons, frame, include_boundary):
    """Points exactly on the index's bin lines and corners, where rounding could misplace
    them, still get exactly their polygons."""
    rng = np.random.default_rng(seed)
    polys, _ = _frame(LAYOUTS[layout](rng, n_polygons), np.zeros((0, 2)), *frame)
    n_points = 3000
    raster = _build_index(polys, n_points, 4.0).raster
    i = rng.integers(0, raster.nx * raster.factor + 1, n_points)
    j = rng.integers(0, raster.ny * raster.factor + 1, n_points)
    along = rng.uniform(0, raster.size * raster.factor * raster.nx, n_points)
    x = raster.x0 + i * raster.size
    y = np.where(rng.random(n_points) < 0.5, raster.y0 + j * raster.size, raster.y0 + along)
    points = np.column_stack([x, y])
    got = point_polygon_pairs(x, y, polys, include_boundary=include_boundary)
    assert sorted(zip(*(a.tolist() for a in got))) == _oracle(points, polys, include_boundary)


def test_lowest_index_wins_on_overlap():
    polys = np.array([shapely.box(0, 0, 10, 10), shapely.box(5, 5, 15, 15),
                      shapely.box(0, 0, 10, 10)])
    x, y = np.array([7.0, 2.0, 12.0, 20.0, np.nan]), np.array([7.0, 2.0, 12.0, 20.0, 1.0])
    assert label_points(x, y, polys).tolist() == [0, 0, 1, -1, -1]


def test_nothing_to_join():
    box = np.array([shapely.box(0, 0, 1, 1)])
    assert label_points(np.zeros(0), np.zeros(0), box).tolist() == []
    assert label_points([0.5], [0.5], np.array([None, shapely.Polygon()])).tolist() == [-1]
    assert label_points([0.5], [0.5], np.array([], dtype=object)).tolist() == [-1]
