"""Walking routes over the street network: the walking graph, snapping, shortest paths.

The API another module calls::

    graph = load_graph(session, district)            # once per request
    stops = snap(graph, points, max_snap_m=..., crs=4490)
    problems = stop_problems(stops, station=0)       # far and unreachable stops, with reason
    matrix = distance_matrix(stops)                  # metres, inf where not routable
    line = path(stops, a, b)                         # LineString in graph.epsg
"""
from gridmap.routing.graph import WalkGraph
from gridmap.routing.network import Noded, Ways, level_of, node_ways
from gridmap.routing.paths import distance_matrix, path, tour_paths
from gridmap.routing.snap import FAR, UNREACHABLE, Snapped, StopProblem, snap, stop_problems

__all__ = ["WalkGraph", "Ways", "Noded", "level_of", "node_ways", "snap", "Snapped",
           "StopProblem", "stop_problems", "FAR", "UNREACHABLE", "distance_matrix", "path",
           "tour_paths"]
