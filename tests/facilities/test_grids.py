"""A facility's grid: the active grid covering it, the first code on a shared boundary, none
outside every grid (flagged, kept), and kept current when the grids are redrawn."""
from __future__ import annotations

import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import text

from gridmap.facilities.service import describe_facility, list_facilities, FacilityQuery
from gridmap.models import Grid
from gridmap.plans.apply import apply_plan
from tests.facilities.conftest import make
from tests.plans.test_plans import merged_draft, roomy_bounds


def test_inside_a_grid(db, grids, admin):
    shown = describe_facility(db, make(db, admin, grids[0]))
    assert shown["grid"] == grids[0].code and not shown["outside_grids"]


def test_on_a_shared_boundary_the_first_code(db, grids, admin):
    shapes = {g.code: to_shape(g.geom) for g in grids}
    for a in grids:
        for b in grids:
            common = set(map(tuple, shapely.get_coordinates(shapes[a.code]))) & \
                set(map(tuple, shapely.get_coordinates(shapes[b.code]))) \
                if a.code < b.code else set()
            if common:
                place = sorted(common)[0]
                covering = db.execute(text(
                    "select code from grid where valid_to is null and ST_Covers(geom, "
                    "ST_SetSRID(ST_MakePoint(:x, :y), 4490)) order by code"),
                    {"x": place[0], "y": place[1]}).scalars().all()
                assert len(covering) >= 2
                assert describe_facility(db, make(db, admin, place))["grid"] == covering[0]
                return
    raise AssertionError("no two grids share a vertex")


def test_outside_every_grid_is_kept_and_flagged(db, roles):
    found = make(db, roles["admin"], (100.0, 20.0), district="420111")
    shown = describe_facility(db, found)
    assert shown["outside_grids"] and shown["grid"] is None
    there = FacilityQuery(bbox=(99.9, 19.9, 100.1, 20.1))
    everything = [f["id"] for f in list_facilities(db, roles["admin"], there)]
    district = [f["id"] for f in list_facilities(db, roles["dispatcher"], there)]
    in_grid = [f["id"] for f in list_facilities(db, roles["worker_a"], there)]
    # the district's command centre sees it, a grid worker does not
    assert found.id in everything and found.id in district and found.id not in in_grid


def test_a_redraw_moves_facilities_to_the_new_grid(db, admin):
    roomy_bounds(db)
    plan, a, b = merged_draft(db)
    in_a, in_b = make(db, admin, a), make(db, admin, b, cls="0111")
    untouched = db.execute(text(
        "select f.id, g.code from facility f join grid g on g.id = f.grid_id "
        "where g.community_code = :c and g.code not in (:a, :b) limit 1"),
        {"c": a.community_code, "a": a.code, "b": b.code}).one_or_none()
    apply_plan(db, plan.id, comment="merge")
    merged = {describe_facility(db, f)["grid"] for f in (in_a, in_b)}
    assert len(merged) == 1 and merged.pop() not in (None, a.code, b.code)
    assert db.get(Grid, in_a.grid_id).valid_to is None
    # every facility of the community sits in an active grid now (one UPDATE did it)
    assert db.execute(text(
        "select count(*) from facility f join grid g on g.id = f.grid_id "
        "where g.community_code = :c and g.valid_to is not null"),
        {"c": a.community_code}).scalar() == 0
    if untouched is not None:  # a grid the redraw did not change keeps its facilities
        assert db.execute(text("select g.code from facility f join grid g on g.id = f.grid_id "
                               "where f.id = :f"), {"f": untouched[0]}).scalar() == untouched[1]
    events = db.execute(text("select row_key from audit_event where action = 'refresh_grids' "
                             "and table_name = 'facility'")).scalars().all()
    assert a.community_code in events
