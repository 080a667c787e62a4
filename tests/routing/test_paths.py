"""Distance matrix and paths against an independent oracle (networkx) on random graphs."""
from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import given, settings, strategies as st
from shapely.geometry import LineString

from gridmap.routing import WalkGraph, distance_matrix, path, snap, tour_paths
from tests.routing.conftest import GK


@st.composite
def graphs(draw):
    """A random small graph: nodes on a 10 m lattice, straight or bent edges, loops and
    parallel edges allowed, often in several pieces."""
    n = draw(st.integers(2, 8))
    cells = draw(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), min_size=n,
                          max_size=n, unique=True))
    xy = np.array(cells, float) * 10
    m = draw(st.integers(1, 12))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                          min_size=m, max_size=m))
    bends = draw(st.lists(st.tuples(st.integers(-20, 20), st.integers(-20, 20)),
                          min_size=m, max_size=m))
    geoms = []
    for (u, v), (bx, by) in zip(pairs, bends):
        if u == v and bx == by == 0:
            bx = 5  # noding never makes an edge of length 0
        middle = (xy[u] + xy[v]) / 2 + [bx, by]
        geoms.append(LineString([xy[u], middle, xy[v]]))
    geoms = np.array(geoms, dtype=object)
    source, target = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    return WalkGraph(epsg=GK, node_xy=xy, source=source, target=target,
                     length=shapely.length(geoms), geoms=geoms)


def oracle(graph: WalkGraph, stops) -> np.ndarray:
    """Node distances by networkx; a stop reaches its edge's two ends by the partial
    lengths, and a stop on the same edge directly."""
    g = nx.Graph()
    g.add_nodes_from(range(graph.n_nodes))
    for u, v, w in zip(graph.source, graph.target, graph.length):
        if u != v and (not g.has_edge(u, v) or g[u][v]["weight"] > w):
            g.add_edge(int(u), int(v), weight=float(w))
    nodes = dict(nx.all_pairs_dijkstra_path_length(g))
    k = len(stops)
    out = np.full((k, k), np.inf)
    ends = [((graph.source[e], o), (graph.target[e], graph.length[e] - o))
            for e, o in zip(stops.edge, stops.offset)]
    for a, b in itertools.product(range(k), repeat=2):
        best = abs(stops.offset[a] - stops.offset[b]) if stops.edge[a] == stops.edge[b] else np.inf
        for (p, dp), (q, dq) in itertools.product(ends[a], ends[b]):
            if q in nodes[p]:
                best = min(best, dp + nodes[p][q] + dq)
        out[a, b] = best
    return out


stop_points = st.lists(st.tuples(st.floats(-10, 100), st.floats(-10, 100)), min_size=1,
                       max_size=12)


@settings(max_examples=300)
@given(graphs(), stop_points)
def test_matrix_equals_the_oracle(graph, points):
    stops = snap(graph, np.array(points), max_snap_m=1e6)
    matrix = distance_matrix(stops)
    expected = oracle(graph, stops)
    assert np.array_equal(np.isinf(matrix), np.isinf(expected))
    finite = np.isfinite(expected)
    assert matrix[finite] == pytest.approx(expected[finite], abs=1e-6)
    assert np.array_equal(matrix, matrix.T) or np.allclose(matrix[finite], matrix.T[finite])


@given(graphs(), stop_points.map(lambda points: points[:7]))
def test_paths_are_continuous_along_edges_and_as_long_as_the_matrix_says(graph, points):
    stops = snap(graph, np.array(points), max_snap_m=1e6)
    matrix = distance_matrix(stops)
    network = shapely.union_all(graph.geoms)
    near = network.buffer(1e-6)
    for a, b in itertools.product(range(len(stops)), repeat=2):
        if not np.isfinite(matrix[a, b]):
            continue
        walk = path(stops, a, b)
        coords = shapely.get_coordinates(walk)
        assert coords[0] == pytest.approx(stops.xy[a]) and coords[-1] == pytest.approx(stops.xy[b])
        assert walk.length == pytest.approx(matrix[a, b], abs=1e-6)
        # Every piece of the walk lies on the network (no jump between edges).
        assert shapely.distance(shapely.points(coords), network).max() < 1e-6
        if a != b:
            assert shapely.difference(walk, near).length < 1e-6


def test_tour_paths_one_per_leg():
    geoms = np.array([LineString([(0, 0), (100, 0)]), LineString([(100, 0), (100, 100)])],
                     dtype=object)
    graph = WalkGraph(epsg=GK, node_xy=np.array([[0, 0], [100, 0], [100, 100]], float),
                      source=np.array([0, 1]), target=np.array([1, 2]),
                      length=shapely.length(geoms), geoms=geoms)
    stops = snap(graph, np.array([[0, 0], [100, 50], [50, 0]]), max_snap_m=1)
    legs = tour_paths(stops, [0, 1, 2, 0])
    assert [round(leg.length) for leg in legs] == [150, 100, 50]
    for first, second in zip(legs, legs[1:]):
        assert first.coords[-1] == second.coords[0]


def test_bounded_searches_on_a_lattice_agree_with_the_oracle():
    # A 15 × 15 lattice with stops bunched in one corner and a few far away: most searches
    # stop at their bound, and half the paths come from the other stop's tree.
    rng = np.random.default_rng(7)
    side = 15
    index = np.arange(side * side).reshape(side, side)
    pairs = np.r_[np.column_stack([index[:, :-1].ravel(), index[:, 1:].ravel()]),
                  np.column_stack([index[:-1, :].ravel(), index[1:, :].ravel()])]
    xy = np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2) * 50.0
    geoms = shapely.linestrings(np.stack([xy[pairs[:, 0]], xy[pairs[:, 1]]], 1).reshape(-1, 2),
                                indices=np.repeat(np.arange(len(pairs)), 2))
    graph = WalkGraph(epsg=GK, node_xy=xy, source=pairs[:, 0], target=pairs[:, 1],
                      length=shapely.length(geoms), geoms=geoms)
    points = np.r_[rng.uniform(0, 150, (20, 2)), rng.uniform(0, 700, (4, 2))]
    stops = snap(graph, points, max_snap_m=100)
    matrix = distance_matrix(stops)
    assert matrix == pytest.approx(oracle(graph, stops), abs=1e-6)
    for a, b in itertools.combinations(range(len(stops)), 2):
        assert path(stops, a, b).length == pytest.approx(matrix[a, b], abs=1e-6)
        assert path(stops, b, a).length == pytest.approx(matrix[a, b], abs=1e-6)
