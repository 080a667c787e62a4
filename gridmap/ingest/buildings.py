"""Write buildings: one upsert keyed by ``(source, source_id)``, then the district's assignment."""
from __future__ import annotations

import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.errors import ImportFailed
from gridmap.grid.assign import assign_district
from gridmap.ingest.recipe import Recipe
from gridmap.ingest.report import ImportReport
from gridmap.models import District


_UPSERT_BUILDINGS = text("""
    insert into building (district_code, source, source_id, name, use, households, floors,
                          address, footprint)
    select :district, :source, v.source_id, v.name, coalesce(v.use, 'other'),
           coalesce(v.households, 0), v.floors, v.address,
           ST_Multi(ST_GeomFromWKB(v.wkb, 4490))
    from unnest(cast(:source_id as text[]), cast(:name as text[]), cast(:use as text[]),
                cast(:households as integer[]), cast(:floors as integer[]),
                cast(:address as text[]), cast(:wkb as bytea[]))
         as v(source_id, name, use, households, floors, address, wkb)
    on conflict (source, source_id) do update
       set name = excluded.name, use = excluded.use, households = excluded.households,
           floors = excluded.floors, address = excluded.address,
           footprint = excluded.footprint, district_code = excluded.district_code
       where (building.name, building.use, building.households, building.floors,
              building.address, building.district_code)
             is distinct from (excluded.name, excluded.use, excluded.households,
                               excluded.floors, excluded.address, excluded.district_code)
          or not ST_Equals(building.footprint, excluded.footprint)
    returning (xmax = 0) as inserted
""")


def _column(attrs: pd.DataFrame, name: str, kind=str) -> list:
    if name not in attrs:
        return [None] * len(attrs)
    return [None if pd.isna(v) else kind(v) for v in attrs[name]]


def write_buildings(session: Session, recipe: Recipe, frame, attrs,
                    report: ImportReport) -> None:
    if session.get(District, recipe.district) is None:
        raise ImportFailed(f"district {recipe.district} is not loaded; load it first "
                           f"(gridmap demo, or import a districts layer)")
    rows = session.execute(_UPSERT_BUILDINGS, {
        "district": recipe.district, "source": recipe.source_name,
        "source_id": _column(attrs, "source_id"), "name": _column(attrs, "name"),
        "use": _column(attrs, "use"), "households": _column(attrs, "households", int),
        "floors": _column(attrs, "floors", int), "address": _column(attrs, "address"),
        "wkb": list(shapely.to_wkb(frame.geometry.values)),
    }).scalars().all()
    report.inserted = sum(1 for r in rows if r)
    report.updated = len(rows) - report.inserted
    report.assignment = assign_district(session, recipe.district)
