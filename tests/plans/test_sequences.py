"""Properties of any sequence of applied plans on a small hand-drawn community with buildings:
no grid code is ever issued twice, every building is in exactly one active grid, household
totals are conserved, a refused draft changes nothing, every retired grid has successors from
its own plan, and the grid at a place on a past moment is the grid that held it then.

The drafts are generated splits (one grid cut by a straight line), merges (two neighbouring
grids as one) and redraws (the boundary between two neighbours moved), each interpreted
against the grids in force when it is drawn. Each example runs in its own transaction on the
test database, rolled back at its end.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from hypothesis import event, given, settings, strategies as st
from sqlalchemy import select, text

from gridmap.errors import ValidationFailed
from gridmap.geo import storage_ewkb
from gridmap.grid.assign import assign_district
from gridmap.grid.redraw import GridFeature, apply_grids
from gridmap.grid.validate import load_snapshot, run_checks
from gridmap.models import Building, Community, District, Grid, Street
from gridmap.plans.apply import apply_plan
from gridmap.plans.drafts import DraftGrid, create_draft
from gridmap.plans.history import grid_at, grid_history
from tests.conftest import rolled_back
from tests.plans.shapes import cut_across

# A real district code (江岸区, Wuhan) away from the demo's ground, drawn by hand.
DISTRICT, STREET, COMMUNITY = "420102", "420102001", "420102001001"
WEST, SOUTH, EAST, NORTH = 114.2900, 30.6400, 114.2960, 30.6445  # ~575 m × 500 m
COLUMNS, ROWS = 5, 4
#: Households per building, row by row; 0 is a school (a unit building).
HOUSEHOLDS = [30, 45, 60, 25, 40,
              55, 0, 35, 50, 20,
              45, 30, 65, 40, 35,
              25, 50, 30, 45, 60]
TOTAL = sum(HOUSEHOLDS)
MAX_HOUSEHOLDS = 450  # three quadrants together hold more: such a merge is refused
CHECKS = ("valid_geometry", "within_parent", "no_overlap", "no_gap", "building_in_one_grid",
          "codes")
ONE_MICROSECOND = dt.timedelta(microseconds=1)


def _building_centres() -> np.ndarray:
    """Building centres on a lattice, off every quadrant line and away from the edges."""
    xs = WEST + (np.arange(COLUMNS) + 0.5) / COLUMNS * (EAST - WEST)
    ys = SOUTH + (np.arange(ROWS) + 0.5) / ROWS * (NORTH - SOUTH)
    return np.array([(x, y) for y in ys for x in xs])


def _draw_community(session) -> None:
    """The district, street and community (one box), four quadrant grids, 20 buildings."""
    box = shapely.box(WEST, SOUTH, EAST, NORTH)
    session.add(District(code=DISTRICT, name="江岸区（测试）", projected_epsg=4545,
                         min_households=1, max_households=MAX_HOUSEHOLDS,
                         geom=storage_ewkb(box)))
    session.add(Street(code=STREET, district_code=DISTRICT, name="测试街道",
                       geom=storage_ewkb(box)))
    session.add(Community(code=COMMUNITY, street_code=STREET, name="测试社区",
                          geom=storage_ewkb(box)))
    session.flush()
    mid_x, mid_y = (WEST + EAST) / 2, (SOUTH + NORTH) / 2
    quadrants = [shapely.box(*b) for b in (
        (WEST, mid_y, mid_x, NORTH), (mid_x, mid_y, EAST, NORTH),
        (WEST, SOUTH, mid_x, mid_y), (mid_x, SOUTH, EAST, mid_y))]
    apply_grids(session, [GridFeature(COMMUNITY, "residential", q) for q in quadrants],
                replace=True, note="hand-drawn")
    half = 0.00006  # ~6 m
    for number, ((x, y), households) in enumerate(zip(_building_centres(), HOUSEHOLDS)):
        session.add(Building(district_code=DISTRICT, source="test", source_id=f"b{number}",
                             use="school" if households == 0 else "residential",
                             households=households,
                             footprint=storage_ewkb(shapely.box(x - half, y - half,
                                                                x + half, y + half))))
    session.flush()
    assign_district(session, DISTRICT)


def _active(session) -> list[Grid]:
    return list(session.execute(select(Grid).where(Grid.community_code == COMMUNITY,
                                                   Grid.valid_to.is_(None))
                                .order_by(Grid.code).execution_options(populate_existing=True)
                                ).scalars())


def _kind(geom) -> str:
    """Residential where households live, unit where none do (a unit grid has no bounds)."""
    inside = shapely.contains_xy(geom, *_building_centres().T)
    return "residential" if np.asarray(HOUSEHOLDS)[inside].sum() > 0 else "unit"


def _neighbours(shapes: list, i: int) -> list[int]:
    return [j for j, other in enumerate(shapes)
            if j != i and shapely.intersection(shapes[i], other).length > 0]


operations = st.one_of(
    st.tuples(st.just("split"), st.integers(0, 99), st.floats(0.15, 0.85), st.booleans()),
    st.tuples(st.just("merge"), st.integers(0, 99), st.integers(0, 99)),
    st.tuples(st.just("redraw"), st.integers(0, 99), st.integers(0, 99),
              st.floats(0.15, 0.85), st.booleans()))


def _draft(grids: list[Grid], operation) -> list[DraftGrid] | None:
    """The community's grids after ``operation`` (None when it does not apply to them)."""
    shapes = [to_shape(g.geom) for g in grids]
    kept = [DraftGrid(g.kind, s, g.name) for g, s in zip(grids, shapes)]
    i = operation[1] % len(grids)
    if operation[0] == "split":
        parts = cut_across(shapes[i], operation[2], operation[3])
        if len(parts) < 2:
            return None
        return kept[:i] + kept[i + 1:] + [DraftGrid(_kind(p), p) for p in parts]
    neighbours = _neighbours(shapes, i)
    if not neighbours:
        return None
    j = neighbours[operation[2] % len(neighbours)]
    rest = [d for k, d in enumerate(kept) if k not in (i, j)]
    both = shapely.union(shapes[i], shapes[j])
    if operation[0] == "merge":
        return rest + [DraftGrid(_kind(both), both)]
    parts = cut_across(both, operation[3], operation[4])
    if len(parts) < 2:
        return None
    return rest + [DraftGrid(_kind(p), p) for p in parts]


