"""The history of grids: where a code came from and what replaced it, and which grid held a
place on a given date (grids are never edited in place: a retired grid keeps its row, with
``valid_from`` and ``valid_to``)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap import codes as gcodes
from gridmap.errors import InvalidInput, NotFound
from gridmap.i18n import msg

# Both directions of the lineage graph, with the distance from the grid asked about.
_WALK = """
with recursive walk(code, depth) as (
    select cast(:code as varchar), 0
    union
    select l.{next}, w.depth + 1 from grid_lineage l join walk w on l.{this} = w.code
    where w.depth < 50
)
select w.code, min(w.depth) as depth, r.status, r.issued_at, r.retired_at
from walk w join code_registry r on r.code = w.code
where w.depth > 0 group by w.code, r.status, r.issued_at, r.retired_at
order by min(w.depth), w.code
"""


def _entry(row) -> dict:
    return {"code": row.code, "generations": row.depth, "status": row.status,
            "issued_at": row.issued_at.isoformat() if row.issued_at else None,
            "retired_at": row.retired_at.isoformat() if row.retired_at else None}


def grid_history(session: Session, code: str) -> dict:
    """A code's registry entry with its ancestors (the grids it was redrawn from, and theirs)
    and descendants (the grids that replaced it, and theirs)."""
    gcodes.parse(code)
    entry = session.execute(text("select code, status, issued_at, retired_at, note "
                                 "from code_registry where code = :c"), {"c": code}).one_or_none()
    if entry is None:
        raise NotFound(msg("grid code {code} was never issued", code=code))
    ancestors = session.execute(text(_WALK.format(next="parent_code", this="child_code")),
                                {"code": code}).all()
    descendants = session.execute(text(_WALK.format(next="child_code", this="parent_code")),
                                  {"code": code}).all()
    return {"code": code, "status": entry.status,
            "issued_at": entry.issued_at.isoformat() if entry.issued_at else None,
            "retired_at": entry.retired_at.isoformat() if entry.retired_at else None,
            "note": entry.note,
            "ancestors": [_entry(r) for r in ancestors],
            "descendants": [_entry(r) for r in descendants]}


def parse_date(value: str) -> dt.datetime:
    """``YYYY-MM-DD`` (the end of that day, UTC+8, China's time) or an ISO time."""
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            return dt.datetime.combine(day, dt.time(23, 59, 59, 999999),
                                       tzinfo=dt.timezone(dt.timedelta(hours=8)))
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(msg("date {value!r}: expected YYYY-MM-DD, e.g. 2026-11-24",
                               value=value)) from None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))


def grid_at(session: Session, lon: float, lat: float, when: dt.datetime) -> dict | None:
    """The grid (active or since retired) that held the point at ``when``, or None."""
    row = session.execute(text(
        "select code, kind, name, community_code, valid_from, valid_to from grid "
        "where valid_from <= :when and (valid_to is null or valid_to > :when) "
        "and ST_Covers(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4490)) "
        "order by valid_from desc limit 1"),
        {"when": when, "lon": lon, "lat": lat}).one_or_none()
    if row is None:
        return None
    return {"code": row.code, "kind": row.kind, "name": row.name,
            "community_code": row.community_code, "valid_from": row.valid_from.isoformat(),
            "valid_to": row.valid_to.isoformat() if row.valid_to else None}
