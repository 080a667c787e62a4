"""Hand-drawn networks in metres, placed in the demo district (EPSG:4547, Wuhan)."""
from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString

from gridmap.geo import STORAGE_SRID, transformer
from gridmap.routing import WalkGraph, Ways, level_of, node_ways

GK = 4547  # the demo district's Gauss–Krüger zone (central meridian 114°E)
ORIGIN = (537_400.0, 3_376_200.0)  # inside the demo district (2.2 × 1.6 km), GK metres


def lines(*coords) -> np.ndarray:
    return np.array([LineString(c) for c in coords], dtype=object)


def ways(geoms, *, bridge=None, tunnel=None, layer=None) -> Ways:
    count = len(geoms)
    zeros = np.zeros(count, int)
    return Ways(np.asarray(geoms, dtype=object),
                level_of(zeros if bridge is None else bridge,
                         zeros if tunnel is None else tunnel,
                         zeros if layer is None else layer),
                np.arange(count))


def graph_of(w: Ways) -> WalkGraph:
    """Noded and measured in the metres they are drawn in."""
    return WalkGraph.from_noded(node_ways(w), GK)


def stored(w: Ways) -> Ways:
    """Hand-drawn ways (metres from ORIGIN) as EPSG:4490 ways, for the database."""
    trans = transformer(GK, STORAGE_SRID)
    geoms = shapely.transform(w.geoms, lambda xy: np.column_stack(
        trans.transform(xy[:, 0] + ORIGIN[0], xy[:, 1] + ORIGIN[1])))
    return Ways(geoms, w.levels, w.road_ids)
