"""Drafts: a community's grids as proposed, stored until applied or discarded."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from gridmap.audit import current_actor, record
from gridmap.errors import Conflict, InvalidInput, NotFound
from gridmap.geo import STORAGE_SRID, project_stored, storage_ewkb
from gridmap.grid.frames import projected_epsg
from gridmap.i18n import msg
from gridmap.models import Community, CommunityPlanVersion, Plan, PlanGrid
from gridmap.models.hierarchy import GRID_KINDS


#: A plan's status as people read it (the stored value is the English word).
STATUS_NAMES = {"draft": msg("draft"), "applied": msg("applied"),
                "discarded": msg("discarded")}


@dataclass(frozen=True)
class DraftGrid:
    """One grid of a draft; ``geom`` a (multi)polygon in EPSG:4490."""

    kind: str
    geom: BaseGeometry
    name: str | None = None


def plan_version(session: Session, community_code: str) -> CommunityPlanVersion:
    """The community's current plan version (0 and nobody when its grids never changed),
    read from the database, not from what this session saw before."""
    found = session.execute(select(CommunityPlanVersion)
                            .where(CommunityPlanVersion.community_code == community_code)
                            .execution_options(populate_existing=True)).scalar_one_or_none()
    return found or CommunityPlanVersion(community_code=community_code, version=0)


#: Bounds of one draft: a community holds tens of grids, drawn with thousands of vertices.
MAX_GRIDS = 500
MAX_VERTICES = 200_000


def _check_grid(grid: DraftGrid, position: int) -> DraftGrid:
    """The grid checked, in two dimensions."""
    if not isinstance(grid.kind, str) or grid.kind not in GRID_KINDS:
        raise InvalidInput(msg("draft grid {position}: kind {kind!r}; expected one of "
                               "{expected}", position=position, kind=grid.kind,
                               expected=", ".join(GRID_KINDS)))
    if grid.name is not None and (not isinstance(grid.name, str) or len(grid.name) > 100):
        raise InvalidInput(msg("draft grid {position}: name {name!r}; expected text of at "
                               "most 100 characters", position=position,
                               name=str(grid.name)[:40]))
    if not isinstance(grid.geom, BaseGeometry) or grid.geom.is_empty:
        raise InvalidInput(msg("draft grid {position}: no geometry; expected a polygon",
                               position=position))
    if grid.geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InvalidInput(msg("draft grid {position}: {kind}; expected a polygon",
                               position=position, kind=grid.geom.geom_type))
    geom = shapely.force_2d(grid.geom)
    xy = shapely.get_coordinates(geom)
    if not (np.isfinite(xy).all() and (np.abs(xy[:, 0]) <= 180).all()
            and (np.abs(xy[:, 1]) <= 90).all()):
        raise InvalidInput(msg("draft grid {position}: coordinates outside longitude "
                               "−180…180 and latitude −90…90 (expected lon, lat in EPSG:4490)",
                               position=position))
    if not shapely.is_valid(geom):
        raise InvalidInput(msg("draft grid {position}: invalid polygon ({reason})",
                               position=position, reason=shapely.is_valid_reason(geom)))
    return DraftGrid(grid.kind, geom, grid.name)


def _check_within_community(session: Session, community_code: str,
                            grids: Sequence[DraftGrid], tolerance_m: float) -> None:
    """Every draft grid inside the community (the validator's tolerance): a draft is never a
    way to look at, or take, another community's ground."""
    from gridmap.grid.validate import significant_area

    district = community_code[:6]
    epsg = projected_epsg(session, district)
    outline = session.execute(select(func.ST_AsBinary(Community.geom))
                              .where(Community.code == community_code)).scalar_one()
    community = project_stored([shapely.from_wkb(bytes(outline))], epsg)[0]
    projected = project_stored([g.geom for g in grids], epsg)
    for position, geom in enumerate(projected, start=1):
        outside = shapely.difference(geom, community)
        if significant_area(outside, tolerance_m=tolerance_m, min_area_m2=1.0):
            raise InvalidInput(msg("draft grid {position}: {area:.0f} m² lie outside "
                                   "community {community}; expected every grid inside it",
                                   position=position, area=outside.area,
                                   community=community_code))


def _check_base_version(session: Session, community_code: str, base_version: int) -> int:
    now = plan_version(session, community_code)
    if base_version != now.version:
        when = f"{now.changed_at:%Y-%m-%d %H:%M:%S %Z}" if now.changed_at else msg("earlier")
        raise Conflict(msg("the grids of community {community} were at version {base} when "
                           "this draft was drawn; {who} changed them at {when} (now version "
                           "{version}): draw the draft again from the current grids",
                           community=community_code, base=base_version,
                           who=now.changed_by or msg("someone"), when=when,
                           version=now.version))
    return now.version


def create_draft(session: Session, community_code: str, grids: Sequence[DraftGrid], *,
                 title: str, source: str, base_version: int | None = None,
                 tolerance_m: float = 0.5) -> Plan:
    """Store a draft plan of ``community_code`` holding ``grids`` (in the caller's
    transaction).

    ``base_version`` is the version of the community's grids the draft was drawn from (see
    :func:`plan_version`); a draft drawn from an older version is refused (409), so that
    applying it cannot silently undo a change made in between. None means "drawn from the
    current grids" (a proposal computed now, such as the partition's).
    """
    if session.get(Community, community_code) is None:
        raise NotFound(msg("community {community} is not loaded", community=community_code))
    if not grids:
        raise InvalidInput(msg("a plan of community {community} needs at least one grid",
                               community=community_code))
    if len(grids) > MAX_GRIDS:
        raise InvalidInput(msg("a plan of {count} grids; expected at most {limit}",
                               count=len(grids), limit=MAX_GRIDS))
    grids = [_check_grid(grid, position) for position, grid in enumerate(grids, start=1)]
    vertices = sum(shapely.get_num_coordinates(g.geom) for g in grids)
    if vertices > MAX_VERTICES:
        raise InvalidInput(msg("a plan of {count} vertices; expected at most {limit}",
                               count=vertices, limit=MAX_VERTICES))
    _check_within_community(session, community_code, grids, tolerance_m)
    version = plan_version(session, community_code).version if base_version is None \
        else _check_base_version(session, community_code, base_version)
    actor = current_actor()
    plan = Plan(community_code=community_code, title=title.strip()[:200] or source[:200],
                source=source[:200], base_version=version,
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
                    title: str | None = None, base_version: int | None = None,
                    tolerance_m: float = 0.5) -> Plan:
    """A draft from a file of polygons (GeoPackage, GeoJSON, Shapefile, … in any CRS that
    the file declares), e.g. a draft exported, edited in QGIS and brought back. Optional
    attributes: ``kind`` (residential or unit; default residential) and ``name``; other
    attributes (an exported file's codes and counts) are ignored: they are recomputed.

    Without ``base_version``, a file exported by :func:`gridmap.plans.export.export_plan`
    for this community is taken as drawn from the version its plan was drawn from (so a
    file edited while the grids changed is refused); any other file as drawn from the
    current grids."""
    import geopandas as gpd
    import pyogrio

    if not path.exists():
        raise InvalidInput(msg("{path}: no such file", path=path))
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InvalidInput(msg("{path}: not a readable GIS file ({reason})", path=path,
                               reason=exc)) from None
    if frame.crs is None:
        raise InvalidInput(msg("{path}: the file declares no CRS; expected one (e.g. "
                               "EPSG:4490)", path=path))
    frame = frame.to_crs(STORAGE_SRID)
    kinds = frame["kind"] if "kind" in frame else ["residential"] * len(frame)
    names = frame["name"] if "name" in frame else [None] * len(frame)
    grids = [DraftGrid(kind=str(kind) if not _missing(kind) else "residential",
                       geom=_single_part(geom), name=None if _missing(name) else str(name))
             for kind, name, geom in zip(kinds, names, frame.geometry.values)]
    if base_version is None:
        # a file this program exported remembers the version its plan was drawn from
        from gridmap.plans.export import exported_file_info

        origin = exported_file_info(path)
        if origin is not None and origin.community_code == community_code:
            base_version = origin.base_version
    return create_draft(session, community_code, grids, title=title or path.name,
                        source=f"file {path.name}", base_version=base_version,
                        tolerance_m=tolerance_m)


def _missing(value) -> bool:
    """An empty attribute as a file reader gives it (None, NaN, pandas' NA)."""
    import pandas as pd

    return value is None or bool(pd.isna(value))


def _single_part(geom: BaseGeometry | None) -> BaseGeometry | None:
    """A multipolygon of one part as the polygon it is (files and desktop GIS often store
    every polygon as a multipolygon)."""
    if geom is not None and geom.geom_type == "MultiPolygon" and len(geom.geoms) == 1:
        return geom.geoms[0]
    return geom


def draft_grids(session: Session, plan_id: int) -> list[tuple[PlanGrid, BaseGeometry]]:
    """The plan's grids in order, each with its shape as stored (EPSG:4490)."""
    session.flush()
    rows = session.execute(select(PlanGrid, func.ST_AsBinary(PlanGrid.geom))
                           .where(PlanGrid.plan_id == plan_id)
                           .order_by(PlanGrid.position)).all()
    return [(grid, shapely.from_wkb(bytes(wkb))) for grid, wkb in rows]


def get_plan(session: Session, plan_id: int, *, lock: bool = False) -> Plan:
    if not 1 <= plan_id < 2 ** 31:
        raise NotFound(msg("plan {plan}: no such plan (see gridmap plan list)", plan=plan_id))
    query = select(Plan).where(Plan.id == plan_id).options(selectinload(Plan.grids))
    if lock:
        # populate_existing: after waiting for the lock, the row as committed, not as this
        # session loaded it before (a second apply of one plan must see "applied").
        query = query.with_for_update(of=Plan).execution_options(populate_existing=True)
    plan = session.execute(query).scalar_one_or_none()
    if plan is None:
        raise NotFound(msg("plan {plan}: no such plan (see gridmap plan list)", plan=plan_id))
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
        raise InvalidInput(msg("plan {plan} was applied; expected a draft", plan=plan_id))
    if plan.status == "draft":
        plan.status = "discarded"
        record(session, action="discard", table="plan", key=str(plan_id))
    return plan
