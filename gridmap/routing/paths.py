"""Shortest walks among snapped stops: the distance matrix and the path geometry.

Each stop lies part-way along an edge. Rather than adding the two partial lengths to the
distances of both end nodes (four sums per pair, and a wrong answer for two stops on the same
edge), every stop becomes a node of its own: the edges that carry stops are cut at them, in
order of offset, into stretches that remember which part of the edge they walk. One
``scipy.sparse.csgraph.dijkstra`` from the k stop nodes then gives the matrix and, with the
predecessors, every path; a path's geometry is the concatenation of the stretches it walks,
so its length is the matrix distance.
"""
from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString
from shapely.ops import substring

from gridmap.errors import InvalidInput
from gridmap.i18n import msg
from gridmap.routing.graph import Adjacency
from gridmap.routing.snap import Snapped


def _augmented(snapped: Snapped) -> Adjacency:
    """The graph with stop ``i`` as node ``n + i`` on its edge (cached on ``snapped``)."""
    if "adjacency" in snapped.cache:
        return snapped.cache["adjacency"]
    graph = snapped.graph
    n, k = graph.n_nodes, len(snapped)
    order = np.lexsort((snapped.offset, snapped.edge))
    edge, offset = snapped.edge[order], snapped.offset[order]
    stop_node = n + order
    first = np.r_[True, edge[1:] != edge[:-1]]
    last = np.r_[edge[1:] != edge[:-1], True]
    # Stretches into each stop from the previous stop on its edge (or the edge's source) …
    prev_node = np.where(first, graph.source[edge], np.r_[-1, stop_node[:-1]])
    prev_offset = np.where(first, 0.0, np.r_[0.0, offset[:-1]])
    # … and from the last stop of each edge to its target.
    tail_edge = edge[last]
    cut = np.zeros(graph.n_edges, bool)
    cut[edge] = True
    whole = np.flatnonzero(~cut)
    u = np.r_[graph.source[whole], prev_node, stop_node[last]]
    v = np.r_[graph.target[whole], stop_node, graph.target[tail_edge]]
    base = np.r_[whole, edge, tail_edge]
    start = np.r_[np.zeros(len(whole)), prev_offset, offset[last]]
    end = np.r_[graph.length[whole], offset, graph.length[tail_edge]]
    adjacency = Adjacency.build(n + k, u, v, base, start, end)
    snapped.cache["adjacency"] = adjacency
    return adjacency


