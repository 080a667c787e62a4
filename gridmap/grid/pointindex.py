"""Point-in-polygon joins for many points: a two-level bin index that settles most points
without a test, and prepared ``contains_xy`` for the rest.

Why not ``STRtree.query``: it needs a shapely Point per input point (allocation dominates at a
million points) and tests every point against every polygon whose bounding box holds it.

Here points never become geometries. A uniform raster of *fine* bins covers the polygons,
grouped ``factor`` × ``factor`` into *coarse* bins that list the polygons whose bounding box
meets them. A fine bin is

* *crossed* when some polygon ring comes near it (the rings, cut into pieces shorter than a
  bin, are marked in every bin their bounding box, widened by a margin, meets): each point in
  it is tested exactly against its coarse bin's polygons;
* *clear* otherwise. No ring comes near a run of clear bins along a row, so every polygon holds
  all of the run or none of it, and one test of the run's first bin centre (far from any
  boundary, hence robust) settles every point in the run with no test per point.

Points on or near a boundary are always in crossed bins, so ``within`` and ``intersects`` stay
exact, and overlapping polygons give every pair. Bins come from one monotone formula for
points and polygon coordinates alike; the margin covers the rounding of the pieces.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

_CHUNK = 1 << 18     # points per batch of candidate pairs (bounds their memory)
_MARGIN = 1e-6       # ring margin, in fine bins; bins are > 2**24 ulps of the coordinates wide
_MAX_FINE = 1 << 22  # fine bins at most (4 bytes each, a few arrays)
_CROSSED, _SHARED = -2, -3  # fine bin codes besides a polygon index and -1 (no polygon)


@dataclass(frozen=True)
class _Raster:
    """Fine bins of side ``size`` from (x0, y0), ``factor`` × ``factor`` to a coarse bin."""

    x0: float
    y0: float
    size: float
    factor: int
    nx: int  # coarse bins along x; fine ones: nx * factor
    ny: int

    @property
    def fine_nx(self) -> int:
        return self.nx * self.factor

    @property
    def n_fine(self) -> int:
        return self.nx * self.ny * self.factor ** 2

    def uv(self, x, y):
        """Coordinates in fine-bin units; their floor is the fine column and row."""
        return (x - self.x0) / self.size, (y - self.y0) / self.size

    def fine_cells(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
        """Fine bin of each point; ``n_fine`` (a bin that holds nothing) outside the raster."""
        u, v = self.uv(x, y)
        np.floor(u, out=u)
        np.floor(v, out=v)
        inside = (u >= 0) & (u < self.fine_nx) & (v >= 0) & (v < self.ny * self.factor)
        v *= self.fine_nx
        v += u
        return np.where(inside, v, self.n_fine).astype(np.int64)

    def coarse_of(self, fine: NDArray[np.int64]) -> NDArray[np.int64]:
        row, col = np.divmod(fine, self.fine_nx)
        return row // self.factor * self.nx + col // self.factor

    def cols(self, u: NDArray[np.float64]) -> NDArray[np.int64]:
        return np.clip(np.floor(u), 0, self.fine_nx - 1).astype(np.int64)

    def rows(self, v: NDArray[np.float64]) -> NDArray[np.int64]:
        return np.clip(np.floor(v), 0, self.ny * self.factor - 1).astype(np.int64)


def _raster(bounds: NDArray[np.float64], n_points: int, cells_per_polygon: float) -> _Raster:
    lo, hi = bounds[:, :2].min(axis=0), bounds[:, 2:].max(axis=0)
    extent = max(float(np.prod(hi - lo)), 1e-300)
    coarse = float(np.sqrt(extent / (len(bounds) * cells_per_polygon)))
    # At most 2048 coarse bins a side (long thin extents).
    coarse = max(coarse, float(np.max(hi - lo)) / 2048)
    n_coarse = max(extent / coarse ** 2, 1.0)
    # Fine bins pay off when points fill them: about one fine bin per point.
    factor = int(np.clip(np.sqrt(min(n_points, _MAX_FINE) / n_coarse), 1, 16))
    ulp = float(np.spacing(np.abs(np.concatenate([lo, hi])).max()))
    size = max(coarse / factor, ulp * 2.0 ** 24)
    # Bin counts by the formula points use, so the largest coordinate falls inside.
    u, v = (hi - lo) / size
    return _Raster(float(lo[0]), float(lo[1]), size, factor,
                   int(u) // factor + 1, int(v) // factor + 1)


@dataclass(frozen=True)
class _BinIndex:
    raster: _Raster
    code: NDArray[np.int32]          # per fine bin (+1 outside): a polygon, -1, _CROSSED, _SHARED
    run: NDArray[np.int32]           # per fine bin: its run of clear bins (for _SHARED)
    held_starts: NDArray[np.int64]   # CSR offsets (one per run + 1) into held_members
    held_members: NDArray[np.int64]  # polygons holding the whole run
    test_starts: NDArray[np.int64]   # CSR offsets (one per coarse bin + 1) into test_members
    test_members: NDArray[np.int64]  # polygons whose bounding box meets the coarse bin


def _expand(starts: NDArray[np.int64], counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """For ranges [start, start + count), all their members concatenated (vectorised)."""
    total = int(counts.sum())
    offsets = np.cumsum(counts) - counts
    return np.repeat(starts - offsets, counts) + np.arange(total, dtype=np.int64)


def _starts(groups: NDArray[np.int64], n_groups: int) -> NDArray[np.int64]:
    starts = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(groups, minlength=n_groups), out=starts[1:])
    return starts


def _box_bins(raster: _Raster, boxes: NDArray[np.float64], *,
              coarse: bool) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(bin, box) index pairs for every coarse or fine bin each box (minx, miny, maxx, maxy)
    meets."""
    u0, v0 = raster.uv(boxes[:, 0], boxes[:, 1])
    u1, v1 = raster.uv(boxes[:, 2], boxes[:, 3])
    step = raster.factor if coarse else 1
    ix0, ix1 = raster.cols(u0) // step, raster.cols(u1) // step
    iy0, iy1 = raster.rows(v0) // step, raster.rows(v1) // step
    wx = ix1 - ix0 + 1
    counts = wx * (iy1 - iy0 + 1)
    local = _expand(np.zeros(len(boxes), dtype=np.int64), counts)
    which = np.repeat(np.arange(len(boxes)), counts)
    row, col = np.divmod(local, wx[which])
    nx = raster.nx if coarse else raster.fine_nx
    return (iy0[which] + row) * nx + ix0[which] + col, which


