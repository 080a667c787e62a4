"""The partitioner on the demo district's communities, read from PostGIS."""
from __future__ import annotations

import pytest

from gridmap.errors import NotFound
from gridmap.partition import partition_community
from gridmap.partition.load import load_community, street_communities

GEOMETRY_CHECKS = {"valid_geometry", "within_parent", "no_overlap", "no_gap", "contiguity",
                   "building_in_one_grid"}


def test_every_demo_community_gets_a_plan_that_tiles_it(db):
    codes = street_communities(db, "420111002")
    assert codes
    planned = 0
    for code in codes:
        source = load_community(db, code)
        if not len(source.community.footprints):
            continue
        planned += 1
        plan = partition_community(source.community, epsg=source.epsg,
                                   min_households=source.min_households,
                                   max_households=source.max_households)
        found = {v.check for v in plan.violations}
        assert not found & GEOMETRY_CHECKS, plan.violations
        assert sum(g.households for g in plan.grids) == int(source.community.households.sum())
        assert sum(len(g.buildings) for g in plan.grids) == len(source.community.footprints)
        assert any(g.kind == "unit" for g in plan.grids)  # the malls and campus buildings
        # a grid out of bounds is always named
        named = {c for v in plan.violations if v.check == "household_bounds" for c in v.codes}
        assert named == {g.label for g in plan.residential
                         if not plan.min_households <= g.households <= plan.max_households}
    assert planned == 4


def test_unknown_community_and_street_are_not_found(db):
    with pytest.raises(NotFound, match="community '420111002999' is not loaded"):
        load_community(db, "420111002999")
    with pytest.raises(NotFound, match="street '420111999'"):
        street_communities(db, "420111999")
