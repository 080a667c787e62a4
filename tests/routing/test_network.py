"""Noding at real intersections only: levels, bridges, tunnels; routes never change level."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, strategies as st

from gridmap.routing import distance_matrix, node_ways, path, snap, stop_problems
from tests.routing.conftest import graph_of, lines, ways

# A street west–east, and a footbridge north–south over it; both have a vertex at the crossing
# (50, 0), as files often draw them. Stairs join the bridge's north end to the street's east
# end. A walk from the street's west part to the bridge's south part must go round by the
# stairs: 90 + 50 + 50 + 50 + 40 = 280 m, not 40 + 40 = 80 m through the crossing.
STREET = [(0, 0), (50, 0), (100, 0)]
BRIDGE = [(50, -50), (50, 0), (50, 50)]
STAIRS = [(50, 50), (100, 50), (100, 0)]


def test_bridge_over_a_street_does_not_meet_it():
    graph = graph_of(ways(lines(STREET, BRIDGE, STAIRS), bridge=[0, 1, 0]))
    assert graph.n_nodes == 4 and graph.n_edges == 3  # no node at (50, 0)
    stops = snap(graph, np.array([[10, 1], [50, -40]]), max_snap_m=20)
    assert distance_matrix(stops)[0, 1] == pytest.approx(280)
    walk = path(stops, 0, 1)
    assert walk.length == pytest.approx(280)
    # It passes (50, 0) twice — along the street, then on the bridge — going straight on
    # each time: it never turns from one level to the other there.
    coords = shapely.get_coordinates(walk)
    at = np.flatnonzero((coords == [50, 0]).all(axis=1))
    assert len(at) == 2
    for i in at:
        before, after = coords[i - 1], coords[i + 1]
        assert before[0] == after[0] == 50 or before[1] == after[1] == 0


def test_same_drawing_at_one_level_is_a_crossing():
    graph = graph_of(ways(lines(STREET, BRIDGE, STAIRS)))
    stops = snap(graph, np.array([[10, 1], [50, -40]]), max_snap_m=20)
    assert graph.n_nodes == 5
    assert distance_matrix(stops)[0, 1] == pytest.approx(80)


def test_tunnel_and_layer_tags_keep_levels_apart():
    for kwargs in ({"tunnel": [0, 1, 0]}, {"layer": [0, -1, 0]}, {"layer": [0, 2, 0]},
                   {"bridge": [1, 0, 1]}):
        graph = graph_of(ways(lines(STREET, BRIDGE, STAIRS), **kwargs))
        assert graph.n_nodes == 4, kwargs


def test_a_bridge_end_joins_the_ground():
    # The bridge is a way of its own from (50, 50) to (50, -50); its ends are vertices of the
    # ground-level approaches: they join whatever the level.
    approach_n = [(0, 50), (50, 50), (100, 50)]
    approach_s = [(0, -50), (50, -50), (100, -50)]
    graph = graph_of(ways(lines(STREET, [(50, 50), (50, 0), (50, -50)], approach_n,
                                approach_s), bridge=[0, 1, 0, 0]))
    stops = snap(graph, np.array([[0, 50], [0, -50], [0, 0]]), max_snap_m=1)
    matrix = distance_matrix(stops)
    assert matrix[0, 1] == pytest.approx(200)  # 50 + 100 over the bridge + 50
    assert np.isinf(matrix[0, 2])  # the street is not reached from the bridge


def test_lines_that_cross_without_a_shared_vertex_do_not_meet():
    graph = graph_of(ways(lines([(0, 0), (100, 0)], [(50, -50), (50, 50)])))
    assert graph.n_nodes == 4 and graph.n_edges == 2
    assert graph.components.max() == 1


def test_disconnected_and_far_stops_are_reported():
    graph = graph_of(ways(lines(STREET, [(0, 100), (100, 100)])))
    stops = snap(graph, np.array([[0, 1], [50, 101], [50, 500], [100, 2]]), max_snap_m=30)
    problems = stop_problems(stops, station=0)
    assert [(p.stop, p.reason) for p in problems] == [(1, "unreachable"), (2, "far")]
    assert problems[1].distance_m == pytest.approx(400)
    assert "400.0 m" in problems[1].describe() and "stop 2" in problems[0].describe()
    matrix = distance_matrix(stops)
    assert np.isinf(matrix[0, 1]) and np.isinf(matrix[2]).sum() == 3
    assert matrix[0, 3] == pytest.approx(100)


def test_snap_keeps_the_distance_and_the_point_on_the_edge():
    graph = graph_of(ways(lines(STREET)))
    stops = snap(graph, np.array([[30, 7], [-5, 0]]), max_snap_m=10)
    assert stops.distance.tolist() == pytest.approx([7, 5])
    assert stops.xy.tolist() == [[30, 0], [0, 0]]
    assert stops.offset.tolist() == pytest.approx([30, 0])


def test_stops_on_one_edge_walk_along_it():
    graph = graph_of(ways(lines([(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)])))  # a loop
    assert graph.n_edges == 1 and graph.source[0] == graph.target[0]
    stops = snap(graph, np.array([[10, 0], [90, 0], [0, 10]]), max_snap_m=1)
    matrix = distance_matrix(stops)
    assert matrix[0, 1] == pytest.approx(80)
    assert matrix[0, 2] == pytest.approx(20)  # round the loop's start, not along it
    assert path(stops, 0, 2).length == pytest.approx(20)


coordinate = st.integers(0, 6).map(lambda v: v * 10.0)


@given(st.lists(st.tuples(coordinate, coordinate, coordinate, coordinate), min_size=1,
                max_size=12), st.lists(st.integers(-1, 1), min_size=12, max_size=12))
def test_noding_keeps_every_way_and_ends_edges_at_nodes(segments, levels):
    geoms = lines(*[[(a, b), (c, d)] for a, b, c, d in segments if (a, b) != (c, d)])
    if len(geoms) == 0:
        return
    noded = node_ways(ways(geoms, layer=levels[:len(geoms)]))
    assert shapely.length(noded.geoms).sum() == pytest.approx(shapely.length(geoms).sum())
    starts = shapely.get_coordinates(shapely.get_point(noded.geoms, 0))
    ends = shapely.get_coordinates(shapely.get_point(noded.geoms, -1))
    assert (starts == noded.node_xy[noded.source]).all()
    assert (ends == noded.node_xy[noded.target]).all()
    # No edge has a node strictly inside it at its own level with another way's vertex there.
    assert len(np.unique(noded.node_xy, axis=0)) <= len(noded.node_xy)
