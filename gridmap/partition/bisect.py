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

from gridmap.partition.tiles import TileGraph

ROAD_COST = 4.0
"""Factor on the length of tree edges crossing a road: cuts prefer to fall on roads."""

TREES = 12
"""Spanning trees tried per cut."""

CANDIDATES = 24
"""Most balanced cuts of a tree whose compactness is scored."""


PAIR_ROAD_WEIGHT = 0.1
"""Worth of a boundary between two grids wholly on roads, in units of Polsby–Popper, when
two neighbouring grids are split again (:meth:`Bisector.split_pair`)."""


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


def _tree_order(n: int, ends: tuple[list[int], list[int]], cost: np.ndarray,
                root: int) -> tuple[list[int], list[int]]:
    """The minimum spanning tree of ``n`` nodes over edges ``ends`` weighted by ``cost``
    (Kruskal), walked depth first from ``root``: (the nodes in preorder, so that every
    subtree is a run of it; each node's parent, -1 for the root). Plain Python: for the few
    hundred tiles of a region it is several times faster than building sparse matrices.

    Raises
    ------
    ValueError
        The edges do not connect the ``n`` nodes.
    """
    if n > SMALL_REGION:
        return _tree_order_sparse(n, ends, cost, root)
    left, right = ends
    group = list(range(n))

    def find(x: int) -> int:
        while group[x] != x:
            group[x] = group[group[x]]
            x = group[x]
        return x

    near: list[list[int]] = [[] for _ in range(n)]
    joined = 0
    for edge in np.argsort(cost, kind="stable").tolist():
        a, b = left[edge], right[edge]
        ra, rb = find(a), find(b)
        if ra != rb:
            group[ra] = rb
            near[a].append(b)
            near[b].append(a)
            joined += 1
            if joined == n - 1:
                break
    if joined < n - 1:
        raise ValueError(f"region of {n} tiles is not connected")
    order, parents, stack = [], [-1] * n, [root]
    seen = [False] * n
    seen[root] = True
    while stack:  # each node is pushed once, by its parent: a preorder walk of the tree
        node = stack.pop()
        order.append(node)
        for other in near[node]:
            if not seen[other]:
                seen[other] = True
                parents[other] = node
                stack.append(other)
    return order, parents


SMALL_REGION = 300
"""Regions of more tiles than this get their trees from scipy's sparse graph routines, whose
fixed cost per call is repaid on large regions."""


def _tree_order_sparse(n: int, ends: tuple[list[int], list[int]], cost: np.ndarray,
                       root: int) -> tuple[list[int], list[int]]:
    """:func:`_tree_order` for large regions."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import depth_first_order, minimum_spanning_tree

    tree = minimum_spanning_tree(coo_matrix((cost, ends), shape=(n, n)))
    order, parent = depth_first_order(tree, root, directed=False)
    if len(order) < n:
        raise ValueError(f"region of {n} tiles is not connected")
    return order.tolist(), parent.tolist()


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
        sub, takes_b, _ = self._search(nodes, k_a, k_b, pair=False)
        # The cut-off subtree takes k_a grids, or k_b when that fitted better.
        a_nodes, b_nodes = nodes[sub], nodes[~sub]
        return (b_nodes, a_nodes) if takes_b else (a_nodes, b_nodes)

    def split_pair(self, nodes: np.ndarray, *, trees: int = TREES) -> tuple[np.ndarray, float]:
        """The best split of two neighbouring grids' tiles ``nodes`` into two grids within
        the bounds: (mask of one side over ``nodes``, its :meth:`pair_score`); -inf when no
        tree offers a split within the bounds."""
        sub, _, score = self._search(nodes, 1, 1, pair=True, trees=trees)
        return sub, score

    def pair_score(self, nodes: np.ndarray, side: np.ndarray) -> float:
        """Polsby–Popper of both sides plus :data:`PAIR_ROAD_WEIGHT` × the share of the
        boundary between them on roads; -inf when a side is out of bounds."""
        g, n = self.g, len(nodes)
        local = np.full(g.size, -1, dtype=np.int64)
        local[nodes] = np.arange(n)
        inside = (local[g.u] >= 0) & (local[g.v] >= 0)
        eu, ev = local[g.u[inside]], local[g.v[inside]]
        member = side[None, :]
        weight = g.households[nodes].astype(float)
        w_a = float(weight[side].sum())
        ok = np.array([self.bounds.low <= w_a <= self.bounds.high
                       and self.bounds.low <= weight.sum() - w_a <= self.bounds.high])
        score = self._scores(member, ok, np.zeros(1), g.length[inside], g.road[inside], eu,
                             ev, g.area[nodes], g.perimeter[nodes], pair=True)
        return float(score[0])

    def _search(self, nodes: np.ndarray, k_a: int, k_b: int, *, pair: bool,
                trees: int = TREES) -> tuple[np.ndarray, bool, float]:
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
        weights, ends = weight.tolist(), (eu.tolist(), ev.tolist())
        for _ in range(trees):
            jitter = ecost * self.rng.uniform(0.5, 1.5, size=ecost.size)
            order_list, parents = _tree_order(n, ends, jitter, int(self.rng.integers(n)))
            # subtree sizes and households, children before parents
            sizes, sub = [1] * n, list(weights)
            for node in reversed(order_list[1:]):
                up = parents[node]
                sizes[up] += sizes[node]
                sub[up] += sub[node]
            order = np.array(order_list, dtype=np.int64)
            size, sub_w = np.array(sizes, dtype=np.int64), np.array(sub)
            pos = np.empty(n, dtype=np.int64)
            pos[order] = np.arange(n)
            score, side, takes_b = self._best_cut(order[1:], sub_w[order[1:]], total, k_a,
                                                  k_b, pos, size, eu, ev, elen, eroad, area,
                                                  perim, pair)
            if score > best_score or best is None:
                best_score = score
                best = ((pos >= pos[side]) & (pos < pos[side] + size[side]), takes_b)
        sub, takes_b = best
        return sub, takes_b, best_score

    def _best_cut(self, cand, cand_w, total, k_a, k_b, pos, size, eu, ev, elen, eroad,
                  area, perim, pair=False):
        """(score, node whose subtree is cut off, whether that subtree takes ``k_b``) of the
        best cut of one tree. The best few cuts by balance (within bounds first) are scored
        together: one row of a matrix per cut."""
        lo, hi = self.bounds.low, self.bounds.high
        k = k_a + k_b
        if not len(cand):
            return -np.inf, 0, False
        picks, devs, oks, sides = [], [], [], []
        # with k_a == k_b both ways of giving the subtree its count are the same cuts
        for takes_b, k_sub in ((False, k_a),) if k_a == k_b else ((False, k_a), (True, k_b)):
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
        score = self._scores(member, ok, dev, elen, eroad, eu, ev, area, perim, pair=pair)
        best = int(np.argmax(score))
        return float(score[best]), int(node[best]), bool(side[best])

    @staticmethod
    def _scores(member, ok, dev, elen, eroad, eu, ev, area, perim, *, pair: bool):
        """Score of each split (a row of ``member``: the tiles on one side). Bisection:
        both sides' compactness (the worse one and the mean), roads, balance, bounds first.
        A pair of grids (:meth:`split_pair`): the sum of their compactness and roads,
        -inf out of bounds."""
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
        if pair:
            return np.where(ok, pp_a + pp_b + PAIR_ROAD_WEIGHT * road_share, -np.inf)
        return (np.minimum(pp_a, pp_b) + (pp_a + pp_b) / 2 + 0.3 * road_share - 2.0 * dev
                - np.where(ok, 0.0, 10.0 + 10.0 * dev))
