"""Assignment of buildings to grids: each building to exactly one grid.

Rule (DESIGN.md §1): the grid containing the building's representative point
(``point_on_surface``); when the point lies on the boundary of several grids (or grids overlap),
the grid with the largest overlap with the footprint wins; then the lowest grid index.
Batches run vectorised (:func:`assign_buildings_to_grids`); single edits run in PostGIS
(:func:`assign_building_in_db`).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.geo import project_stored
from gridmap.grid.frames import load_grids, projected_epsg
from gridmap.grid.pointindex import point_polygon_pairs


def assign_buildings_to_grids(footprints: ArrayLike, grids: ArrayLike) -> NDArray[np.int64]:
    """Index into ``grids`` of the grid each footprint belongs to, ``-1`` when none.

    Both arrays hold shapely geometries in the same (preferably projected) CRS.
    """
    feet = np.asarray(footprints, dtype=object)
    cells = np.asarray(grids, dtype=object)
    labels = np.full(feet.size, -1, dtype=np.int64)
    if feet.size == 0 or cells.size == 0:
        return labels
    points = shapely.point_on_surface(feet)
    xy = shapely.get_coordinates(points)
    has_point = ~shapely.is_empty(points)
    rows = np.nonzero(has_point)[0]
    pts, polys = point_polygon_pairs(xy[:, 0], xy[:, 1], cells, include_boundary=True)
    pts = rows[pts]
    ties = np.bincount(pts, minlength=feet.size) > 1
    single = ~ties[pts]
    labels[pts[single]] = polys[single]
    if ties.any():
        tied = ~single
        tp, tg = pts[tied], polys[tied]
        overlap = shapely.area(shapely.intersection(feet[tp], cells[tg]))
        # Sort by building, then overlap descending, then grid index: first row per building wins.
        order = np.lexsort((tg, -overlap, tp))
        tp, tg = tp[order], tg[order]
        first = np.ones(tp.size, dtype=bool)
        first[1:] = tp[1:] != tp[:-1]
        labels[tp[first]] = tg[first]
    return labels


_ASSIGN_ONE = text("""
    update building b set grid_id = (
        select g.id from grid g
        where g.valid_to is null
          and ST_Intersects(g.geom, ST_PointOnSurface(b.footprint))
        order by ST_Area(ST_Intersection(g.geom, b.footprint)::geography) desc, g.id
        limit 1)
    where b.id = :building_id
    returning b.grid_id
""")


def assign_building_in_db(session: Session, building_id: int) -> int | None:
    """Assign one building in PostGIS (same rule as the batch path) and refresh totals.

    Returns the grid id, or ``None`` when no active grid holds the building.
    """
    previous = session.execute(text("select grid_id from building where id = :id"),
                               {"id": building_id}).scalar()
    grid_id = session.execute(_ASSIGN_ONE, {"building_id": building_id}).scalar()
    refresh_grid_totals(session, grid_ids=[g for g in (previous, grid_id) if g is not None])
    return grid_id


_WRITE_LABELS = text("""
    update building b set grid_id = v.grid_id
    from unnest(cast(:ids as integer[]), cast(:grid_ids as integer[])) as v(id, grid_id)
    where b.id = v.id and b.grid_id is distinct from v.grid_id
""")

_REFRESH = text("""
    with totals as (
        select g.id, coalesce(sum(b.households), 0) as households, count(b.id) as buildings
        from grid g left join building b on b.grid_id = g.id
        where g.valid_to is null  -- a retired grid keeps the totals it had when retired
          and (:all_grids or g.id = any(cast(:grid_ids as integer[])))
          and (cast(:district as text) is null or g.district_code = :district)
        group by g.id)
    update grid g set households = t.households, building_count = t.buildings
    from totals t
    where g.id = t.id
      and (g.households, g.building_count) is distinct from (t.households, t.buildings)
""")


def refresh_grid_totals(session: Session, *, grid_ids: list[int] | None = None,
                        district_code: str | None = None) -> int:
    """Recompute ``households`` and ``building_count`` of grids (all, the ``grid_ids``, or
    those of one district) from their buildings.

    Writes only the rows whose totals changed, so a repeated refresh changes nothing; returns
    how many grids it corrected.
    """
    return session.execute(_REFRESH, {"all_grids": grid_ids is None, "grid_ids": grid_ids or [],
                               "district": district_code}).rowcount or 0


_BATCH = 25_000  # buildings read back per batch
_STORED = text("""
    select id, coalesce(grid_id, -1), ST_AsBinary(footprint) from building
    where district_code = :district order by id
