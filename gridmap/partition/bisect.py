"""Balanced, compact recursive bisection of a connected set of tiles along spanning trees.

A region that must become ``k`` grids is cut in two along one edge of a spanning tree, so both
sides stay connected; the sides get ``k // 2`` and ``k - k // 2`` grids and are cut again.
Trees are minimum spanning trees over centre distances, with road crossings made dear and a
random jitter: cheap tree edges join near tiles of one block, so the tree's dear edges — the
natural cuts — run along roads. Among several trees, the cut kept is the one whose sides are
within their bounds, most compact (Polsby–Popper, computed exactly from tile areas, perimeters
and shared boundary lengths) and most along roads. When no tree offers a cut within bounds the
most balanced cut is kept: the caller names the violation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import depth_first_order, minimum_spanning_tree

from gridmap.partition.tiles import TileGraph

ROAD_COST = 4.0
"""Factor on the length of tree edges crossing a road: cuts prefer to fall on roads."""

TREES = 12
"""Spanning trees tried per cut."""

CANDIDATES = 24
"""Most balanced cuts of a tree whose compactness is scored."""


@dataclass(frozen=True)
class Bounds:
    low: int
    high: int


def polsby_popper(area: np.ndarray, perimeter: np.ndarray) -> np.ndarray:
    """4πA/P² (1 for a disc), 0 where the perimeter is 0."""
    area = np.asarray(area, dtype=float)
    perimeter = np.asarray(perimeter, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(perimeter > 0, 4 * np.pi * area / np.maximum(perimeter, 1e-12) ** 2, 0.0)


class Bisector:
    """Cuts regions of one :class:`TileGraph`; ``rng`` makes runs reproducible."""

    def __init__(self, graph: TileGraph, bounds: Bounds, rng: np.random.Generator) -> None:
        self.g = graph
        self.bounds = bounds
        self.rng = rng
        dx = graph.x[graph.u] - graph.x[graph.v]
        dy = graph.y[graph.u] - graph.y[graph.v]
        self.cost = (np.hypot(dx, dy) + 1e-3) * np.where(graph.road, ROAD_COST, 1.0)

    def partition(self, nodes: np.ndarray, k: int) -> list[np.ndarray]:
        """``k`` connected groups of ``nodes`` (a connected set of tile indices)."""
        if k <= 1 or len(nodes) <= 1:
            return [nodes]
        k_left = k // 2
        left, right = self._cut(nodes, k_left, k - k_left)
        return self.partition(left, k_left) + self.partition(right, k - k_left)

    def _cut(self, nodes: np.ndarray, k_a: int, k_b: int) -> tuple[np.ndarray, np.ndarray]:
        g, n = self.g, len(nodes)
        local = np.full(g.size, -1, dtype=np.int64)
        local[nodes] = np.arange(n)
        inside = (local[g.u] >= 0) & (local[g.v] >= 0)
        eu, ev = local[g.u[inside]], local[g.v[inside]]
        elen, eroad, ecost = g.length[inside], g.road[inside], self.cost[inside]
        weight = g.households[nodes].astype(float)
        area, perim = g.area[nodes], g.perimeter[nodes]
        total = weight.sum()
        best, best_score = None, -np.inf
        for _ in range(TREES):
            jitter = ecost * self.rng.uniform(0.5, 1.5, size=ecost.size)
            tree = minimum_spanning_tree(coo_matrix((jitter, (eu, ev)), shape=(n, n)))
            order, parent = depth_first_order(tree, int(self.rng.integers(n)), directed=False)
            if len(order) < n:
                raise ValueError(f"region of {n} tiles is not connected")
            size = np.ones(n, dtype=np.int64)
            sub_w = weight.copy()
            for node in order[:0:-1]:  # children before parents
                size[parent[node]] += size[node]
                sub_w[parent[node]] += sub_w[node]
            pos = np.empty(n, dtype=np.int64)
            pos[order] = np.arange(n)
            score, side, takes_b = self._best_cut(order[1:], sub_w[order[1:]], total, k_a,
                                                  k_b, pos, size, eu, ev, elen, eroad, area,
                                                  perim)
            if score > best_score:
                best_score = score
                best = ((pos >= pos[side]) & (pos < pos[side] + size[side]), takes_b)
        sub, takes_b = best
        # The cut-off subtree takes k_a grids, or k_b when that fitted better.
        a_nodes, b_nodes = nodes[sub], nodes[~sub]
        return (b_nodes, a_nodes) if takes_b else (a_nodes, b_nodes)

    def _best_cut(self, cand, cand_w, total, k_a, k_b, pos, size, eu, ev, elen, eroad,
                  area, perim):
        """(score, node whose subtree is cut off, whether that subtree takes ``k_b``) of the
        best cut of one tree. The best few cuts by balance (within bounds first) are scored
        together: one row of a matrix per cut."""
        lo, hi = self.bounds.low, self.bounds.high
        k = k_a + k_b
        if not len(cand):
            return -np.inf, 0, False
        picks, devs, oks, sides = [], [], [], []
        for takes_b, k_sub in ((False, k_a), (True, k_b)):
            k_rest = k - k_sub
            dev = np.abs(cand_w - total * k_sub / k) / max(total / k, 1.0)
            ok = ((cand_w >= k_sub * lo) & (cand_w <= k_sub * hi)
                  & (total - cand_w >= k_rest * lo) & (total - cand_w <= k_rest * hi))
            rank = np.lexsort((dev, ~ok))[:CANDIDATES]
            picks.append(rank)
            devs.append(dev[rank])
            oks.append(ok[rank])
            sides.append(np.full(len(rank), takes_b))
        pick, dev, ok, side = (np.concatenate(a) for a in (picks, devs, oks, sides))
        node = cand[pick]
        start = pos[node][:, None]
        member = (pos[None, :] >= start) & (pos[None, :] < start + size[node][:, None])
        su, sv = member[:, eu], member[:, ev]
        cut = (su != sv).astype(float)
        cut_len = cut @ elen
        road_len = cut @ (elen * eroad)
        inner_a = (su & sv).astype(float) @ elen
        inner_b = (~su & ~sv).astype(float) @ elen
        m = member.astype(float)
        area_a, perim_a = m @ area, m @ perim
        pp_a = polsby_popper(area_a, perim_a - 2 * inner_a)
        pp_b = polsby_popper(area.sum() - area_a, perim.sum() - perim_a - 2 * inner_b)
        road_share = np.where(cut_len > 0, road_len / np.maximum(cut_len, 1e-12), 0.0)
        score = (np.minimum(pp_a, pp_b) + (pp_a + pp_b) / 2 + 0.3 * road_share - 2.0 * dev
                 - np.where(ok, 0.0, 10.0 + 10.0 * dev))
        best = int(np.argmax(score))
        return float(score[best]), int(node[best]), bool(side[best])
