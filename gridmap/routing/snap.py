"""Stops onto the walking graph: each point to the nearest point of the nearest edge.

The snap distance is kept: a stop farther than ``max_snap_m`` (the setting of that name) from
every street is *far* — reported, never routed. A stop whose edge lies in another connected
piece of the network than the station's is *unreachable*. :func:`stop_problems` lists both
with their reason, so the route can cover the rest.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from gridmap.errors import InvalidInput
from gridmap.geo import transformer
from gridmap.i18n import msg
from gridmap.routing.graph import WalkGraph

FAR = "far"
UNREACHABLE = "unreachable"


@dataclass(eq=False)
class Snapped:
    """Stops snapped to a graph (every array has one row per stop, in the order given).

    Attributes
    ----------
    graph
        The graph snapped to.
    points
        ``(k, 2)`` the stops as given, in the graph's CRS.
    edge
        Index of the nearest edge.
    offset
        Metres along that edge from its source to the snapped point.
    xy
        ``(k, 2)`` the snapped point on the edge.
    distance
        Snap distance in metres (stop to snapped point).
    far
        True where ``distance`` exceeds the limit: such a stop is not routed.
    """

    graph: WalkGraph
    points: np.ndarray
    edge: np.ndarray
    offset: np.ndarray
    xy: np.ndarray
    distance: np.ndarray
    far: np.ndarray
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.edge)

    @property
    def component(self) -> np.ndarray:
        """The connected component of each stop (that of its edge)."""
        return self.graph.components[self.graph.source[self.edge]]


@dataclass(frozen=True)
class StopProblem:
    """A stop left out of the route, and why."""

    stop: int
    reason: str  # FAR or UNREACHABLE
    distance_m: float

    def describe(self) -> str:
        if self.reason == FAR:
            return str(msg("stop {stop}: {distance:.1f} m from the nearest street, farther than "
                           "the {limit} setting allows; not routed", stop=self.stop + 1,
                           distance=self.distance_m, limit="max_snap_m"))
        return str(msg("stop {stop}: on a piece of the street network that is not connected "
                       "to the station's; not routed", stop=self.stop + 1))


def _as_xy(points: Any) -> np.ndarray:
    if isinstance(points, np.ndarray) and points.dtype != object:
        xy = np.asarray(points, float).reshape(-1, 2)
    else:
        geoms = np.asarray(points, dtype=object).ravel()
        if len(geoms) and not all(shapely.get_type_id(geoms) == 0):
            raise InvalidInput(msg("stops must be points; received {types}",
                                   types=sorted(set(shapely.get_type_id(geoms).tolist()))))
        xy = shapely.get_coordinates(geoms)
    if not np.isfinite(xy).all():
        raise InvalidInput(msg("stops have coordinates that are not finite numbers"))
    return xy


def snap(graph: WalkGraph, points: Any, *, max_snap_m: float, crs: int | None = None
         ) -> Snapped:
    """Snap stops to the nearest walkable edge.

    Parameters
    ----------
    graph
        The walking graph.
    points
        Shapely points or an ``(k, 2)`` array of x, y.
    max_snap_m
        A stop farther than this from every edge is marked ``far``.
    crs
        The EPSG code of ``points`` when it is not the graph's (e.g. 4490 for stored points).

    Returns
    -------
    Snapped
    """
    if graph.n_edges == 0:
        raise InvalidInput(msg("the walking network has no edges; import it first "
                               "(gridmap network import)"))
    xy = _as_xy(points)
    if crs is not None and crs != graph.epsg:
        xy = np.column_stack(transformer(crs, graph.epsg).transform(xy[:, 0], xy[:, 1]))
    geoms = shapely.points(xy)
    found, distance = graph.tree.query_nearest(geoms, return_distance=True, all_matches=False)
    edge = np.empty(len(xy), np.int64)
    edge[found[0]] = found[1]
    dist = np.empty(len(xy))
    dist[found[0]] = distance
    lines = graph.geoms[edge]
    offset = shapely.line_locate_point(lines, geoms)
    # line_locate_point measures along the drawn line: keep it inside the stored length.
    offset = np.clip(offset, 0.0, graph.length[edge])
    snapped = shapely.get_coordinates(shapely.line_interpolate_point(lines, offset))
    return Snapped(graph=graph, points=xy, edge=edge, offset=offset, xy=snapped,
                   distance=dist, far=dist > max_snap_m)


def stop_problems(snapped: Snapped, *, station: int = 0) -> list[StopProblem]:
    """The stops that cannot be routed from ``station`` (an index of ``snapped``): far from
    any street, or in another connected piece of the network. The station itself is listed
    when it is far (then nothing can be routed)."""
    far = snapped.far
    other = snapped.component != snapped.component[station]
    problems = [StopProblem(int(i), FAR, float(snapped.distance[i]))
                for i in np.flatnonzero(far)]
    problems += [StopProblem(int(i), UNREACHABLE, float(snapped.distance[i]))
                 for i in np.flatnonzero(other & ~far)]
    return sorted(problems, key=lambda p: p.stop)
