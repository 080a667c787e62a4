"""Household and building totals per grid, community, street and district (one SQL query)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

_TOTALS = text("""
    select g.district_code, g.street_code, g.community_code, g.code as grid_code,
           sum(coalesce(b.households, 0))::int as households, count(b.id)::int as buildings,
           grouping(g.street_code)::int + grouping(g.community_code)::int
             + grouping(g.code)::int as depth
    from grid g left join building b on b.grid_id = g.id
    where g.district_code = :district and g.valid_to is null
    group by rollup (g.district_code, g.street_code, g.community_code, g.code)
    having grouping(g.district_code) = 0
    order by g.street_code nulls first, g.community_code nulls first, g.code nulls first
""")

_LEVEL = {3: "district", 2: "street", 1: "community", 0: "grid"}


@dataclass(frozen=True)
class Total:
    level: str
    code: str
    households: int
    buildings: int


def household_totals(session: Session, district_code: str) -> list[Total]:
    """Totals at every level of one district, district first, from the assigned buildings."""
    out = []
    for row in session.execute(_TOTALS, {"district": district_code}):
        level = _LEVEL[row.depth]
        code = {"district": row.district_code, "street": row.street_code,
                "community": row.community_code, "grid": row.grid_code}[level]
        out.append(Total(level, code, row.households, row.buildings))
    return out