def _mark_rings(raster: _Raster, polys: NDArray[np.object_], crossed: NDArray[np.bool_]) -> None:
    """Set ``crossed`` for every fine bin that a ring of the (multi)polygons comes near.

    Consecutive vertices of one geometry make a segment; where one ring ends and the next
    begins (holes, parts) that joins two rings, which only marks a few more bins than needed.
    """
    xy, owner = shapely.get_coordinates(polys, return_index=True)
    u, v = raster.uv(xy[:, 0], xy[:, 1])
    start = np.nonzero(owner[1:] == owner[:-1])[0]
    ua, va, ub, vb = u[start], v[start], u[start + 1], v[start + 1]
    du, dv = ub - ua, vb - va
    # Pieces shorter than a bin by more than two margins: each meets at most 2 × 2 bins.
    pieces = np.ceil(np.maximum(np.abs(du), np.abs(dv)) / (1 - 4 * _MARGIN)).astype(np.int64)
    cut = np.nonzero(pieces > 1)[0]
    if cut.size:
        seg = np.repeat(cut, pieces[cut])
        t0 = _expand(np.zeros(cut.size, dtype=np.int64), pieces[cut]) / pieces[seg]
        t1 = t0 + 1.0 / pieces[seg]
        whole = np.nonzero(pieces <= 1)[0]
        ua, ub = (np.concatenate([ua[whole], ua[seg] + du[seg] * t0]),
                  np.concatenate([ub[whole], ua[seg] + du[seg] * t1]))
        va, vb = (np.concatenate([va[whole], va[seg] + dv[seg] * t0]),
                  np.concatenate([vb[whole], va[seg] + dv[seg] * t1]))
    cols = (raster.cols(np.minimum(ua, ub) - _MARGIN), raster.cols(np.maximum(ua, ub) + _MARGIN))
    rows = (raster.rows(np.minimum(va, vb) - _MARGIN), raster.rows(np.maximum(va, vb) + _MARGIN))
    for row in rows:
        for col in cols:
            crossed[row * raster.fine_nx + col] = True


