"""Open and overdue incidents counted per grid and per department, inside one unit.

A unit's page (a district, street, community or one grid) shows how many cases are open in
each of its grids and how many of them are overdue, and which departments hold overdue
cases. Both come from one SQL statement (``grouping sets`` over the grid and the department),
cut to the caller's :class:`~gridmap.auth.scope.Scope` by the same rule as
:func:`gridmap.incidents.service.list_incidents`: an incident counts in the grid it was
reported in; one reported in no grid counts for its district (``grid`` None) and is seen by
whoever covers that district.

Open means not finished (neither closed nor rejected); overdue, as
:func:`gridmap.incidents.service.is_overdue`: dispatched and past its deadline.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.auth.scope import Scope, grid_condition
from gridmap.errors import InvalidInput
from gridmap.i18n import msg
from gridmap.incidents.stages import FINAL

_UNIT = re.compile(r"[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{14,20}", re.ASCII)


@dataclass(frozen=True)
class Count:
    """Open and overdue incidents of one grid (``key`` its code) or department (its code);
    ``key`` None: in no grid, or not dispatched yet."""

    key: str | None
    open: int
    overdue: int


@dataclass(frozen=True)
class IncidentCounts:
    unit: str
    grids: list[Count]
    departments: list[Count]

    @property
    def open(self) -> int:
        return sum(c.open for c in self.grids)

    @property
    def overdue(self) -> int:
        return sum(c.overdue for c in self.grids)


def count_open_incidents(session: Session, scope: Scope, unit: str, *,
                         now: dt.datetime | None = None) -> IncidentCounts:
    """Open and overdue incidents in ``unit`` (a district, street, community or grid code)
    that ``scope`` reaches, per grid (by code) and per department, in one statement.

    Raises
    ------
    InvalidInput
        ``unit`` is no division or grid code.
    """
    if not isinstance(unit, str) or not _UNIT.fullmatch(unit):
        raise InvalidInput(msg("unit {code!r}: expected a district (6 digits), street (9), "
                               "community (12) or grid code", code=str(unit)[:30]))
    condition, params = grid_condition(scope, "g")
    if not scope.reaches_everything:
        params["scope_outside"] = sorted(scope.units["district"])
        condition = (f"((g.id is not null and {condition}) or "
                     f"(g.id is null and i.district_code = any(cast(:scope_outside as text[]))))")
    rows = session.execute(text(f"""
        select grouping(g.code) = 0 as by_grid, g.code as grid, i.department_code,
               count(*) as open,
               count(*) filter (where i.stage = 'dispatched' and i.deadline < :now) as overdue
        from incident i left join grid g on g.id = i.reported_grid_id
        where i.stage <> all(cast(:final as text[]))
          and {condition}
          and (g.code = :unit or g.community_code = :unit or g.street_code = :unit
               or g.district_code = :unit or (g.id is null and i.district_code = :unit))
        group by grouping sets ((g.code), (i.department_code))
        order by 1, 2, 3
    """), {**params, "unit": unit, "final": sorted(s.value for s in FINAL),
           "now": now or dt.datetime.now(dt.timezone.utc)}).all()
    return IncidentCounts(
        unit=unit,
        grids=[Count(r.grid, r.open, r.overdue) for r in rows if r.by_grid],
        departments=[Count(r.department_code, r.open, r.overdue) for r in rows
                     if not r.by_grid])
