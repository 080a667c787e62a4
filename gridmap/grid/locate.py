"""Which active grid holds a point: one documented rule for incidents, facilities and devices.

A point belongs to the active grid that covers it (boundary included); a point on the
boundary two grids share goes to the grid whose code sorts first. A point in no grid belongs
to none: it is flagged by the caller, never dropped. :data:`COVERING_GRID_SQL` is the same
rule as a correlated subquery, for set-based updates of many rows at once.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.models.hierarchy import Grid

#: The id of the active grid covering ``{point}`` (a geometry expression in EPSG:4490).
COVERING_GRID_SQL = ("(select g.id from grid g where g.valid_to is null "
                     "and ST_Covers(g.geom, {point}) order by g.code limit 1)")

_GRID_AT = text("select " + COVERING_GRID_SQL.format(
    point="ST_SetSRID(ST_MakePoint(:lon, :lat), 4490)"))


def grid_covering(session: Session, lon: float, lat: float) -> Grid | None:
    """The active grid covering the point (first code on a shared boundary), or None."""
    grid_id = session.execute(_GRID_AT, {"lon": lon, "lat": lat}).scalar()
    return None if grid_id is None else session.get(Grid, grid_id)
