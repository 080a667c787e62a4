"""The grid of each facility, kept current: set when a facility is placed, refreshed when the
grids of a community are redrawn (:func:`gridmap.grid.redraw.apply_grids` calls
:func:`refresh_facility_grids` for every community it changes).

Both are one set-based UPDATE with the rule of :mod:`gridmap.grid.locate` (the active grid
covering the point, the first code on a shared boundary, none outside every grid), writing
only the rows whose grid changes. Retired facilities follow the grids too: their place is
still where they were.
"""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.audit import record
from gridmap.grid.locate import COVERING_GRID_SQL
from gridmap.models.facility import Facility

_COVERING = COVERING_GRID_SQL.format(point="f.geom")

_ASSIGN_IDS = text(f"""
    update facility f set grid_id = {_COVERING}
    where f.id = any(cast(:ids as text[])) and f.grid_id is distinct from {_COVERING}
""")

# The facilities whose grid may change when community :c is redrawn: those in one of its
# grids (active or just retired), and those its active grids cover now.
_REFRESH_COMMUNITY = text(f"""
    with touched as (
        select f.id, {_COVERING} as grid_id, f.grid_id as old
        from facility f
        where f.grid_id in (select id from grid where community_code = :c)
           or exists (select 1 from grid g where g.community_code = :c
                      and g.valid_to is null and ST_Covers(g.geom, f.geom))
    )
    update facility f set grid_id = t.grid_id
    from touched t
    where f.id = t.id and t.old is distinct from t.grid_id
""")


def _expire_grids(session: Session) -> None:
    """Facilities loaded in the session read their grid afresh (the UPDATE bypassed them)."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Facility):
            session.expire(obj, ["grid_id"])


def assign_facility_grids(session: Session, ids: Sequence[str]) -> int:
    """Set the grid of the facilities ``ids`` from their point; return how many changed."""
    if not ids:
        return 0
    session.flush()
    changed = session.execute(_ASSIGN_IDS, {"ids": list(ids)}).rowcount
    _expire_grids(session)
    return changed


def refresh_facility_grids(session: Session, community_code: str) -> int:
    """After the grids of ``community_code`` changed: move its facilities to the grids that
    hold them now (one UPDATE); return how many moved, recorded in the audit trail."""
    session.flush()
    moved = session.execute(_REFRESH_COMMUNITY, {"c": community_code}).rowcount
    _expire_grids(session)
    if moved:
        record(session, action="refresh_grids", table="facility", key=community_code,
               after={"moved": moved})
    return moved