def _held(session) -> dict[int, str]:
    """Which active grid holds each building centre (centres on a boundary left out)."""
    rows = session.execute(text(
        "select p.n, array_agg(g.code) from unnest(cast(:xs as float8[]), "
        "cast(:ys as float8[])) with ordinality as p(x, y, n) join grid g on g.valid_to is "
        "null and g.community_code = :c and ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(p.x, "
        "p.y), 4490)) group by p.n"),
        {"xs": _building_centres()[:, 0].tolist(), "ys": _building_centres()[:, 1].tolist(),
         "c": COMMUNITY}).all()
    assert len(rows) == len(HOUSEHOLDS), "a building centre lies in no active grid"
    return {n - 1: codes[0] for n, codes in rows if len(codes) == 1}


def _check_invariants(session) -> None:
    grids = _active(session)
    buildings = list(session.execute(select(Building).where(Building.district_code == DISTRICT)
                                     .execution_options(populate_existing=True)).scalars())
    active_ids = {g.id for g in grids}
    # every building in exactly one active grid of its community, by the assignment rule
    assert all(b.grid_id in active_ids for b in buildings)
    assert run_checks(load_snapshot(session, DISTRICT), CHECKS) == []
    # totals conserved and up to date
    assert sum(g.households for g in grids) == TOTAL
    for g in grids:
        mine = [b for b in buildings if b.grid_id == g.id]
        assert (g.households, g.building_count) == (sum(b.households for b in mine),
                                                     len(mine))


@settings(max_examples=12)
@given(st.lists(operations, min_size=1, max_size=6))
def test_any_sequence_of_applied_plans_keeps_codes_buildings_totals_and_history(engine,
                                                                               steps):
    with rolled_back(engine) as session:
        _draw_community(session)
        _check_invariants(session)
        start = min(g.valid_from for g in _active(session))
        states = [(start, _held(session))]  # (the moment it began, building → code)
        issued = {g.code for g in _active(session)}
        highest = max(g.sequence for g in _active(session))
        for number, operation in enumerate(steps):
            before = [(g.code, g.households) for g in _active(session)]
            drawn = _draft(_active(session), operation)
            if drawn is None:
                event("operation does not apply")
                continue
            plan = create_draft(session, COMMUNITY, drawn, title=f"step {number}",
                                source="test")
            try:
                changes, _ = apply_plan(session, plan.id, comment=f"{operation[0]} {number}")
            except ValidationFailed:
                # refused: the draft breaks a rule (here: a grid over the maximum); nothing
                # changed
                event(f"{operation[0]} refused")
                assert [(g.code, g.households) for g in _active(session)] == before
                continue
            if not changes.inserted:
                # the draft drew the grids as they were (a boundary moved to where it was)
                event(f"{operation[0]} changed nothing")
                assert not changes.retired and _active(session)[0].valid_to is None
                assert [(g.code, g.households) for g in _active(session)] == before
                continue
            event(f"{operation[0]} applied")
            # no code issued twice, and new sequence numbers above every one issued before
            assert not issued & set(changes.inserted)
            issued |= set(changes.inserted)
            sequences = [g.sequence for g in _active(session) if g.code in changes.inserted]
            assert min(sequences) > highest
            highest = max(sequences)
            statuses = dict(session.execute(text(
                "select code, status from code_registry where community_code = :c"),
                {"c": COMMUNITY}).all())
            assert set(statuses) == issued
            assert {c for c, s in statuses.items() if s == "issued"} == \
                {g.code for g in _active(session)}
            # each retired grid's ground went to grids issued by this plan
            for old in changes.retired:
                successors = {d["code"] for d in grid_history(session, old)["descendants"]
                              if d["generations"] == 1}
                assert successors and successors <= set(changes.inserted)
            _check_invariants(session)
            began = session.execute(select(Grid.valid_from).where(
                Grid.code == changes.inserted[0])).scalar_one()
            assert began > states[-1][0]
            states.append((began, _held(session)))
        # the grid at a place at any past moment is the grid that held it then
        (x_west, y_south) = _building_centres()[0]
        assert grid_at(session, x_west, y_south, start - ONE_MICROSECOND) is None
        for k, (began, held) in enumerate(states):
            ends = states[k + 1][0] - ONE_MICROSECOND if k + 1 < len(states) else None
            for building, code in held.items():
                x, y = _building_centres()[building]
                for moment in (began, ends):
                    if moment is not None:
                        assert grid_at(session, x, y, moment)["code"] == code, (k, building)
