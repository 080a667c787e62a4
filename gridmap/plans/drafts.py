"""Drafts: a community's grids as proposed, stored until applied or discarded."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from gridmap.audit import current_actor, record
from gridmap.errors import InvalidInput, NotFound
from gridmap.geo import STORAGE_SRID, storage_ewkb
from gridmap.models import Community, CommunityPlanVersion, Plan, PlanGrid
from gridmap.models.hierarchy import GRID_KINDS


@dataclass(frozen=True)
class DraftGrid:
    """One grid of a draft; ``geom`` a (multi)polygon in EPSG:4490."""

    kind: str
    geom: BaseGeometry
    name: str | None = None


def plan_version(session: Session, community_code: str) -> CommunityPlanVersion:
    """The community's current plan version (0 and nobody when its grids never changed)."""
    found = session.get(CommunityPlanVersion, community_code)
    return found or CommunityPlanVersion(community_code=community_code, version=0)


def _check_grid(grid: DraftGrid, position: int) -> None:
    where = f"draft grid {position}"
    if grid.kind not in GRID_KINDS:
        raise InvalidInput(f"{where}: kind {grid.kind!r}; expected one of {', '.join(GRID_KINDS)}")
    if grid.geom is None or grid.geom.is_empty or grid.geom.geom_type not in (
            "Polygon", "MultiPolygon"):
        kind = "no geometry" if grid.geom is None or grid.geom.is_empty else grid.geom.geom_type
        raise InvalidInput(f"{where}: {kind}; expected a polygon")
    if not shapely.is_valid(grid.geom):
        raise InvalidInput(f"{where}: invalid polygon ({shapely.is_valid_reason(grid.geom)})")


def create_draft(session: Session, community_code: str, grids: Sequence[DraftGrid], *,
                 title: str, source: str) -> Plan:
    """Store a draft plan of ``community_code`` holding ``grids`` (in the caller's
    transaction), drafted against the community's current plan version."""
    if session.get(Community, community_code) is None:
        raise NotFound(f"community {community_code} is not loaded")
    if not grids:
        raise InvalidInput(f"a plan of community {community_code} needs at least one grid")
    for position, grid in enumerate(grids, start=1):
        _check_grid(grid, position)
    actor = current_actor()
    plan = Plan(community_code=community_code, title=title.strip()[:200] or source[:200],
                source=source[:200], base_version=plan_version(session, community_code).version,
                created_by=f"{actor.kind}:{actor.name}",
                grids=[PlanGrid(position=position, kind=grid.kind, name=grid.name,
                                geom=storage_ewkb(grid.geom))
                       for position, grid in enumerate(grids, start=1)])
    session.add(plan)
    session.flush()
    record(session, action="insert", table="plan", key=str(plan.id),
           after={"community_code": community_code, "title": plan.title, "source": source,
                  "grids": len(grids), "base_version": plan.base_version})
    return plan


def draft_from_file(session: Session, path: Path, community_code: str, *,
                    title: str | None = None) -> Plan:
    """A draft from a file of polygons (GeoPackage, GeoJSON, Shapefile, … in any CRS that
    the file declares), e.g. a draft exported, edited in QGIS and brought back. Optional
    attributes: ``kind`` (residential or unit; default residential) and ``name``."""
    import geopandas as gpd
    import pyogrio

    if not path.exists():
        raise InvalidInput(f"{path}: no such file")
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InvalidInput(f"{path}: not a readable GIS file ({exc})") from None
    if frame.crs is None:
        raise InvalidInput(f"{path}: the file declares no CRS; expected one (e.g. EPSG:4490)")
    frame = frame.to_crs(STORAGE_SRID)
    kinds = frame["kind"] if "kind" in frame else ["residential"] * len(frame)
    names = frame["name"] if "name" in frame else [None] * len(frame)
    grids = [DraftGrid(kind=str(kind) if kind is not None else "residential", geom=geom,
                       name=None if name is None or name != name else str(name))
             for kind, name, geom in zip(kinds, names, frame.geometry.values)]
    return create_draft(session, community_code, grids, title=title or path.name,
                        source=f"file {path.name}")


def draft_grids(session: Session, plan_id: int) -> list[tuple[PlanGrid, BaseGeometry]]:
    """The plan's grids in order, each with its shape as stored (EPSG:4490)."""
    session.flush()
    rows = session.execute(select(PlanGrid, func.ST_AsBinary(PlanGrid.geom))
                           .where(PlanGrid.plan_id == plan_id)
                           .order_by(PlanGrid.position)).all()
    return [(grid, shapely.from_wkb(bytes(wkb))) for grid, wkb in rows]


def get_plan(session: Session, plan_id: int, *, lock: bool = False) -> Plan:
    query = select(Plan).where(Plan.id == plan_id).options(selectinload(Plan.grids))
    if lock:
        query = query.with_for_update(of=Plan)
    plan = session.execute(query).scalar_one_or_none()
    if plan is None:
        raise NotFound(f"plan {plan_id}: no such plan (see gridmap plan list)")
    return plan


def list_plans(session: Session, community_code: str | None = None) -> list[Plan]:
    """Plans, newest first (of one community when given)."""
    query = select(Plan).order_by(Plan.id.desc())
    if community_code:
        query = query.where(Plan.community_code == community_code)
    return list(session.execute(query).scalars())


def discard_plan(session: Session, plan_id: int) -> Plan:
    """Set a draft aside (it stays, read-only). Applied plans cannot be discarded."""
    plan = get_plan(session, plan_id, lock=True)
    if plan.status == "applied":
        raise InvalidInput(f"plan {plan_id} was applied; expected a draft")
    if plan.status == "draft":
        plan.status = "discarded"
        record(session, action="discard", table="plan", key=str(plan_id))
    return plan
