"""Noding: walkable ways → a graph of nodes and edges, joined at real intersections only.

Two ways meet where they share a vertex (the same coordinates, as OSM ways share a node),
never merely where their lines cross: a footbridge drawn over a street crosses it without a
shared vertex, and even where a file puts a vertex of each at the crossing point they are not
joined unless both are at the same **level**. A way's level is its OSM ``layer`` when that is
not 0, else +1 for a bridge, −1 for a tunnel, else 0.

An *end* of a way joins every way at that point whatever their levels: that is where a bridge
meets its approach road (in OSM the bridge is a way of its own whose ends are nodes of the
ground-level ways). Interior shared vertices join only ways of the same level.

Nodes are the ends of ways and the interior vertices where ways join; each way is cut at its
nodes into edges. Noding compares coordinates exactly, so it works on the stored (EPSG:4490)
coordinates; lengths are measured afterwards in the district's projected CRS.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

_ANY_LEVEL = 1_000  # a key level that no way has: every way at a point with a way's end


@dataclass(frozen=True)
class Ways:
    """Walkable ways before noding.

    Attributes
    ----------
    geoms
        LineStrings or MultiLineStrings (each part is a way), any CRS.
    levels
        The level of each way (see the module doc), integers.
    road_ids
        Where each way came from (the ``road`` row id, or -1), for reference.
    """

    geoms: np.ndarray
    levels: np.ndarray
    road_ids: np.ndarray

    def __len__(self) -> int:
        return len(self.geoms)


@dataclass(frozen=True)
class Noded:
    """The noded network: node coordinates and edges between them, in the CRS of the ways.

    Attributes
    ----------
    node_xy
        ``(n, 2)`` coordinates of the nodes.
    source, target
        Node indices of each edge's first and last vertex.
    geoms
        Each edge as a LineString from its source to its target.
    road_ids, levels
        The way each edge was cut from, and its level.
    """

    node_xy: np.ndarray
    source: np.ndarray
    target: np.ndarray
    geoms: np.ndarray
    road_ids: np.ndarray
    levels: np.ndarray


def level_of(bridge: np.ndarray, tunnel: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """The walking level of ways from their OSM ``bridge``, ``tunnel`` and ``layer`` tags.

    ``layer`` (non-zero) wins; otherwise a bridge is +1, a tunnel −1, anything else 0.
    """
    layer = np.asarray(layer, dtype=np.int64)
    implied = np.where(np.asarray(bridge, bool), 1, np.where(np.asarray(tunnel, bool), -1, 0))
    return np.where(layer != 0, layer, implied)


def _parts(ways: Ways) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every linestring part, with its level and road id; repeated vertices removed."""
    parts, index = shapely.get_parts(np.asarray(ways.geoms, dtype=object), return_index=True)
    parts = shapely.remove_repeated_points(parts)
    keep = (shapely.get_num_points(parts) >= 2) & ~shapely.is_empty(parts)
    return (parts[keep], np.asarray(ways.levels, np.int64)[index][keep],
            np.asarray(ways.road_ids, np.int64)[index][keep])


def node_ways(ways: Ways) -> Noded:
    """Cut ``ways`` into edges at their real intersections (see the module doc).

    Parameters
    ----------
    ways
        The walkable ways; every part of a multi-line is a way of its own.

    Returns
    -------
    Noded
        Nodes and edges; an edge keeps its way's vertices in order.
    """
    parts, levels, road_ids = _parts(ways)
    xy, part_of = shapely.get_coordinates(parts, return_index=True)
    if len(xy) == 0:
        empty = np.empty(0, np.int64)
        return Noded(np.empty((0, 2)), empty, empty, np.empty(0, object), empty, empty)
    first = np.r_[True, part_of[1:] != part_of[:-1]]
    last = np.r_[part_of[1:] != part_of[:-1], True]
    is_end = first | last
    # Same point ⇔ same coordinates exactly: one location id per distinct (x, y).
    _, location = np.unique(xy, axis=0, return_inverse=True)
    location = location.ravel()
    end_here = np.bincount(location, weights=is_end, minlength=location.max() + 1) > 0
    level = levels[part_of]
    key_level = np.where(end_here[location], _ANY_LEVEL, level)
    keys, key_id, key_count = np.unique(np.column_stack([location, key_level]), axis=0,
                                        return_inverse=True, return_counts=True)
    key_id = key_id.ravel()
    is_node = is_end | (key_count[key_id] >= 2)
    node_keys, node_of_key = np.unique(key_id[is_node], return_inverse=True)
    node_index = np.full(len(keys), -1, np.int64)
    node_index[node_keys] = np.arange(len(node_keys))
    node_xy = np.zeros((len(node_keys), 2))
    node_xy[node_of_key] = xy[is_node]

    # Segment i runs from vertex i to i + 1 within a part; a new edge starts at every node
    # vertex that is not a part's last vertex.
    segment = ~last
    starts = is_node & segment
    edge_of_vertex = np.cumsum(starts) - 1  # the edge that starts at or runs through vertex i
    seg_index = np.flatnonzero(segment)
    seg_edge = edge_of_vertex[seg_index]
    # Each edge: the start vertex of each of its segments, then the end vertex of its last.
    ends_edge = np.r_[seg_edge[1:] != seg_edge[:-1], True]
    vertex_rows = np.r_[seg_index, seg_index[ends_edge] + 1]
    vertex_edges = np.r_[seg_edge, seg_edge[ends_edge]]
    order = np.lexsort((vertex_rows, vertex_edges))
    geoms = shapely.linestrings(xy[vertex_rows[order]], indices=vertex_edges[order])
    edge_first = seg_index[np.r_[True, seg_edge[1:] != seg_edge[:-1]]]
    edge_last = seg_index[ends_edge] + 1
    return Noded(node_xy=node_xy,
                 source=node_index[key_id[edge_first]],
                 target=node_index[key_id[edge_last]],
                 geoms=geoms,
                 road_ids=road_ids[part_of[edge_first]],
                 levels=levels[part_of[edge_first]])
