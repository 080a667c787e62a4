"""Every rule a draft plan breaks, named: why the bounds cannot be met, grids out of bounds,
the requested count not reached, and what the validator's own predicates find (gaps,
overlaps, parts outside the community, invalid or split grids, buildings elsewhere)."""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np

from gridmap.grid.assign import assign_buildings_to_grids
from gridmap.grid.validate import (Snapshot, Violation, check_no_gap, check_no_overlap,
                                   check_valid_geometry, check_within_parent)
from gridmap.i18n import msg
from gridmap.partition.plan import CommunityInput, Plan

VALIDATOR_CHECKS = (check_valid_geometry, check_within_parent, check_no_overlap, check_no_gap)


def _snapshot(community: CommunityInput, plan: Plan, epsg: int) -> Snapshot:
    """The plan as the validator sees a district: the community as its own street and
    district, so only the grid level can fail."""
    code = community.code
    parent = [community.boundary]
    frame = lambda data, geoms: gpd.GeoDataFrame(data, geometry=list(geoms), crs=epsg)  # noqa: E731
    grids = frame({"id": range(len(plan.grids)), "code": [g.label for g in plan.grids],
                   "kind": [g.kind for g in plan.grids], "community_code": code},
                  [g.geometry for g in plan.grids])
    return Snapshot(epsg=epsg, district=frame({"code": [code]}, parent),
                    streets=frame({"code": [code], "district_code": [code]}, parent),
                    communities=frame({"code": [code], "street_code": [code]}, parent),
                    grids=grids, buildings=frame({"id": []}, []),
                    min_households=plan.min_households, max_households=plan.max_households)


def _bounds_reasons(community: CommunityInput, plan: Plan, snap: Snapshot,
                    requested: int | None) -> list[Violation]:
    low, high = plan.min_households, plan.max_households
    households = np.asarray(community.households, dtype=np.int64)
    residential = ~np.asarray(community.unit, dtype=bool)
    total = int(households[residential].sum())
    out = []
    for i in np.nonzero((households > high) & residential)[0]:
        grid = plan.grids[plan.building_grid[i]]
        out.append(Violation("building_over_max", (grid.label,),
                             msg("building {building} holds {households} households, more "
                                 "than the {high} a grid may hold: its grid {grid} cannot be "
                                 "within {low}–{high}", building=community.labels[i],
                                 households=int(households[i]), high=high, grid=grid.label,
                                 low=low),
                             snap.where(grid.geometry)))
    if 0 < total < low:
        out.append(Violation("community_below_min", (community.code,),
                             msg("community {community} holds {total} households, fewer "
                                 "than the {low} of one grid: no plan can be within "
                                 "{low}–{high}", community=community.code, total=total,
                                 low=low, high=high)))
    elif total >= low and math.ceil(total / high) > math.floor(total / low):
        out.append(Violation("no_grid_count", (community.code,),
                             msg("community {community} holds {total} households: {fewest} "
                                 "grids hold at most {most_held}, {most} need at least "
                                 "{least_held}; no count of grids is within {low}–{high}",
                                 community=community.code, total=total,
                                 fewest=math.floor(total / low),
                                 most_held=math.floor(total / low) * high,
                                 most=math.ceil(total / high),
                                 least_held=math.ceil(total / high) * low, low=low,
                                 high=high)))
    if requested is not None and not requested * low <= total <= requested * high:
        out.append(Violation("grid_count_bounds", (community.code,),
                             msg("--grids {grids}: {total} households in {grids} grids "
                                 "cannot all be within {low}–{high} (that needs "
                                 "{needs_low}–{needs_high} households)", grids=requested,
                                 total=total, low=low, high=high, needs_low=requested * low,
                                 needs_high=requested * high)))
    return out


def plan_findings(community: CommunityInput, plan: Plan, *, epsg: int,
                  requested: int | None = None, notes: list[str] | None = None
                  ) -> list[Violation]:
    """Every violation of ``plan`` (empty when it keeps every rule)."""
    snap = _snapshot(community, plan, epsg)
    out = [Violation("pieces", (community.code,), note) for note in notes or []]
    out += _bounds_reasons(community, plan, snap, requested)
    residential = plan.residential
    low, high = plan.min_households, plan.max_households
    for grid in residential:
        if not low <= grid.households <= high:
            out.append(Violation("household_bounds", (grid.label,),
                                 msg("residential grid {code} holds {total} households; "
                                     "expected {low}–{high}", code=grid.label,
                                     total=grid.households, low=low, high=high),
                                 snap.where(grid.geometry)))
    if requested is not None and len(residential) != requested:
        out.append(Violation("grid_count", (community.code,),
                             msg("--grids {grids}: the plan has {count} residential grids "
                                 "(each needs a building or a piece of land)",
                                 grids=requested, count=len(residential))))
    for grid in plan.grids:
        if grid.geometry.geom_type != "Polygon":
            out.append(Violation("contiguity", (grid.label,),
                                 msg("grid {grid} is in {pieces} pieces; expected one",
                                     grid=grid.label,
                                     pieces=len(list(getattr(grid.geometry, "geoms", [])))),
                                 snap.where(grid.geometry)))
    for check in VALIDATOR_CHECKS:
        out += check(snap)
    if len(community.footprints):
        landed = assign_buildings_to_grids(community.footprints,
                                           [g.geometry for g in plan.grids])
        for i in np.nonzero(landed != plan.building_grid)[0]:
            out.append(Violation("building_in_one_grid", (plan.grids[plan.building_grid[i]].label,),
                                 msg("building {building} is planned in grid {planned} but "
                                     "the assignment rule puts it in {actual}",
                                     building=community.labels[i],
                                     planned=plan.grids[plan.building_grid[i]].label,
                                     actual=plan.grids[landed[i]].label if landed[i] >= 0
                                     else msg("none"))))
    return out
