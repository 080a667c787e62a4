"""Load the demo district (Wuhan Optics Valley) from ``data/`` and the recipes in ``import/``.

Idempotent: the hierarchy and buildings are upserted, grids of a community are drawn and
coded only when the community has none, and the assignment writes only what changed;
roads and water are upserted (an unchanged re-run writes nothing).
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridmap import codes as gcodes
from gridmap.config import REPO_ROOT
from gridmap.divisions import load_divisions
from gridmap.errors import ImportFailed
from gridmap.grid.assign import assign_district
from gridmap.grid.frames import projected_epsg
from gridmap.grid.validate import sequence_row_height
from gridmap.ingest import import_recipe, load_recipe
from gridmap.models import Grid
from gridmap.locks import lock_district
from gridmap.registry import issue_codes

DEMO_DISTRICT = "420111"
RECIPES = REPO_ROOT / "import"
PLAN = REPO_ROOT / "data" / "wuhan_guanggu" / "demo_plan.gpkg"
# The official communities of the demo district, so its community codes are checked too.
DEMO_COMMUNITIES = REPO_ROOT / "data" / "reference" / "communities_420111.csv"
CONTEXT_RECIPES = ("demo_roads.yaml", "demo_water.yaml")


def _load_grids(session: Session, plan: Path, epsg: int) -> int:
    grids = pyogrio.read_dataframe(plan, layer="grids").to_crs(epsg)
    issued = 0
    for community_code, rows in grids.groupby("community_code"):
        active = session.execute(select(func.count()).select_from(Grid).where(
            Grid.community_code == community_code, Grid.valid_to.is_(None))).scalar()
        if active:
            continue
        geoms = rows.geometry.values
        codes = issue_codes(session, community_code, geoms,
                            row_height=sequence_row_height(geoms), note="demo plan")
        storage = gpd.GeoSeries(geoms, crs=epsg).to_crs(4490)
        names = rows["name"] if "name" in rows else [None] * len(rows)
        for code, kind, name, geom in zip(codes, rows["kind"], names, storage.values):
            parts = gcodes.parse(code)
            multi = shapely.multipolygons(shapely.get_parts(geom))
            session.add(Grid(code=code, district_code=parts.district,
                             street_code=parts.street_code, community_code=community_code,
                             sequence=parts.sequence, kind=kind, geom=f"SRID=4490;{multi.wkt}",
                             name=None if pd.isna(name) else str(name)))
            issued += 1
    session.flush()
    return issued


def load_demo(session: Session) -> list[str]:
    """Load or refresh the demo district; returns one line per step."""
    if not PLAN.exists():
        raise ImportFailed(f"demo plan {PLAN} is missing")
    lock_district(session, DEMO_DISTRICT)  # two `gridmap demo` at once run one after the other
    lines = load_divisions(session, communities=DEMO_COMMUNITIES,
                           district=DEMO_DISTRICT).lines()
    for layer in ("districts", "streets", "communities"):
        lines.append(import_recipe(session, load_recipe(RECIPES / f"demo_{layer}.yaml"))
                     .summary())
    issued = _load_grids(session, PLAN, projected_epsg(session, DEMO_DISTRICT))
    lines.append(f"grids: {issued} codes issued" if issued else "grids: already drawn")
    lines.append(import_recipe(session, load_recipe(RECIPES / "wuhan_buildings.yaml")).summary())
    stats = assign_district(session, DEMO_DISTRICT)
    lines.append(f"assignment: {stats['assigned']} of {stats['buildings']} buildings in a grid, "
                 f"{stats['changed']} changed")
    for context in CONTEXT_RECIPES:  # roads and water, drawn under the grids
        lines.append(import_recipe(session, load_recipe(RECIPES / context)).summary())
    return lines
