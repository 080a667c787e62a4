"""The demo's inspection routes: a service station for each demo community that has none, at
the crossing of its largest walkable piece nearest to a point inside it (where a real
community would put it: on the street network most of its grids reach), and today's route of
the demo grid worker's grid, planned and kept."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from scipy.spatial import cKDTree
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.audit import current_actor
from gridmap.auth.scope import Scope
from gridmap.errors import InvalidInput
from gridmap.geo import STORAGE_SRID, transformer
from gridmap.inspection.plan import Route, plan_route
from gridmap.inspection.stations import set_station
from gridmap.routing import load_graph


def _scope() -> Scope:
    return Scope(f"cli:{current_actor().name}", "administrator", None, None, None, True)


def ensure_demo_stations(session: Session, district: str, *,
                         settings: Mapping[str, Any]) -> int:
    """Place the stations of the district's communities that have none; how many placed."""
    missing = session.execute(text("""
        select c.code, ST_X(p.pt) as lon, ST_Y(p.pt) as lat
        from community c cross join lateral (select ST_PointOnSurface(c.geom) as pt) p
        where c.code like :d || '%' and exists (select 1 from grid g
              where g.community_code = c.code and g.valid_to is null)
          and not exists (select 1 from route_station s where s.community_code = c.code)
        order by c.code"""), {"d": district}).all()
    if not missing:
        return 0
    graph = load_graph(session, district)
    pieces = graph.components
    largest = np.flatnonzero(pieces == np.bincount(pieces).argmax())
    tree = cKDTree(graph.node_xy[largest])
    to_graph = transformer(STORAGE_SRID, graph.epsg)
    to_storage = transformer(graph.epsg, STORAGE_SRID)
    placed = 0
    for row in missing:
        _, nearest = tree.query(to_graph.transform(row.lon, row.lat))
        x, y = graph.node_xy[largest[nearest]]
        lon, lat = to_storage.transform(x, y)
        try:
            set_station(session, _scope(), row.code, lon=float(lon), lat=float(lat),
                        settings=settings)
        except InvalidInput:  # the largest piece passes far from this community
            continue
        placed += 1
    return placed


def demo_route(session: Session, grid: str, *, settings: Mapping[str, Any]) -> Route:
    """Today's route of ``grid``, kept as today's plan."""
    return plan_route(session, _scope(), grid, settings=settings)
