"""What a partition produces: a draft plan of grids for one community, and its measures."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gridmap.grid.validate import Violation


@dataclass(frozen=True)
class CommunityInput:
    """One community to partition; geometries in the district's projected CRS (metres).

    Attributes
    ----------
    code : the community's code (named in messages).
    boundary : the community polygon.
    footprints, households, unit : buildings, their household counts, and whether each is a
        unit building (a non-residential unit: a unit grid of its own).
    labels : how each building is named in messages (e.g. ``osm:123 (某小区)``).
    roads : road lines in and around the community.
    """

    code: str
    boundary: BaseGeometry
    footprints: np.ndarray
    households: np.ndarray
    unit: np.ndarray
    labels: np.ndarray
    roads: np.ndarray


@dataclass
class PlanGrid:
    """One grid of a draft plan; ``label`` is its place in west→east, north→south order."""

    label: str
    kind: str  # residential | unit
    geometry: BaseGeometry
    buildings: np.ndarray  # indices into the input's buildings
    households: int
    polsby_popper: float


@dataclass
class Plan:
    """A draft plan for one community: grids that tile it, and every rule the plan breaks."""

    community_code: str
    min_households: int
    max_households: int
    grids: list[PlanGrid]
    building_grid: np.ndarray  # index into ``grids`` of each input building
    violations: list[Violation] = field(default_factory=list)
    street_share: float = 0.0  # share of the boundary between grids that runs along roads
    seconds: float = 0.0

    @property
    def residential(self) -> list[PlanGrid]:
        return [g for g in self.grids if g.kind == "residential"]

    def in_bounds(self) -> list[bool]:
        return [self.min_households <= g.households <= self.max_households
                for g in self.residential]

    def summary(self) -> dict:
        res = self.residential
        pp = [g.polsby_popper for g in res]
        return {"community": self.community_code, "grids": len(self.grids),
                "residential": len(res), "unit": len(self.grids) - len(res),
                "in_bounds": sum(self.in_bounds()),
                "households": int(sum(g.households for g in self.grids)),
                "pp_mean": float(np.mean(pp)) if pp else 0.0,
                "pp_min": float(np.min(pp)) if pp else 0.0,
                "street_share": self.street_share, "violations": len(self.violations)}


def polsby_popper_of(geoms: np.ndarray) -> np.ndarray:
    """4πA/P² of each geometry (1 for a disc)."""
    area, length = shapely.area(geoms), shapely.length(geoms)
    return np.where(length > 0, 4 * np.pi * area / np.maximum(length, 1e-12) ** 2, 0.0)


def street_share(tile_grid: np.ndarray, u: np.ndarray, v: np.ndarray, length: np.ndarray,
                 road: np.ndarray) -> float:
    """Share of the boundary length between different grids that runs along roads.

    Measured on the tile graph, the same way for gridmap and for the peers (bench/)."""
    cut = tile_grid[u] != tile_grid[v]
    total = length[cut].sum()
    return float(length[cut & road].sum() / total) if total > 0 else 1.0