def _build_index(polys: NDArray[np.object_], n_points: int,
                 cells_per_polygon: float) -> _BinIndex | None:
    bounds = shapely.bounds(polys)
    keep = np.nonzero(np.isfinite(bounds).all(axis=1))[0]
    if keep.size == 0:
        return None
    raster = _raster(bounds[keep], n_points, cells_per_polygon)
    bins, which = _box_bins(raster, bounds[keep], coarse=True)
    order = np.argsort(bins)
    test_starts = _starts(bins, raster.nx * raster.ny)
    test_members = keep[which[order]]
    crossed = np.zeros(raster.n_fine, dtype=bool)
    areal = np.isin(shapely.get_type_id(polys[keep]), (3, 6))
    _mark_rings(raster, polys[keep[areal]], crossed)
    # Anything but a (multi)polygon has no rings to go by: its points are always tested.
    crossed[_box_bins(raster, bounds[keep[~areal]], coarse=False)[0]] = True
    # Runs of clear bins along a row; each is settled by its first bin's centre.
    first = ~crossed
    first[1:] &= crossed[:-1]
    first[::raster.fine_nx] = ~crossed[::raster.fine_nx]
    heads = np.nonzero(first)[0]
    run = np.cumsum(first, dtype=np.int32) - 1
    runs, members = _members(test_starts, test_members, np.arange(heads.size),
                             raster.coarse_of(heads))
    row, col = np.divmod(heads[runs], raster.fine_nx)
    cx, cy = raster.x0 + (col + 0.5) * raster.size, raster.y0 + (row + 0.5) * raster.size
    holds = shapely.contains_xy(polys[members], cx, cy)
    held_starts = _starts(runs[holds], heads.size)
    held_members = members[holds]
    count = np.diff(held_starts)
    run_code = np.full(heads.size + 1, -1, dtype=np.int32)  # the last: crossed bins' "run"
    run_code[:-1][count == 1] = held_members[held_starts[:-1][count == 1]]
    run_code[:-1][count > 1] = _SHARED
    code = np.full(raster.n_fine + 1, -1, dtype=np.int32)
    code[:-1] = np.where(crossed, _CROSSED, run_code[run])
    return _BinIndex(raster, code, run, held_starts, held_members, test_starts, test_members)


def _members(starts: NDArray[np.int64], members: NDArray[np.int64],
             points: NDArray[np.int64],
             cells: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(point, member) pairs for points in the given bins."""
    counts = starts[cells + 1] - starts[cells]
    return (np.repeat(points, counts), members[_expand(starts[cells], counts)])


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
        Array of shapely geometries, (multi)polygons as a rule, overlapping or not; they are
        prepared in place. Missing or empty geometries contain nothing.
    include_boundary
        ``False``: interior only (``within``, as ``geopandas.sjoin(predicate="within")``);
        ``True``: boundary points count too (``intersects``).
    cells_per_polygon
        Coarse bins per polygon: about the number of polygons a tested point is tested
        against is set by it.

    Returns
    -------
    points, polys
        Index arrays of equal length, in no particular order.
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    polys = np.asarray(polygons, dtype=object)
    empty = np.zeros(0, dtype=np.int64)
    if xs.size == 0 or polys.size == 0:
        return empty, empty
    shapely.prepare(polys)
    index = _build_index(polys, xs.size, cells_per_polygon)
    if index is None:
        return empty, empty
    cell = index.raster.fine_cells(xs, ys)
    code = index.code[cell]
    settled = np.nonzero(code >= 0)[0]
    found_pts, found_polys = [settled], [code[settled].astype(np.int64)]
    shared = np.nonzero(code == _SHARED)[0]
    pts, owners = _members(index.held_starts, index.held_members, shared,
                           index.run[cell[shared]].astype(np.int64))
    found_pts.append(pts)
    found_polys.append(owners)
    tested = np.nonzero(code == _CROSSED)[0]
    coarse = index.raster.coarse_of(cell[tested])
    # Coarse bin order: consecutive tests reuse the same few prepared polygons.
    order = np.argsort(coarse)
    tested, coarse = tested[order], coarse[order]
    test = shapely.intersects_xy if include_boundary else shapely.contains_xy
    for lo in range(0, tested.size, _CHUNK):
        pts, owners = _members(index.test_starts, index.test_members,
                               tested[lo:lo + _CHUNK], coarse[lo:lo + _CHUNK])
        hit = test(polys[owners], xs[pts], ys[pts])
        found_pts.append(pts[hit])
        found_polys.append(owners[hit])
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
