"""Properties of every plan the partitioner makes, on generated communities with roads."""
from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings, strategies as st

from gridmap.partition import CommunityInput, partition_community

EPSG = 4545
X0, Y0 = 500_000.0, 3_380_000.0
GEOMETRY_CHECKS = {"valid_geometry", "within_parent", "no_overlap", "no_gap", "contiguity",
                   "building_in_one_grid"}


@st.composite
def communities(draw):
    """A rectangle with random buildings (households 1–25, a few units) and straight roads."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(5, 140))
    width, height = draw(st.floats(300, 900)), draw(st.floats(300, 900))
    rng = np.random.default_rng(seed)
    xy = rng.uniform([X0 + 8, Y0 + 8], [X0 + width - 8, Y0 + height - 8], size=(n, 2))
    feet = shapely.buffer(shapely.points(xy), rng.uniform(3, 7, n), cap_style="square")
    households = rng.integers(1, 26, n)
    unit = rng.random(n) < draw(st.sampled_from([0.0, 0.05]))
    households[unit] = 0
    roads = [shapely.LineString([(X0 + x, Y0 - 20), (X0 + x + rng.uniform(-50, 50), Y0 + height + 20)])
             for x in rng.uniform(50, width - 50, draw(st.integers(0, 3)))]
    roads += [shapely.LineString([(X0 - 20, Y0 + y), (X0 + width + 20, Y0 + y)])
              for y in rng.uniform(50, height - 50, draw(st.integers(0, 3)))]
    return CommunityInput(code="420111002099", boundary=shapely.box(X0, Y0, X0 + width,
                                                                    Y0 + height),
                          footprints=feet, households=households, unit=unit,
                          labels=np.array([f"gen:{i}" for i in range(n)], dtype=object),
                          roads=np.array(roads, dtype=object))


@settings(max_examples=40)
@given(communities(), st.sampled_from([None, 1, 2, 3]), st.integers(0, 3))
def test_every_plan_keeps_the_rules(c, k, seed):
    plan = partition_community(c, epsg=EPSG, grids=k, seed=seed)
    found = {v.check for v in plan.violations}
    # each building in exactly one grid, households conserved
    listed = np.sort(np.concatenate([g.buildings for g in plan.grids]))
    assert np.array_equal(listed, np.arange(len(c.footprints)))
    assert all(np.all(plan.building_grid[g.buildings] == i) for i, g in enumerate(plan.grids))
    assert sum(g.households for g in plan.grids) == int(c.households.sum())
    # unit buildings only in unit grids, and units hold no households
    assert all(g.households == 0 for g in plan.grids if g.kind == "unit")
    # contiguous grids that tile the community, as the validator sees them
    assert not found & GEOMETRY_CHECKS, plan.violations
    assert all(g.geometry.geom_type == "Polygon" for g in plan.grids)
    union = shapely.union_all([g.geometry for g in plan.grids])
    assert abs(union.area - c.boundary.area) < 1.0
    # K respected whenever there are that many pieces of land to give
    if k is not None and "pieces" not in found:
        assert len(plan.residential) == k or "grid_count" in found
    # every residential grid within bounds, or the plan says why it cannot be
    reasons = {"building_over_max", "community_below_min", "no_grid_count", "pieces",
               "grid_count_bounds", "grid_count"}
    if all(plan.in_bounds()) is False:
        assert found & (reasons | {"household_bounds"})


@settings(max_examples=25)
@given(communities(), st.integers(0, 3))
def test_within_bounds_whenever_a_plan_exists(c, seed):
    """Small buildings (≤ 25 households), no units, at least 600 households in one connected
    piece: a plan within 250–500 always exists, and the partitioner finds it."""
    c = CommunityInput(code=c.code, boundary=c.boundary, footprints=c.footprints,
                       households=np.maximum(c.households, 1), unit=np.zeros(len(c.unit), bool),
                       labels=c.labels, roads=c.roads)
    if c.households.sum() < 600:
        return
    plan = partition_community(c, epsg=EPSG, seed=seed)
    assert all(plan.in_bounds()), [g.households for g in plan.residential]
    assert plan.violations == []
