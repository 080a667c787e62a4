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
                             f"building {community.labels[i]} holds {households[i]} "
                             f"households, more than the {high} a grid may hold: its grid "
                             f"{grid.label} cannot be within {low}–{high}",
                             snap.where(grid.geometry)))
    if 0 < total < low:
        out.append(Violation("community_below_min", (community.code,),
                             f"community {community.code} holds {total} households, fewer "
                             f"than the {low} of one grid: no plan can be within "
                             f"{low}–{high}"))
    elif total >= low and math.ceil(total / high) > math.floor(total / low):
        out.append(Violation("no_grid_count", (community.code,),
                             f"community {community.code} holds {total} households: "
                             f"{math.floor(total / low)} grids hold at most "
                             f"{math.floor(total / low) * high}, "
                             f"{math.ceil(total / high)} need at least "
                             f"{math.ceil(total / high) * low}; no count of grids is within "
                             f"{low}–{high}"))
    if requested is not None and not requested * low <= total <= requested * high:
        out.append(Violation("grid_count_bounds", (community.code,),
                             f"--grids {requested}: {total} households in {requested} grids "
                             f"cannot all be within {low}–{high} (that needs "
                             f"{requested * low}–{requested * high} households)"))
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
                                 f"residential grid {grid.label} holds {grid.households} "
                                 f"households; expected {low}–{high}",
                                 snap.where(grid.geometry)))
    if requested is not None and len(residential) != requested:
        out.append(Violation("grid_count", (community.code,),
                             f"--grids {requested}: the plan has {len(residential)} "
                             f"residential grids (each needs a building or a piece of land)"))
    for grid in plan.grids:
        if grid.geometry.geom_type != "Polygon":
            out.append(Violation("contiguity", (grid.label,),
                                 f"grid {grid.label} is in {len(list(getattr(grid.geometry, 'geoms', [])))} "
                                 f"pieces; expected one", snap.where(grid.geometry)))
    for check in VALIDATOR_CHECKS:
        out += check(snap)
    if len(community.footprints):
        landed = assign_buildings_to_grids(community.footprints,
                                           [g.geometry for g in plan.grids])
        for i in np.nonzero(landed != plan.building_grid)[0]:
            out.append(Violation("building_in_one_grid", (plan.grids[plan.building_grid[i]].label,),
                                 f"building {community.labels[i]} is planned in grid "
                                 f"{plan.grids[plan.building_grid[i]].label} but the "
                                 f"assignment rule puts it in "
                                 f"{plan.grids[landed[i]].label if landed[i] >= 0 else 'none'}"))
    return out