""")


def _projected(geoms: NDArray[np.object_], epsg: int) -> NDArray[np.object_]:
    """Geometries in EPSG:4490 reprojected to ``epsg`` (:func:`gridmap.geo.project_stored`)."""
    return project_stored(geoms, epsg)


def _grid_ids(footprints: NDArray[np.object_], grids, epsg: int) -> NDArray[np.int64]:
    if len(grids) == 0 or footprints.size == 0:  # buildings loaded before the grids
        return np.full(footprints.size, -1, dtype=np.int64)
    labels = assign_buildings_to_grids(_projected(footprints, epsg), grids.geometry.values)
    return np.where(labels >= 0, grids["id"].to_numpy()[np.maximum(labels, 0)], -1)


def grid_labeller(session: Session,
                  district_code: str) -> Callable[[ArrayLike], NDArray[np.int64]]:
    """A function giving the id of the active grid each footprint (EPSG:4490) belongs to,
    ``-1`` when none: the batch rule in the district's projected CRS.

    The district's grids are read here, once; the function itself never touches the
    database, so an import can label one chunk of its rows while the session's connection
    writes the previous one (:mod:`gridmap.ingest.buildings`).
    """
    epsg = projected_epsg(session, district_code)
    grids = load_grids(session, district_code=district_code, epsg=epsg)

    def label(footprints: ArrayLike) -> NDArray[np.int64]:
        feet = np.asarray(footprints, dtype=object)
        # In batches: the projected copies of 170,000 footprints at once cost ~60 MB of peak.
        return np.concatenate([_grid_ids(feet[lo:lo + _BATCH], grids, epsg)
                               for lo in range(0, feet.size, _BATCH)] or
                              [np.zeros(0, dtype=np.int64)])

    return label


def grid_ids_for(session: Session, district_code: str,
                 footprints: ArrayLike) -> NDArray[np.int64]:
    """Id of the active grid each footprint (EPSG:4490) belongs to, ``-1`` when none
    (:func:`grid_labeller` for one batch of footprints)."""
    return grid_labeller(session, district_code)(footprints)


def assign_district(session: Session, district_code: str) -> dict[str, int]:
    """Assign every building of a district to the active grids, vectorised, in the district's
    projected CRS; write the changes in one statement and refresh the totals.

    Footprints are read back as WKB in batches of :data:`_BATCH` (bounded memory), with their
    ids and grid ids only; only changed rows are sent back.
    Returns counts: ``buildings``, ``assigned``, ``unassigned``, ``changed`` and
    ``totals_refreshed`` (grids whose totals were stale).
    """
    epsg = projected_epsg(session, district_code)
    grids = load_grids(session, district_code=district_code, epsg=epsg)
    result = session.execute(_STORED, {"district": district_code},
                             execution_options={"stream_results": True,
                                                "max_row_buffer": _BATCH})
    ids, grid_ids, changed = [], [], []
    for rows in result.partitions(_BATCH):
        batch = np.array([r[0] for r in rows], dtype=np.int64)
        labels = _grid_ids(shapely.from_wkb([r[2] for r in rows]), grids, epsg)
        moved = labels != np.array([r[1] for r in rows], dtype=np.int64)
        ids.append(batch)
        grid_ids.append(labels)
        changed.append(moved)
    ids_, labels_, moved_ = (np.concatenate(a) if a else np.zeros(0, dtype=np.int64)
                             for a in (ids, grid_ids, changed))
    moved_ = moved_.astype(bool)
    if moved_.any():
        session.execute(_WRITE_LABELS, {
            "ids": ids_[moved_].tolist(),
            "grid_ids": [None if g < 0 else g for g in labels_[moved_].tolist()]})
    refreshed = refresh_grid_totals(session, district_code=district_code)
    assigned = int((labels_ >= 0).sum())
    return {"buildings": len(ids_), "assigned": assigned, "unassigned": len(ids_) - assigned,
            "changed": int(moved_.sum()), "totals_refreshed": refreshed}


def reassign_district(session: Session, district_code: str) -> dict[str, int]:
    """The repair ``gridmap assign`` (and its background job) runs: wait for the district's
    lock, reassign its buildings, refresh the totals, and record what changed."""
    from gridmap.audit import record
    from gridmap.locks import lock_district

    lock_district(session, district_code)
    stats = assign_district(session, district_code)
    if stats["changed"] or stats["totals_refreshed"]:
        record(session, action="assign", table="building", key=district_code,
               after={k: stats[k] for k in ("changed", "assigned", "totals_refreshed")})
    return stats
