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
from gridmap.routing.sources import ways_from_file, ways_from_roads
from gridmap.routing.store import (NetworkReport, Piece, check_network, import_network,
                                   load_graph)

__all__ = ["WalkGraph", "Ways", "Noded", "level_of", "node_ways", "snap", "Snapped",
           "StopProblem", "stop_problems", "FAR", "UNREACHABLE", "distance_matrix", "path",
           "tour_paths", "ways_from_file", "ways_from_roads", "NetworkReport", "Piece",
           "check_network", "import_network", "load_graph"]
