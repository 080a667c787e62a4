"""Point-in-polygon joins for many points: a uniform bin index + prepared ``contains_xy``.

Why not ``STRtree.query``: it needs a shapely Point per input point (allocation dominates at a
million points) and yields pairs in input order, so consecutive predicate tests hit unrelated
polygons. Here points never become geometries: each falls into a bin of a uniform raster over
the polygons' extent, candidates come from the bins' polygon lists (bounding-box filtered in
numpy), and the exact test runs on prepared polygons in bin order, so the same prepared
polygon is tested many times in a row.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray


_CHUNK = 1 << 18


@dataclass(frozen=True)
class _BinIndex:
    x0: float
    y0: float
    size: float
    nx: int
    ny: int
    starts: NDArray[np.int64]   # CSR offsets, one per bin + 1
    members: NDArray[np.int32]  # polygon indices grouped by bin


def _expand(starts: NDArray[np.int64], counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """For ranges [start, start + count), all their members concatenated (vectorised)."""
    total = int(counts.sum())
    offsets = np.cumsum(counts) - counts
    return np.repeat(starts - offsets, counts) + np.arange(total, dtype=np.int64)


def _build_index(bounds: NDArray[np.float64], cells_per_polygon: float) -> _BinIndex:
    ok = np.isfinite(bounds).all(axis=1)
    x0, y0 = bounds[ok, 0].min(), bounds[ok, 1].min()
    x1, y1 = bounds[ok, 2].max(), bounds[ok, 3].max()
    extent = max((x1 - x0) * (y1 - y0), 1e-12)
    size = float(np.sqrt(extent / max(ok.sum() * cells_per_polygon, 1)))
    if size <= 0:
        size = 1.0
    nx = int((x1 - x0) // size) + 1
    ny = int((y1 - y0) // size) + 1
    poly = np.nonzero(ok)[0]
    ix0 = ((bounds[poly, 0] - x0) // size).astype(np.int64)
    iy0 = ((bounds[poly, 1] - y0) // size).astype(np.int64)
    ix1 = np.minimum(((bounds[poly, 2] - x0) // size).astype(np.int64), nx - 1)
    iy1 = np.minimum(((bounds[poly, 3] - y0) // size).astype(np.int64), ny - 1)
    wx, wy = ix1 - ix0 + 1, iy1 - iy0 + 1
    counts = wx * wy
    local = _expand(np.zeros(len(poly), dtype=np.int64), counts)
    owner = np.repeat(np.arange(len(poly)), counts)
    bins = (iy0[owner] + local // wx[owner]) * nx + ix0[owner] + local % wx[owner]
    order = np.argsort(bins, kind="stable")
    starts = np.zeros(nx * ny + 1, dtype=np.int64)
    np.cumsum(np.bincount(bins, minlength=nx * ny), out=starts[1:])
    return _BinIndex(x0, y0, size, nx, ny, starts, poly[owner[order]].astype(np.int32))


def point_polygon_pairs(x: ArrayLike, y: ArrayLike, polygons: ArrayLike, *,
                        include_boundary: bool = False,
                        cells_per_polygon: float = 4.0) -> tuple[NDArray[np.int64],
                                                                 NDArray[np.int64]]:
    """All (point, polygon) index pairs where the polygon contains the point.

    Parameters
    ----------
    x, y
        Point coordinates (same CRS as the polygons).
    polygons
        Array of shapely (multi)polygons; they are prepared in place.
    include_boundary
        ``False``: interior only (``within``, as ``geopandas.sjoin(predicate="within")``);
        ``True``: boundary points count too (``intersects``).
    cells_per_polygon
        Bins per polygon in the index; about one gives a few candidates per point.

    Returns
    -------
    points, polys
        Index arrays of equal length, grouped by index bin (not sorted by point).
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    polys = np.asarray(polygons, dtype=object)
    empty = np.zeros(0, dtype=np.int64)
    if xs.size == 0 or polys.size == 0:
        return empty, empty
    bounds = shapely.bounds(polys)
    index = _build_index(bounds, cells_per_polygon)
    fx = (xs - index.x0) // index.size
    fy = (ys - index.y0) // index.size
    inside = (fx >= 0) & (fx < index.nx) & (fy >= 0) & (fy < index.ny)
    cell = fy * index.nx + fx
    if not inside.all():
        cell = np.where(inside, cell, -1.0)
    # Bin order: consecutive tests then reuse the same few prepared polygons and the gathers
    # below read memory in order. A 16-bit key sorts by radix, in linear time.
    key = cell.astype(np.uint16 if index.nx * index.ny < 65535 else np.int64)
    if not inside.all():
        key[~inside] = np.iinfo(key.dtype).max
    order = np.argsort(key, kind="stable")
    order = order[: int(inside.sum())]
    shapely.prepare(polys)
    test = shapely.intersects_xy if include_boundary else shapely.contains_xy
    found_pts, found_polys = [], []
    # Chunks bound the memory of the candidate pairs (a few per point).
    for lo in range(0, order.size, _CHUNK):
        chunk = order[lo:lo + _CHUNK]
        cell_sorted = cell[chunk].astype(np.int64)
        counts = index.starts[cell_sorted + 1] - index.starts[cell_sorted]
        pair_poly = index.members[_expand(index.starts[cell_sorted], counts)]
        pair_rank = np.repeat(np.arange(chunk.size, dtype=np.int32), counts)
        hit = test(polys[pair_poly], np.repeat(xs[chunk], counts), np.repeat(ys[chunk], counts))
        found_pts.append(chunk[pair_rank[hit]])
        found_polys.append(pair_poly[hit].astype(np.int64))
    if not found_pts:
        return empty, empty
    return np.concatenate(found_pts), np.concatenate(found_polys)


def label_points(x: ArrayLike, y: ArrayLike, polygons: ArrayLike, *,
                 include_boundary: bool = False) -> NDArray[np.int64]:
    """Index of the polygon containing each point (lowest index on overlap), ``-1`` if none."""
    xs = np.asarray(x, dtype=np.float64)
    pts, polys = point_polygon_pairs(xs, y, polygons, include_boundary=include_boundary)
    labels = np.full(xs.size, -1, dtype=np.int64)
    labels[pts] = polys
    if pts.size > np.count_nonzero(labels >= 0):
        # Overlapping polygons: the lowest index wins, as documented.
        np.minimum.at(labels, pts, polys)
    return labels
