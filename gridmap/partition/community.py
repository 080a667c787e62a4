"""Partition one community into residential and unit grids (:func:`partition_community`).

Steps: tiles and their adjacency (:mod:`.tiles`; again with the units that fence off
residential land below the minimum shrunk to their own ground); unit tiles grouped into unit
grids (one per unit, or per cluster of unit buildings inside one road block, such as a
campus); the residential tiles, per connected piece, cut into the number of grids the bounds
imply (or ``grids``) by recursive spanning-tree bisection (:mod:`.bisect`), then improved by
splitting pairs of neighbouring grids again and by local moves (:mod:`.refine`). The result
is checked with the validator's own predicates, and every rule the plan cannot keep is named
(:mod:`.findings`) — an infeasible input gets the closest plan and the reasons, never a
silent bad plan.
"""
from __future__ import annotations

import math
import time

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gridmap import codes as gcodes
from gridmap.errors import InvalidInput
from gridmap.grid.validate import sequence_row_height
from gridmap.i18n import msg
from gridmap.partition.bisect import Bisector, Bounds
from gridmap.partition.findings import plan_findings
from gridmap.partition.plan import CommunityInput, Plan, PlanGrid, polsby_popper_of, street_share
from gridmap.partition.refine import recombine, refine
from gridmap.partition.tiles import TileGraph, build_tiles


def grid_count(total: int, bounds: Bounds) -> int:
    """How many grids ``total`` households make: a count whose mean lies in the bounds,
    nearest to the middle of them; the nearest count when none can."""
    ideal = total / ((bounds.low + bounds.high) / 2)
    fewest, most = math.ceil(total / bounds.high), math.floor(total / bounds.low)
    if fewest <= most:
        return int(min(max(round(ideal), fewest), most))
    return max(1, round(ideal))


def connected_pieces(graph: TileGraph, nodes: np.ndarray,
                     same_block: bool = False) -> list[np.ndarray]:
    """The connected pieces of ``nodes`` (tile indices); with ``same_block``, only through
    edges that do not cross a road."""
    mask = np.zeros(graph.size, dtype=bool)
    mask[nodes] = True
    keep = mask[graph.u] & mask[graph.v]
    if same_block:
        keep &= ~graph.road
    matrix = coo_matrix((np.ones(int(keep.sum())), (graph.u[keep], graph.v[keep])),
                        shape=(graph.size, graph.size))
    _, label = connected_components(matrix, directed=False)
    return [nodes[label[nodes] == c] for c in np.unique(label[nodes])]


def _share_counts(weights: list[int], k: int) -> list[int]:
    """Split ``k`` grids among pieces: one each, the rest to the piece with most households
    per grid (highest averages)."""
    counts = [1] * len(weights)
    for _ in range(k - len(weights)):
        i = int(np.argmax([w / c for w, c in zip(weights, counts)]))
        counts[i] += 1
    return counts


def partition_community(community: CommunityInput, *, min_households: int = 250,
                        max_households: int = 500, grids: int | None = None,
                        epsg: int, seed: int = 0) -> Plan:
    """A draft plan for ``community`` (see the module doc).

    Parameters
    ----------
    community : the boundary, buildings and roads, in the projected CRS ``epsg``.
    min_households, max_households : bounds of a residential grid.
    grids : exactly this many residential grids (default: the number the bounds imply).
    epsg : the projected CRS (locations in findings are given in lon/lat).
    seed : seeds the random spanning trees; the same input and seed give the same plan.
    """
    if not 0 < min_households <= max_households:
        raise InvalidInput(msg("household bounds {low}–{high}: expected 0 < min ≤ max",
                               low=min_households, high=max_households))
    if grids is not None and grids < 1:
        raise InvalidInput(msg("--grids {grids}: expected at least 1 residential grid",
                               grids=grids))
    started = time.perf_counter()
    bounds = Bounds(min_households, max_households)
    graph = build_tiles(community.boundary, community.footprints, community.households,
                        community.unit, community.roads)
    fencing = _fencing_units(graph, bounds)
    if fencing.any():
        # residential land fenced off by unit grids: those units keep only their own ground
        graph = build_tiles(community.boundary, community.footprints, community.households,
                            community.unit, community.roads,
                            shrink=fencing[graph.building_tile])
    labels = np.full(graph.size, -1, dtype=np.int64)
    notes: list[str] = []
    unit_groups = connected_pieces(graph, np.nonzero(graph.unit)[0], same_block=True)
    pieces = connected_pieces(graph, np.nonzero(~graph.unit)[0])
    empty = [p for p in pieces if graph.households[p].sum() == 0]
    pieces = [p for p in pieces if graph.households[p].sum() > 0] or empty[:1]
    empty = [p for p in empty if not any(p is q for q in pieces)]
    for piece in empty:  # households-free land fenced in by units joins a neighbouring unit
        unit_groups = _join_neighbour(graph, piece, unit_groups, pieces, notes)
    weights = [int(graph.households[p].sum()) for p in pieces]
    if len(pieces) > 1:
        for piece, w in zip(pieces, weights):
            if 0 < w < bounds.low:
                notes.append(msg("{households} households on {area:.0f} m² fenced off by "
                                 "unit grids or the community's edge: their grid cannot reach "
                                 "{low}", households=w, area=graph.area[piece].sum(),
                                 low=bounds.low))
    if grids is None:
        counts = [grid_count(w, bounds) for w in weights]
    else:
        if grids < len(pieces):
            notes.append(msg("--grids {grids}: the residential land falls in {pieces} pieces "
                             "separated by unit grids, each needing a grid of its own",
                             grids=grids, pieces=len(pieces)))
        counts = _share_counts(weights, max(grids, len(pieces)))
    rng = np.random.default_rng(seed)
    bisector = Bisector(graph, bounds, rng)
    next_label = 0
    for piece, k in zip(pieces, counts):
        for group in bisector.partition(piece, k):
            labels[group] = next_label
            next_label += 1
    residential_count = next_label
    labels = refine(graph, recombine(graph, labels, residential_count, bisector), bounds)
    for group in unit_groups:
        labels[group] = next_label
        next_label += 1
    plan = _assemble(community, graph, labels, residential_count, bounds)
    plan.violations = plan_findings(community, plan, epsg=epsg, requested=grids, notes=notes)
    plan.seconds = time.perf_counter() - started
    return plan


