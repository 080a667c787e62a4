"""Draft plans on the demo district: compare, apply (codes, lineage, totals, audit), refuse a
stale or broken draft, and the history of grids."""
from __future__ import annotations

import datetime as dt

import pytest
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import select, text

from gridmap.audit import Actor, acting_as, list_events
from gridmap.errors import Conflict, InvalidInput, ValidationFailed
from gridmap.models import Grid
from gridmap.plans.apply import apply_plan
from gridmap.plans.compare import compare_plan
from gridmap.plans.drafts import DraftGrid, create_draft, discard_plan
from gridmap.plans.history import grid_at, grid_history

COMMUNITY = "420111002022"


def active(db, community=COMMUNITY) -> list[Grid]:
    return list(db.execute(select(Grid).where(Grid.community_code == community,
                                              Grid.valid_to.is_(None))
                           .order_by(Grid.code)).scalars())


def adjacent_pair(grids: list[Grid]) -> tuple[Grid, Grid]:
    shapes = [to_shape(g.geom) for g in grids]
    for i, a in enumerate(shapes):
        for j in range(i + 1, len(shapes)):
            if grids[i].kind == grids[j].kind == "residential" \
                    and shapely.intersection(a, shapes[j]).length > 10 * 1e-5:
                return grids[i], grids[j]
    raise AssertionError("no two residential grids share a boundary")


def merged_draft(db, *, title="merge") -> tuple:
    grids = active(db)
    a, b = adjacent_pair(grids)
    drafts = [DraftGrid(g.kind, to_shape(g.geom), g.name) for g in grids if g not in (a, b)]
    drafts.append(DraftGrid("residential", shapely.union(to_shape(a.geom), to_shape(b.geom))))
    return create_draft(db, COMMUNITY, drafts, title=title, source="test"), a, b


def roomy_bounds(db):
    db.execute(text("update district set max_households = 5000 where code = '420111'"))


def test_an_unchanged_draft_moves_nothing_and_passes(db):
    grids = active(db)
    plan = create_draft(db, COMMUNITY, [DraftGrid(g.kind, to_shape(g.geom), g.name)
                                        for g in grids], title="same", source="test")
    comparison = compare_plan(db, plan)
    assert comparison.violations == []
    assert all(m.from_code == grids[m.to_position - 1].code for m in comparison.moves)
    assert [g.households for g in comparison.grids] == [h for _, h, _ in comparison.current]


def test_a_merge_moves_two_grids_buildings_into_one_and_conserves_households(db):
    plan, a, b = merged_draft(db)
    comparison = compare_plan(db, plan)
    last = len(plan.grids)
    into_last = {m.from_code: m for m in comparison.moves if m.to_position == last}
    assert set(into_last) == {a.code, b.code}
    assert sum(m.households for m in into_last.values()) == a.households + b.households
    assert sum(g.households for g in comparison.grids) == sum(h for _, h, _ in
                                                              comparison.current)
    merged = comparison.grids[-1]
    assert merged.households == a.households + b.households and 0 < merged.polsby_popper <= 1
    # over 500 households: the bounds check names the merged draft grid
    assert [v.check for v in comparison.violations] == ["household_bounds"]
    with pytest.raises(ValidationFailed, match="holds .* households; expected 250–500"):
        apply_plan(db, plan.id, comment="merge")


def test_applying_issues_a_new_code_retires_the_old_and_records_lineage(db):
    roomy_bounds(db)
    plan, a, b = merged_draft(db)
    with acting_as(Actor("person", "规划员")):
        changes, _ = apply_plan(db, plan.id, comment="two small grids become one")
    assert sorted(changes.retired) == sorted([a.code, b.code])
    (new,) = changes.inserted
    assert new not in (a.code, b.code) and new.startswith(COMMUNITY)
    history = grid_history(db, new)
    assert {x["code"] for x in history["ancestors"]} == {a.code, b.code}
    assert {x["code"] for x in grid_history(db, a.code)["descendants"]} == {new}
    assert grid_history(db, a.code)["status"] == "retired"
    grid = db.execute(select(Grid).where(Grid.code == new)).scalar_one()
    assert grid.households == a.households + b.households
    event = list_events(db, table="plan", limit=1)[0]
    assert (event.action, event.actor, event.after["comment"]) == (
        "apply", "规划员", "two small grids become one")
    assert a.code in event.before["grids"] and new in event.after["grids"]
    assert {m["from_code"] for m in event.after["moves"]} == {a.code, b.code}
    assert sum(m["households"] for m in event.after["moves"]) == a.households + b.households
    # the place a grid held: before the change, after it
    point = to_shape(a.geom).representative_point()
    assert grid.valid_from == db.get(Grid, a.id).valid_to
    when = grid.valid_from
    assert grid_at(db, point.x, point.y, when - dt.timedelta(microseconds=1))["code"] == a.code
    assert grid_at(db, point.x, point.y, when)["code"] == new


