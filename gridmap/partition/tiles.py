"""Tiles: the atoms a community is partitioned into, and their adjacency graph.

The community is cut into blocks by its roads (``polygonize`` of the boundary and the roads
clipped to it). Inside a block every building owns the Voronoi cell of its representative
point, clipped to the block; a block without buildings is one empty tile. Any union of tiles is
therefore a region whose boundary runs along roads or between buildings, never through one,
and grids made of tiles tile the community by construction. Large tiles owned by no building
are cut into squares (:data:`SPLIT_AREA_M2`), and a unit building may be asked to keep only
its own ground (:func:`_unit_cores`). Each building lies in the tile
that holds its representative point, the point the assignment rule (``gridmap.grid.assign``)
uses, so the validator assigns it to the grid the partitioner chose.

Edges join tiles sharing a boundary longer than :data:`MIN_SHARED_M`; an edge is a *road edge*
when its tiles lie in different blocks (blocks are separated by roads).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

MIN_SHARED_M = 0.05
"""Tiles meeting along less than this (m) — at a corner — are not neighbours: a grid joined
only there would be two pieces."""

TILE_SIDE_M = 80.0
"""Side (m) of the squares large tiles are cut into (see :data:`SPLIT_AREA_M2`)."""

SPLIT_AREA_M2 = 2 * TILE_SIDE_M ** 2
"""A tile owned by no building and larger than this (m²) — an empty block, a long block
between two carriageways, the far part of a cell cut off by a concave block, the ground a
shrunk unit gives up — is cut into the squares of a lattice of :data:`TILE_SIDE_M`, which
neighbouring grids may share. Whole, it would go to one grid and give it a long arm.
(Buildings' own cells are not cut: squares there made grids more ragged, not more compact.)"""


UNIT_MARGIN_M = 15.0
"""Margin (m) round a unit building's footprint that its unit grid keeps (see
:func:`_unit_cores`)."""

MIN_BLOCK_M2 = 0.01
"""Faces of the road network smaller than this (m²) are noise of nearly coincident lines."""


@dataclass
class TileGraph:
    """Tiles of one community (projected CRS) and their adjacency.

    Attributes
    ----------
    geoms : polygons, one per tile.
    block : index of the road block each tile lies in.
    households, buildings : totals of the buildings in each tile.
    unit : whether the tile holds a unit building (a unit grid of its own).
    area, perimeter : of each tile (m², m).
    x, y : a point inside each tile.
    building_tile : tile of each input building.
    u, v, length, road : edges (``u < v``), shared boundary length (m), and whether the shared
        boundary separates two blocks (runs along a road).
    """

    geoms: np.ndarray
    block: np.ndarray
    households: np.ndarray
    buildings: np.ndarray
    unit: np.ndarray
    area: np.ndarray
    perimeter: np.ndarray
    x: np.ndarray
    y: np.ndarray
    building_tile: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    road: np.ndarray

    @property
    def size(self) -> int:
        return len(self.geoms)


def road_blocks(boundary: BaseGeometry, roads: np.ndarray) -> np.ndarray:
    """Polygons into which ``roads`` (lines, same CRS) cut ``boundary``; they cover it."""
    roads = np.asarray(roads, dtype=object)
    lines = shapely.intersection(roads, boundary) if roads.size else roads
    lines = [g for g in shapely.get_parts(lines) if g.geom_type in ("LineString", "LinearRing")
             and not g.is_empty]
    noded = shapely.union_all([boundary.boundary, *lines])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    # Faces filling the community's holes are outside it.
    faces = faces[shapely.contains(boundary, shapely.point_on_surface(faces))
                  & (shapely.area(faces) > MIN_BLOCK_M2)] if faces.size else faces
    # What the faces miss (an unclosed ring, a dropped sliver) is a block too: the blocks
    # must cover the community exactly.
    rest = shapely.difference(boundary, shapely.union_all(faces)) if faces.size else boundary
    extra = [p for p in shapely.get_parts(rest) if p.area > MIN_BLOCK_M2]
    return np.concatenate([faces, np.array(extra, dtype=object)]) if extra else faces


def _block_of_points(blocks: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Block holding each point (the nearest block for a point on a road or just outside)."""
    tree = shapely.STRtree(blocks)
    pts, blk = tree.query(points, predicate="intersects")
    out = np.full(len(points), -1, dtype=np.int64)
    out[pts[::-1]] = blk[::-1]  # first match wins
    missing = np.nonzero(out < 0)[0]
    if missing.size:
        _, nearest = tree.query_nearest(points[missing], all_matches=False)
        out[missing] = nearest
    return out


def _lattice_pieces(geom: BaseGeometry, side: float) -> list[BaseGeometry]:
    """``geom`` cut by the squares of a lattice of ``side`` metres anchored at the CRS's
    origin (so a cut does not depend on which tile is cut)."""
    x0, y0, x1, y1 = geom.bounds
    xs = np.arange(np.floor(x0 / side), np.ceil(x1 / side)) * side
    ys = np.arange(np.floor(y0 / side), np.ceil(y1 / side)) * side
    gx, gy = np.meshgrid(xs, ys)
    squares = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + side, gy.ravel() + side)
    parts = shapely.get_parts(shapely.intersection(geom, squares))
    return [p for p in parts if p.geom_type == "Polygon" and p.area > MIN_BLOCK_M2]


def _split_large(part: BaseGeometry) -> list[BaseGeometry]:
    """An empty tile larger than :data:`SPLIT_AREA_M2` cut by the lattice; others whole."""
    return _lattice_pieces(part, TILE_SIDE_M) if part.area > SPLIT_AREA_M2 else [part]


def _shrink(part: BaseGeometry, core: BaseGeometry,
            point: BaseGeometry) -> list[tuple[BaseGeometry, bool]]:
    """(piece, holds the point) of a unit building's cell: the cell within ``core`` (its
    footprint's bounding box and a margin) is the unit's, the rest empty tiles."""
    inner = [p for p in shapely.get_parts(shapely.intersection(part, core))
             if p.geom_type == "Polygon" and p.area > MIN_BLOCK_M2]
    if not inner:
        return [(part, True)]
    holds = shapely.intersects(np.array(inner, dtype=object), point)
    owner = int(np.argmax(holds)) if holds.any() else int(np.argmax(shapely.area(inner)))
    pieces = [(p, j == owner) for j, p in enumerate(inner)]
    for p in shapely.get_parts(shapely.difference(part, core)):
        if p.geom_type == "Polygon" and p.area > MIN_BLOCK_M2:
            pieces += [(q, False) for q in _split_large(p)]
    return pieces


def _cells(block: BaseGeometry, points: np.ndarray,
           cores: list) -> list[tuple[BaseGeometry, int]]:
    """(part, index of the point it belongs to or -1) covering ``block``; a point with a
    ``cores`` entry (a unit building) keeps only the part of its cell inside it."""
    if len(points) == 1:
        cells = np.array([block], dtype=object)
    else:
        diagram = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=block,
                                           ordered=True)
        cells = shapely.intersection(shapely.get_parts(diagram), block)
    out: list[tuple[BaseGeometry, int]] = []
    for i, cell in enumerate(cells):
        parts = [p for p in shapely.get_parts(cell) if p.geom_type == "Polygon"
                 and p.area > MIN_BLOCK_M2]
        if not parts:
            continue
        # A cell cut by a concave block falls apart: only the piece holding the point is the
        # building's; the others are empty tiles that join whichever grid suits them.
        holds = shapely.intersects(np.array(parts, dtype=object), points[i])
        owner = int(np.argmax(holds)) if holds.any() else int(np.argmax(shapely.area(parts)))
        for j, p in enumerate(parts):
            if j != owner:
                out += [(q, -1) for q in _split_large(p)]
            elif cores[i] is None:
                out.append((p, i))
            else:
                out += [(q, i if mine else -1) for q, mine in _shrink(p, cores[i], points[i])]
    return out


def _unit_cores(footprints: np.ndarray, unit: np.ndarray, shrink: np.ndarray,
                key: np.ndarray, count: int) -> list:
    """Per point (``key`` of each building), None, or when all its buildings are unit
    buildings to ``shrink`` the box round their footprints widened by
    :data:`UNIT_MARGIN_M`: the ground a unit grid keeps, so that the rest of its cell can join
    residential grids instead of fencing them off."""
    cores: list = [None] * count
    for k in np.unique(key[unit & shrink]).tolist():
        if (unit & shrink)[key == k].all():
            x0, y0, x1, y1 = shapely.total_bounds(footprints[key == k])
            cores[k] = shapely.box(x0 - UNIT_MARGIN_M, y0 - UNIT_MARGIN_M,
                                   x1 + UNIT_MARGIN_M, y1 + UNIT_MARGIN_M)
    return cores


def build_tiles(boundary: BaseGeometry, footprints: np.ndarray, households: np.ndarray,
                unit: np.ndarray, roads: np.ndarray, *,
                shrink: np.ndarray | None = None) -> TileGraph:
    """Tiles and adjacency of one community (all geometries in one projected CRS).

    Parameters
    ----------
    boundary : the community polygon.
    footprints, households, unit : the buildings, their household counts and unit flags.
    roads : road lines near the community.
    shrink : unit buildings whose tiles keep only their own ground (see :func:`_unit_cores`);
        by default a unit building owns its whole cell, as any building does.
    """
    footprints = np.asarray(footprints, dtype=object)
    households = np.asarray(households, dtype=np.int64)
    unit = np.asarray(unit, dtype=bool)
    shrink = np.zeros(len(unit), bool) if shrink is None else np.asarray(shrink, dtype=bool)
    blocks = road_blocks(boundary, roads)
    points = shapely.point_on_surface(footprints) if footprints.size else footprints
    where = _block_of_points(blocks, points) if footprints.size else np.zeros(0, np.int64)
    # Buildings sharing a representative point (rounded to a millimetre) share a tile.
    xy = np.round(shapely.get_coordinates(points), 3) if footprints.size else np.zeros((0, 2))
    geoms, block_of, building_tile = [], [], np.full(len(footprints), -1, dtype=np.int64)
    for b, block in enumerate(blocks):
        mine = np.nonzero(where == b)[0]
        if mine.size == 0:
            for piece in _split_large(block):
                geoms.append(piece)
                block_of.append(b)
            continue
        keys, first, inverse = np.unique(xy[mine], axis=0, return_index=True,
                                         return_inverse=True)
        pieces = _cells(block, shapely.points(keys),
                        _unit_cores(footprints[mine], unit[mine], shrink[mine],
                                    inverse.ravel(), len(keys)))
        base = len(geoms)
        owner_tile = np.full(len(keys), -1, dtype=np.int64)
        for offset, (part, owner) in enumerate(pieces):
            geoms.append(part)
            block_of.append(b)
            if owner >= 0:
                owner_tile[owner] = base + offset
        lost = owner_tile < 0  # a point whose cell vanished: nearest piece of the block
        if lost.any():
            own = np.array([p for p, _ in pieces], dtype=object)
            _, near = shapely.STRtree(own).query_nearest(shapely.points(keys[lost]),
                                                         all_matches=False)
            owner_tile[lost] = base + near
        building_tile[mine] = owner_tile[inverse.ravel()]
    geoms = np.array(geoms, dtype=object)
    n = len(geoms)
    tile_households = np.bincount(building_tile, weights=households, minlength=n).astype(np.int64)
    tile_buildings = np.bincount(building_tile, minlength=n).astype(np.int64)
    # A tile is a unit tile when every building in it is a unit building.
    unit_count = np.bincount(building_tile, weights=unit.astype(float), minlength=n)
    tile_unit = (tile_buildings > 0) & (unit_count == tile_buildings)
    u, v, length = _adjacency(geoms)
    block_of = np.array(block_of, dtype=np.int64)
    inside = shapely.point_on_surface(geoms)
    return TileGraph(geoms=geoms, block=block_of, households=tile_households,
                     buildings=tile_buildings, unit=tile_unit, area=shapely.area(geoms),
                     perimeter=shapely.length(geoms), x=shapely.get_x(inside),
                     y=shapely.get_y(inside), building_tile=building_tile, u=u, v=v,
                     length=length, road=block_of[u] != block_of[v])


def _adjacency(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of tiles sharing more than :data:`MIN_SHARED_M` of boundary, and its length."""
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    rings = shapely.boundary(geoms)
    # Tiles are cut from one noded network, so a shared edge is common to both rings; a
    # small buffer absorbs the last-digit differences that clipping leaves.
    near = shapely.buffer(rings, 1e-4, quad_segs=1)
    shared = shapely.length(shapely.intersection(rings[left], near[right]))
    ok = shared > MIN_SHARED_M
    return left[ok].astype(np.int64), right[ok].astype(np.int64), shared[ok]