def _fencing_units(graph: TileGraph, bounds: Bounds) -> np.ndarray:
    """Unit tiles bordering a piece of residential land that holds households but fewer
    than the minimum and that unit tiles (or the community's edge) cut off from the rest:
    without them the piece could join a neighbouring grid."""
    fencing = np.zeros(graph.size, dtype=bool)
    pieces = connected_pieces(graph, np.nonzero(~graph.unit)[0])
    if len(pieces) < 2:
        return fencing
    small = np.zeros(graph.size, dtype=bool)
    for piece in pieces:
        if 0 < graph.households[piece].sum() < bounds.low:
            small[piece] = True
    touching = small[graph.u] & graph.unit[graph.v] | small[graph.v] & graph.unit[graph.u]
    fencing[graph.u[touching & graph.unit[graph.u]]] = True
    fencing[graph.v[touching & graph.unit[graph.v]]] = True
    return fencing


def _join_neighbour(graph: TileGraph, piece: np.ndarray, unit_groups: list[np.ndarray],
                    residential: list[np.ndarray], notes: list[str]) -> list[np.ndarray]:
    """Add ``piece`` to the unit group it shares most boundary with; a piece touching no
    unit becomes a residential piece of its own (a zero-household grid, then named)."""
    in_piece = np.zeros(graph.size, dtype=bool)
    in_piece[piece] = True
    best, best_len = -1, 0.0
    for i, group in enumerate(unit_groups):
        in_group = np.zeros(graph.size, dtype=bool)
        in_group[group] = True
        touching = (in_piece[graph.u] & in_group[graph.v]) | (in_group[graph.u] & in_piece[graph.v])
        shared = graph.length[touching].sum()
        if shared > best_len:
            best, best_len = i, shared
    if best < 0:
        notes.append(msg("{area:.0f} m² of the community without households touches no "
                         "other grid (the community is in separate parts): it is a "
                         "residential grid of its own", area=graph.area[piece].sum()))
        residential.append(piece)
        return unit_groups
    return [np.concatenate([g, piece]) if i == best else g for i, g in enumerate(unit_groups)]


CLOSE_M = 0.01
"""Tiles of two blocks meet along a road with vertices a few nanometres apart, which an
overlay may leave as a hairline gap splitting a grid in two: each grid's tiles are grown by
this much (m), united and shrunk back, closing such gaps and nothing wider."""

SLIVER_M2 = 0.5
"""Parts of a grid's union smaller than this (m²) are clipping noise (well under the
validator's 1 m² gap area); they are dropped."""


def grid_shape(tiles: np.ndarray):
    """One grid's polygon from its tiles (see :data:`CLOSE_M`)."""
    grown = shapely.buffer(tiles, CLOSE_M, join_style="mitre")
    shape = shapely.buffer(shapely.union_all(grown), -CLOSE_M, join_style="mitre")
    parts = shapely.get_parts(shape)
    big = parts[shapely.area(parts) >= SLIVER_M2]
    return shape if len(big) in (0, len(parts)) else shapely.union_all(big)


def _assemble(community: CommunityInput, graph: TileGraph, labels: np.ndarray,
              residential_count: int, bounds: Bounds) -> Plan:
    count = int(labels.max()) + 1
    geoms = np.array([grid_shape(graph.geoms[labels == g]) for g in range(count)],
                     dtype=object)
    points = shapely.point_on_surface(geoms)
    order = gcodes.spatial_sequence_order(shapely.get_x(points), shapely.get_y(points),
                                          row_height=sequence_row_height(geoms))
    rank = np.empty(count, dtype=np.int64)
    rank[order] = np.arange(count)
    building_grid = rank[labels[graph.building_tile]] if len(graph.building_tile) else \
        np.zeros(0, dtype=np.int64)
    tile_grid = rank[labels]
    households = np.asarray(community.households, dtype=np.int64)
    pp = polsby_popper_of(geoms)
    out = []
    for g in order:
        r = int(rank[g])
        members = np.nonzero(building_grid == r)[0]
        out.append(PlanGrid(label=f"{r + 1:02d}",
                            kind="residential" if g < residential_count else "unit",
                            geometry=geoms[g], buildings=members,
                            households=int(households[members].sum()),
                            polsby_popper=float(pp[g])))
    plan = Plan(community_code=community.code, min_households=bounds.low,
                max_households=bounds.high, grids=out, building_grid=building_grid)
    plan.street_share = street_share(tile_grid, graph.u, graph.v, graph.length, graph.road)
    return plan
