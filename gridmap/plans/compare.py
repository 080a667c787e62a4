"""What a draft would change: its grids' totals and compactness, the buildings and households
moving between grids, and the validator's findings on the community as the draft would leave it.

The draft is judged by the same predicates as ``gridmap validate`` (:mod:`gridmap.grid.validate`)
on a snapshot of the district in which the community's active grids are replaced by the
draft's, and its buildings assigned to the draft's grids by the same rule as the assignment.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import geopandas as gpd
import numpy as np
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gridmap.geo import project_stored
from gridmap.grid.assign import assign_buildings_to_grids
from gridmap.grid.validate import Violation, load_snapshot, run_checks
from gridmap.i18n import msg
from gridmap.models import Plan
from gridmap.partition.plan import polsby_popper_of
from gridmap.plans.drafts import draft_grids

#: Checks a draft must pass (codes and their order are issued at apply, so not checked here).
DRAFT_CHECKS = ("valid_geometry", "within_parent", "no_overlap", "no_gap", "household_bounds")


def draft_code(position: int) -> str:
    """How a draft grid is named before it has a code."""
    return f"draft-{position}"


@dataclass(frozen=True)
class DraftGridSummary:
    position: int
    kind: str
    name: str | None
    households: int
    buildings: int
    area_m2: float
    polsby_popper: float


@dataclass(frozen=True)
class Move:
    """Buildings and households that move from a current grid (None: in no grid now) to a
    draft grid (None: in no grid of the draft)."""

    from_code: str | None
    to_position: int | None
    buildings: int
    households: int


@dataclass
class Comparison:
    plan_id: int | None
    community_code: str
    grids: list[DraftGridSummary] = field(default_factory=list)
    current: list[tuple[str, int, int]] = field(default_factory=list)  # code, households, bldgs
    moves: list[Move] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    @property
    def acceptable(self) -> bool:
        return not self.violations

    def as_dict(self) -> dict:
        return {"plan": self.plan_id, "community": self.community_code,
                "grids": [vars(g) for g in self.grids],
                "current": [{"code": c, "households": h, "buildings": b}
                            for c, h, b in self.current],
                "moves": [vars(m) for m in self.moves],
                "violations": [v.as_dict() for v in self.violations]}


def compare_plan(session: Session, plan: Plan) -> Comparison:
    """Compare draft ``plan`` with its community's current grids."""
    return compare_grids(session, plan.community_code, draft_grids(session, plan.id),
                         plan_id=plan.id)


def compare_grids(session: Session, community: str, stored: Sequence[tuple[Any, BaseGeometry]],
                  *, plan_id: int | None = None) -> Comparison:
    """Compare grids proposed for ``community`` — pairs of (an object with ``position``,
    ``kind`` and ``name``, its shape in EPSG:4490), stored as a draft or not — with the
    community's current grids."""
    snap = load_snapshot(session, community[:6])
    grids = snap.grids
    mine = grids["community_code"].to_numpy() == community
    ordered = [grid for grid, _ in stored]
    draft_geoms = project_stored([geom for _, geom in stored], snap.epsg)
    draft = gpd.GeoDataFrame(
        {"id": [-g.position for g in ordered], "code": [draft_code(g.position) for g in ordered],
         "kind": [g.kind for g in ordered], "name": [g.name for g in ordered],
         "sequence": [g.position for g in ordered], "community_code": community,
         "street_code": community[:9], "district_code": community[:6], "households": 0,
         "building_count": 0}, geometry=list(draft_geoms), crs=snap.epsg)
    others = grids[~mine]
    buildings = snap.buildings
    current_labels = snap.building_labels()
    current_codes = np.where(current_labels >= 0,
                             grids["code"].to_numpy()[np.maximum(current_labels, 0)], None)
    in_community_now = np.isin(current_codes, grids["code"].to_numpy()[mine])
    draft_labels = assign_buildings_to_grids(buildings.geometry.values, draft.geometry.values)
    affected = in_community_now | (draft_labels >= 0)
    households = buildings["households"].fillna(0).astype(int).to_numpy()

    comparison = Comparison(plan_id, community)
    compactness = polsby_popper_of(np.asarray(draft_geoms, dtype=object))
    for index, g in enumerate(ordered):
        inside = draft_labels == index
        comparison.grids.append(DraftGridSummary(
            g.position, g.kind, g.name, int(households[inside].sum()), int(inside.sum()),
            round(float(draft_geoms[index].area), 1),
            round(float(compactness[index]), 3)))
    for code in grids["code"].to_numpy()[mine]:
        inside = current_codes == code
        comparison.current.append((str(code), int(households[inside].sum()), int(inside.sum())))
    moves: Counter = Counter()
    moved_households: Counter = Counter()
    for row in np.nonzero(affected)[0]:
        to = int(draft_labels[row]) + 1 if draft_labels[row] >= 0 else None
        key = (current_codes[row] if in_community_now[row] else None, to)
        moves[key] += 1
        moved_households[key] += int(households[row])
    comparison.moves = [Move(f, t, n, moved_households[(f, t)])
                        for (f, t), n in sorted(moves.items(), key=lambda kv: (
                            str(kv[0][0]), kv[0][1] or 0))]

    # The district as the draft would leave it: its buildings in the draft's grids.
    draft_ids = np.where(draft_labels >= 0, -(draft_labels + 1), -10**9)
    recorded = buildings["grid_id"].to_numpy(dtype=float)
    new_grid_id = np.where(affected, draft_ids, np.nan_to_num(recorded, nan=-10**9))
    moved = buildings.assign(grid_id=np.where(new_grid_id == -10**9, np.nan, new_grid_id))
    totals = moved.groupby("grid_id")["households"].sum()
    draft["households"] = [int(totals.get(-g.position, 0)) for g in ordered]
    after = replace(snap, grids=gpd.GeoDataFrame(
        gpd.pd.concat([others, draft], ignore_index=True), crs=snap.epsg), buildings=moved,
        _labels=None)
    names = set(draft["code"]) | {community}
    comparison.violations = [v for v in run_checks(after, DRAFT_CHECKS)
                             if names.intersection(v.codes)]
    lost = in_community_now & (draft_labels < 0)
    for row in np.nonzero(lost)[0]:
        b = buildings.iloc[row]
        comparison.violations.append(Violation(
            "building_in_one_grid", (community,),
            msg("building {id} ({households} households) is in grid {code} now and in no "
                "grid of the plan", id=b["source_id"], households=int(households[row]),
                code=current_codes[row]),
            after.where(b.geometry)))
    return comparison