def test_a_stale_draft_is_refused_naming_who_changed_the_grids(db):
    roomy_bounds(db)
    first, _, _ = merged_draft(db, title="first")
    second, _, _ = merged_draft(db, title="second")
    with acting_as(Actor("person", "planner-one")):
        apply_plan(db, first.id, comment="first")
    with pytest.raises(Conflict, match="person:planner-one changed at"):
        apply_plan(db, second.id, comment="second")
    with pytest.raises(Conflict, match="is applied"):
        apply_plan(db, first.id, comment="again")


def test_a_draft_needs_a_comment_and_a_discarded_one_cannot_be_applied(db):
    plan, _, _ = merged_draft(db)
    with pytest.raises(InvalidInput, match="needs a comment"):
        apply_plan(db, plan.id, comment="  ")
    discard_plan(db, plan.id)
    with pytest.raises(Conflict, match="is discarded"):
        apply_plan(db, plan.id, comment="x")


def test_a_draft_leaving_a_gap_or_dropping_a_building_is_refused(db):
    grids = active(db)
    biggest = max(grids, key=lambda g: g.households)
    drafts = [DraftGrid(g.kind, to_shape(g.geom), g.name) for g in grids if g is not biggest]
    plan = create_draft(db, COMMUNITY, drafts, title="gap", source="test")
    checks = {v.check for v in compare_plan(db, plan).violations}
    assert {"no_gap", "building_in_one_grid"} <= checks


@pytest.mark.parametrize("grid, message", [
    (DraftGrid("park", shapely.box(0, 0, 1, 1)), "kind 'park'"),
    (DraftGrid("residential", shapely.Point(114.39, 30.5)), "Point; expected a polygon"),
    (DraftGrid("residential", shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])), "invalid"),
])
def test_bad_draft_grids_are_refused(db, grid, message):
    with pytest.raises(InvalidInput, match=message):
        create_draft(db, COMMUNITY, [grid], title="bad", source="test")


def test_a_worker_reaches_the_grids_that_replaced_theirs(db):
    from gridmap.auth import add_person, scope_of
    from gridmap.config import load_settings

    roomy_bounds(db)
    plan, a, b = merged_draft(db)
    worker = add_person(db, "合并前网格员", role="grid_worker", password="a long passphrase 1",
                        scopes=[("grid", a.code)], settings=load_settings())
    changes, _ = apply_plan(db, plan.id, comment="merge")
    (new,) = changes.inserted
    db.expire_all()
    assert scope_of(db, worker).unit_lists()["grid"] == [new]
    event = list_events(db, table="person_scope", limit=1)[0]
    assert (event.action, event.before, event.after) == ("follow_redraw", {"grid": a.code},
                                                         {"grids": [new]})


def test_a_draft_drawn_from_an_old_version_is_refused_when_saved(db):
    roomy_bounds(db)
    first, _, _ = merged_draft(db)
    drawn_from = first.base_version
    with acting_as(Actor("person", "planner-one")):
        apply_plan(db, first.id, comment="first")
    grids = active(db)
    with pytest.raises(Conflict, match="person:planner-one changed them"):
        create_draft(db, COMMUNITY, [DraftGrid(g.kind, to_shape(g.geom)) for g in grids],
                     title="late", source="test", base_version=drawn_from)


def test_two_applies_of_one_plan_at_once_apply_it_once(database_url):
    from concurrent.futures import ThreadPoolExecutor

    from gridmap.db import session_scope

    with session_scope(database_url) as session:
        grids = active(session)
        plan_id = create_draft(session, COMMUNITY, [DraftGrid(g.kind, to_shape(g.geom), g.name)
                                                    for g in grids],
                               title="race", source="test").id

    def attempt(n):
        try:
            with session_scope(database_url) as session:
                apply_plan(session, plan_id, comment=f"attempt {n}")
            return "applied"
        except Conflict as exc:
            return exc.detail

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(attempt, range(2)))
    assert results.count("applied") == 1
    assert any("is applied" in r for r in results if r != "applied")
    with session_scope(database_url) as session:
        applies = session.execute(text(
            "select count(*) from audit_event where table_name = 'plan' and action = 'apply' "
            "and row_key = :k"), {"k": str(plan_id)}).scalar()
    assert applies == 1
