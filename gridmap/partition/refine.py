"""Improving a plan: two neighbouring grids split again as one region (:func:`recombine`), and
local moves of boundary tiles between neighbouring residential grids (:func:`refine`).

A split again can take back a long arm or a ragged stretch of boundary that no single tile
move would (each move alone makes one of the two grids worse).

A tile moves from its grid to a neighbouring one when both grids stay within bounds (or the
move brings an out-of-bounds grid nearer to them), the grid it leaves stays in one piece, and
the plan gets better: more compact (sum of Polsby–Popper) and less grid boundary off the
roads. Totals are kept per grid, so a move is scored in time proportional to the tile's edges.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from gridmap.partition.bisect import Bisector, Bounds, polsby_popper
from gridmap.partition.tiles import TileGraph

OFF_ROAD_WEIGHT = 0.5
"""Worth of one mean grid perimeter of boundary moved from between buildings onto roads, in
units of Polsby–Popper."""

PASSES = 8

SWEEPS = 4
"""Rounds of :func:`recombine`: the first tries every pair of neighbouring grids, the next
ones the pairs with a grid the round before changed (it stops when a round changes
nothing)."""

PAIR_TREES = 6
"""Spanning trees tried per pair of grids split again."""


def recombine(graph: TileGraph, labels: np.ndarray, grids: int, bisector: Bisector, *,
              sweeps: int | None = None) -> np.ndarray:
    """Improved copy of ``labels``: each pair of neighbouring grids among the first ``grids``
    (residential) is split again along the best of several spanning trees, and the split is
    kept when both grids stay within bounds and the pair's compactness and road-following
    (:meth:`Bisector.pair_score`) improve."""
    labels = labels.copy()
    dirty = set(range(grids))  # grids changed since their pairs were last tried
    for _ in range(SWEEPS if sweeps is None else sweeps):
        changed: set[int] = set()
        a_of, b_of = labels[graph.u], labels[graph.v]
        touching = (a_of != b_of) & (a_of >= 0) & (b_of >= 0) & (a_of < grids) & (b_of < grids)
        pairs = np.unique(np.sort(np.column_stack([a_of[touching], b_of[touching]]), axis=1),
                          axis=0)
        for a, b in pairs.tolist():
            if a not in dirty and b not in dirty:
                continue
            if not (((labels[graph.u] == a) & (labels[graph.v] == b))
                    | ((labels[graph.u] == b) & (labels[graph.v] == a))).any():
                continue  # no longer neighbours since an earlier split this round
            nodes = np.nonzero((labels == a) | (labels == b))[0]
            now = bisector.pair_score(nodes, labels[nodes] == a)
            side, score = bisector.split_pair(nodes, trees=PAIR_TREES)
            if score > now + 1e-6:
                labels[nodes[side]] = a
                labels[nodes[~side]] = b
                changed |= {a, b}
        if not changed:
            break
        dirty = changed
    return labels


def _neighbours(graph: TileGraph) -> list[list[tuple[int, float, bool]]]:
    out: list[list[tuple[int, float, bool]]] = [[] for _ in range(graph.size)]
    for a, b, length, road in zip(graph.u.tolist(), graph.v.tolist(), graph.length.tolist(),
                                  graph.road.tolist()):
        out[a].append((b, length, road))
        out[b].append((a, length, road))
    return out


def _connected_without(members: set[int], removed: int,
                       near: list[list[tuple[int, float, bool]]]) -> bool:
    rest = members - {removed}
    if not rest:
        return False
    start = next(iter(rest))
    seen, queue = {start}, deque([start])
    while queue:
        node = queue.popleft()
        for other, _, _ in near[node]:
            if other in rest and other not in seen:
                seen.add(other)
                queue.append(other)
    return len(seen) == len(rest)


def _distance(total: float, bounds: Bounds) -> float:
    return max(bounds.low - total, total - bounds.high, 0.0)


def refine(graph: TileGraph, labels: np.ndarray, bounds: Bounds, *,
           passes: int = PASSES) -> np.ndarray:
    """Improved copy of ``labels`` (grid of each tile; ``-1`` for tiles that do not move)."""
    labels = labels.copy()
    grids = int(labels.max()) + 1 if (labels >= 0).any() else 0
    if grids < 2:
        return labels
    near = _neighbours(graph)
    mine = labels >= 0
    weight = np.bincount(labels[mine], weights=graph.households[mine], minlength=grids)
    area = np.bincount(labels[mine], weights=graph.area[mine], minlength=grids)
    members = [set(np.nonzero(labels == g)[0].tolist()) for g in range(grids)]
    inner = np.zeros(grids)
    same = (labels[graph.u] == labels[graph.v]) & (labels[graph.u] >= 0)
    np.add.at(inner, labels[graph.u[same]], graph.length[same])
    perim = np.bincount(labels[mine], weights=graph.perimeter[mine], minlength=grids) - 2 * inner
    scale = max(float(perim.mean()), 1.0)
    for _ in range(passes):
        moved = 0
        boundary = np.unique(np.concatenate([
            graph.u[(labels[graph.u] != labels[graph.v]) & (labels[graph.u] >= 0)],
            graph.v[(labels[graph.u] != labels[graph.v]) & (labels[graph.v] >= 0)]]))
        for t in boundary.tolist():
            a = int(labels[t])
            if a < 0:
                continue
            shared: dict[int, float] = {}
            shared_off: dict[int, float] = {}
            for other, length, road in near[t]:
                g = int(labels[other])
                shared[g] = shared.get(g, 0.0) + length
                if not road:
                    shared_off[g] = shared_off.get(g, 0.0) + length
            w, at, pt = graph.households[t], graph.area[t], graph.perimeter[t]
            best, best_gain = -1, 1e-9
            for b in shared:
                if b < 0 or b == a:
                    continue
                before = _distance(weight[a], bounds) + _distance(weight[b], bounds)
                after = _distance(weight[a] - w, bounds) + _distance(weight[b] + w, bounds)
                if after > before:
                    continue
                pa = perim[a] - pt + 2 * shared.get(a, 0.0)
                pb = perim[b] + pt - 2 * shared[b]
                old = polsby_popper([area[a], area[b]], [perim[a], perim[b]]).sum()
                new = polsby_popper([area[a] - at, area[b] + at], [pa, pb]).sum()
                off_delta = shared_off.get(a, 0.0) - shared_off.get(b, 0.0)
                gain = (new - old) - OFF_ROAD_WEIGHT * off_delta / scale + (before - after)
                if gain > best_gain:
                    best, best_gain = b, gain
            if best < 0 or not _connected_without(members[a], t, near):
                continue
            b = best
            perim[a] += -pt + 2 * shared.get(a, 0.0)
            perim[b] += pt - 2 * shared[b]
            weight[a] -= w
            weight[b] += w
            area[a] -= at
            area[b] += at
            members[a].discard(t)
            members[b].add(t)
            labels[t] = b
            moved += 1
        if not moved:
            break
    return labels
