"""Household totals roll up grid → community → street → district."""
from __future__ import annotations

from sqlalchemy import text

from gridmap.grid.stats import household_totals


def test_totals_roll_up_and_match_the_buildings(db):
    totals = household_totals(db, "420111")
    district = [t for t in totals if t.level == "district"]
    assert len(district) == 1 and district[0].code == "420111"
    buildings = db.execute(text("select sum(households), count(*) from building "
                                "where district_code = '420111'")).one()
    assert (district[0].households, district[0].buildings) == tuple(buildings)
    grids = [t for t in totals if t.level == "grid"]
    communities = [t for t in totals if t.level == "community"]
    streets = [t for t in totals if t.level == "street"]
    assert len(grids) == 24 and len(communities) == 4 and len(streets) == 1
    for community in communities:
        assert community.households == sum(g.households for g in grids
                                           if g.code.startswith(community.code))
    assert streets[0].households == sum(c.households for c in communities)
    stored = dict(db.execute(text("select code, households from grid")).all())
    assert all(stored[g.code] == g.households for g in grids)
