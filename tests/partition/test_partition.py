"""The partitioner on hand-drawn communities: each infeasible input named, K respected."""
from __future__ import annotations

import numpy as np
import pytest
import shapely

from gridmap.errors import InvalidInput
from gridmap.partition import CommunityInput, grid_count, partition_community
from gridmap.partition.bisect import Bounds

EPSG = 4545  # CGCS2000 / 3° Gauss–Krüger CM 114E (Wuhan); coordinates near its meridian
X0, Y0 = 500_000.0, 3_380_000.0
GEOMETRY_CHECKS = {"valid_geometry", "within_parent", "no_overlap", "no_gap", "contiguity",
                   "building_in_one_grid"}


def community(households, *, columns=6, spacing=40.0, unit=None, roads=()):
    """Buildings 12 m square on a grid of ``columns`` columns inside one box."""
    n = len(households)
    rows = -(-n // columns)
    i = np.arange(n)
    x = X0 + spacing / 2 + (i % columns) * spacing
    y = Y0 + spacing / 2 + (i // columns) * spacing
    boundary = shapely.box(X0, Y0, X0 + columns * spacing, Y0 + rows * spacing)
    feet = shapely.buffer(shapely.points(x, y), 6, cap_style="square")
    return CommunityInput(code="420111002099", boundary=boundary, footprints=feet,
                          households=np.asarray(households), labels=np.array(
                              [f"test:{k}" for k in range(n)], dtype=object),
                          unit=np.zeros(n, bool) if unit is None else np.asarray(unit),
                          roads=np.array(list(roads), dtype=object))


def checks(plan):
    return {v.check for v in plan.violations}


def test_feasible_community_gets_grids_within_bounds_that_tile_it():
    plan = partition_community(community([20] * 60), epsg=EPSG)  # 1,200 households
    assert len(plan.residential) == grid_count(1200, Bounds(250, 500)) == 3
    assert all(plan.in_bounds()) and plan.violations == []
    assert sum(g.households for g in plan.grids) == 1200


def test_one_building_over_the_maximum_is_named_and_sits_in_the_closest_plan():
    plan = partition_community(community([600] + [10] * 35), epsg=EPSG)
    big = [v for v in plan.violations if v.check == "building_over_max"]
    assert len(big) == 1 and "test:0 holds 600 households" in big[0].detail
    assert checks(plan) <= {"building_over_max", "household_bounds"}
    assert sum(g.households for g in plan.grids) == 950


def test_community_below_the_minimum_is_one_grid_and_says_why():
    plan = partition_community(community([10] * 18), epsg=EPSG)
    assert len(plan.grids) == 1 and plan.grids[0].households == 180
    assert "community_below_min" in checks(plan)
    assert "fewer than the 250" in " ".join(v.detail for v in plan.violations)


def test_no_count_of_grids_fits_the_bounds():
    plan = partition_community(community([13] * 40), min_households=300, max_households=500,
                               epsg=EPSG)  # 520: one grid is too many, two too few
    assert "no_grid_count" in checks(plan)
    assert not checks(plan) & GEOMETRY_CHECKS


def test_requested_count_is_kept_and_impossible_bounds_named():
    plan = partition_community(community([20] * 60), grids=4, epsg=EPSG)
    assert len(plan.residential) == 4 and all(plan.in_bounds())
    plan = partition_community(community([20] * 60), grids=6, epsg=EPSG)
    assert len(plan.residential) == 6 and "grid_count_bounds" in checks(plan)


def test_unit_buildings_become_unit_grids_and_hold_no_households():
    households = [20] * 36
    unit = np.zeros(36, bool)
    unit[[0, 35]] = True
    households[0] = households[35] = 0
    plan = partition_community(community(households, unit=unit), epsg=EPSG)
    units = [g for g in plan.grids if g.kind == "unit"]
    assert len(units) == 2 and all(g.households == 0 for g in units)
    assert {int(b) for g in units for b in g.buildings} == {0, 35}
    assert not checks(plan) & GEOMETRY_CHECKS


def test_grid_boundaries_follow_a_road_that_halves_the_community():
    road = shapely.LineString([(X0 + 120, Y0 - 5), (X0 + 120, Y0 + 400)])
    plan = partition_community(community([25] * 60, roads=[road]), grids=2, epsg=EPSG)
    assert plan.street_share == pytest.approx(1.0)
    for g in plan.grids:  # each side of the road is one grid
        xs = shapely.get_x(shapely.centroid(g.geometry))
        assert (xs < X0 + 120) == all(
            shapely.get_x(shapely.centroid(community([25] * 60).footprints[b])) < X0 + 120
            for b in g.buildings)


def test_the_same_seed_gives_the_same_plan():
    a = partition_community(community(list(range(1, 61))), epsg=EPSG, seed=3)
    b = partition_community(community(list(range(1, 61))), epsg=EPSG, seed=3)
    assert np.array_equal(a.building_grid, b.building_grid)


@pytest.mark.parametrize("kwargs", [dict(min_households=0), dict(min_households=600),
                                    dict(grids=0)])
def test_bad_parameters_are_refused(kwargs):
    with pytest.raises(InvalidInput):
        partition_community(community([20] * 10), epsg=EPSG, **kwargs)


def test_households_fenced_off_by_unit_grids_are_named():
    # 6 columns × 3 rows; column 2 is a wall of units between 2 columns and 3 columns.
    households = np.full(18, 40)
    unit = np.zeros(18, bool)
    unit[[2, 8, 14]] = True
    households[unit] = 0
    plan = partition_community(community(households, unit=unit), epsg=EPSG)
    fenced = [v for v in plan.violations if v.check == "pieces"]
    assert len(fenced) == 1 and "240 households" in fenced[0].detail
    assert sorted(g.households for g in plan.residential) == [240, 360]
    assert not checks(plan) & GEOMETRY_CHECKS


def test_a_unit_on_wide_grounds_keeps_its_own_ground_and_fences_nothing_off():
    # The same wall of units as above, but with 100 m between buildings: each unit's cell is
    # mostly open ground. Whole, the cells would fence 240 households off (named, out of
    # bounds); the units keep only their own ground and the rest joins the residential grids.
    households = np.full(18, 40)
    unit = np.zeros(18, bool)
    unit[[2, 8, 14]] = True
    households[unit] = 0
    plan = partition_community(community(households, unit=unit, spacing=100.0), epsg=EPSG)
    assert plan.violations == []
    assert len(plan.residential) == 2 and all(plan.in_bounds())
    assert sum(g.households for g in plan.residential) == 600
    units = [g for g in plan.grids if g.kind == "unit"]
    assert sorted(int(i) for g in units for i in g.buildings) == [2, 8, 14]
    # each unit grid: its 12 m building and the 15 m margin round it, not its 100 m cell
    assert all(g.geometry.area < 45 ** 2 for g in units)