def _search(snapped: Snapped) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distances among the stops, and the shortest-path trees to walk them (cached).

    A grid's stops lie in a small part of a district's network, and a search from each stop
    over all of it is wasted work. Walking is symmetric, so a pair needs a search from one of
    its stops only; and the searches done so far bound the rest: for stops a, b and a searched
    stop s, d(a, b) ≤ d(s, a) + d(s, b). The first search, from the stop nearest the stops'
    centre, is complete; then each stop, farthest from it first, searches only as far as the
    bound of the farthest stop not yet searched on its piece (scipy's ``limit``, which leaves
    every distance within it exact).

    Returns
    -------
    matrix
        ``(k, k)`` exact distances (``inf`` between pieces).
    predecessors
        ``(k, n + k)`` the shortest-path tree of each stop's search.
    tree
        ``(k, k)`` whether stop a's tree reaches stop b (else b's reaches a).
    """
    if "search" in snapped.cache:
        return snapped.cache["search"]
    csr = _augmented(snapped).csr
    n, k = snapped.graph.n_nodes, len(snapped)
    component = snapped.component
    found = np.full((k, k), np.inf)  # row a: what a's (limited) search found
    predecessors = np.empty((k, n + k), np.int32)
    pivot = int(np.argmin(((snapped.xy - snapped.xy.mean(axis=0)) ** 2).sum(axis=1)))
    row, predecessors[pivot] = dijkstra(csr, directed=True, indices=pivot + n,
                                        return_predecessors=True)
    found[pivot] = row[n:]
    searched = np.zeros(k, bool)
    searched[pivot] = True
    for a in np.argsort(-np.where(np.isfinite(found[pivot]), found[pivot], np.inf),
                        kind="stable"):
        if searched[a]:
            continue
        searched[a] = True
        left = ~searched & (component == component[a])
        limit = 0.0
        if left.any():
            rows = found[searched]
            bounds = (rows[:, a, None] + rows[:, left]).min(axis=0)
            limit = bounds.max() * (1 + 1e-9) + 1e-6  # inf when no search reached a yet
        row, predecessors[a] = dijkstra(csr, directed=True, indices=a + n,
                                        return_predecessors=True, limit=limit)
        found[a] = row[n:]
    matrix = np.minimum(found, found.T)
    snapped.cache["search"] = matrix, predecessors, np.isfinite(found)
    return snapped.cache["search"]


def distance_matrix(snapped: Snapped) -> np.ndarray:
    """Walking distances in metres between every pair of stops.

    Returns
    -------
    numpy.ndarray
        ``(k, k)``, symmetric, zero on the diagonal; ``inf`` between stops in different
        pieces of the network and in every row and column of a stop that is far from the
        streets (see :func:`gridmap.routing.snap.stop_problems`).
    """
    matrix = _search(snapped)[0].copy()
    matrix[snapped.far, :] = np.inf
    matrix[:, snapped.far] = np.inf
    np.fill_diagonal(matrix, 0.0)
    return matrix


def _node_path(snapped: Snapped, a: int, b: int) -> np.ndarray:
    """The nodes of a shortest walk from stop a to stop b, from whichever of the two search
    trees holds it (b's tree leads from a to b as it is; a's, read from b, backwards)."""
    matrix, predecessors, tree = _search(snapped)
    if not np.isfinite(matrix[a, b]):
        raise InvalidInput(msg("no walk from stop {a} to stop {b}: they are on pieces of "
                               "the street network that are not connected", a=a + 1, b=b + 1))
    n = snapped.graph.n_nodes
    root, start = (a, b) if tree[a, b] else (b, a)
    row, node, nodes = predecessors[root], n + start, [n + start]
    while node != n + root:
        node = row[node]
        nodes.append(node)
    return np.asarray(nodes[::-1] if root == a else nodes)


def _stretch(line: LineString, length: float, start: float, end: float) -> np.ndarray:
    """Coordinates of the part of ``line`` from offset ``start`` to ``end``."""
    if start == 0.0 and end == length:
        return shapely.get_coordinates(line)
    if start == length and end == 0.0:
        return shapely.get_coordinates(line)[::-1]
    if start == end:
        return shapely.get_coordinates(shapely.line_interpolate_point(line, start))
    return shapely.get_coordinates(substring(line, start, end))


def path(snapped: Snapped, a: int, b: int) -> LineString:
    """The walk from stop ``a`` to stop ``b`` along graph edges, in the graph's CRS.

    Its first point is ``a``'s snapped point, its last ``b``'s, and its length equals
    ``distance_matrix(snapped)[a, b]``.

    Raises
    ------
    InvalidInput
        When ``b`` cannot be reached from ``a``, or either is far from the streets.
    """
    for stop in (a, b):
        if not 0 <= stop < len(snapped):
            raise InvalidInput(msg("stop {stop}: expected 1 to {count}", stop=stop + 1,
                                   count=len(snapped)))
        if snapped.far[stop]:
            raise InvalidInput(msg("stop {stop} is far from every street; not routed",
                                   stop=stop + 1))
    if a == b:
        return LineString([snapped.xy[a], snapped.xy[a]])
    nodes = _node_path(snapped, a, b)
    adjacency = _augmented(snapped)
    entries = adjacency.entries(nodes[:-1], nodes[1:])
    graph = snapped.graph
    pieces = [_stretch(graph.geoms[e], graph.length[e], s, t) for e, s, t in
              zip(adjacency.base[entries], adjacency.start[entries], adjacency.end[entries])]
    # Consecutive stretches meet at a node: keep that point once.
    coords = np.concatenate([pieces[0]] + [p[1:] for p in pieces[1:]])
    if len(coords) == 1:
        coords = np.repeat(coords, 2, axis=0)
    return LineString(coords)


def tour_paths(snapped: Snapped, order: list[int] | np.ndarray) -> list[LineString]:
    """The walk of each leg of a tour visiting the stops in ``order`` (one LineString per
    consecutive pair; close the tour by repeating the station at the end)."""
    order = [int(i) for i in order]
    return [path(snapped, a, b) for a, b in zip(order[:-1], order[1:])]
