"""Hand edits of a community's grids (gridmap/plans/edits.py): hand-drawn cases for each edit,
and hypothesis properties of any sequence of edits — each building in exactly one grid,
household totals conserved, the grids still tile the community, no grid in two pieces."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import event, given, settings, strategies as st
from shapely.geometry import LineString, box

from gridmap.errors import InvalidInput
from gridmap.plans.edits import (Buildings, Layout, Merge, MoveBuildings, Redraw, Split,
                                 WorkingGrid, apply_edit, apply_edits, merge_grids,
                                 move_buildings, pieces, redraw_grid, split_grid)

# a community of about 480 m × 330 m in Wuhan, lon/lat
X0, Y0, SIZE_X, SIZE_Y = 114.39, 30.50, 0.005, 0.003
COMMUNITY = box(X0, Y0, X0 + SIZE_X, Y0 + SIZE_Y)
AREA_EPS = 1e-12  # square degrees: about 0.01 m²


def _layout(cuts=(0.5,)) -> Layout:
    """Vertical strips of the community, cut at the given fractions of its width."""
    xs = [X0] + [X0 + SIZE_X * c for c in sorted(cuts)] + [X0 + SIZE_X]
    grids = tuple(WorkingGrid(f"g{i}", "residential", box(a, Y0, b, Y0 + SIZE_Y))
                  for i, (a, b) in enumerate(zip(xs, xs[1:])))
    return Layout(COMMUNITY, grids)


def _buildings(points, households=None) -> Buildings:
    side = 0.00005  # about 5 m
    feet = np.array([box(x, y, x + side, y + side) for x, y in points], dtype=object)
    counts = np.array(households if households is not None else [10] * len(points))
    return Buildings(np.arange(1, len(points) + 1), feet, counts)


def _check_invariants(layout: Layout, buildings: Buildings) -> None:
    geoms = layout.geoms()
    tiny = 1e-13
    # the grids tile the community: no gap (union) and no overlap (sum of areas)
    assert abs(shapely.union_all(geoms).area - COMMUNITY.area) < AREA_EPS
    assert abs(shapely.area(geoms).sum() - COMMUNITY.area) < AREA_EPS
    assert shapely.difference(shapely.union_all(geoms), COMMUNITY).area < AREA_EPS
    # no grid empty or in two pieces
    for grid in layout.grids:
        assert len(pieces(grid.geom, tiny)) == 1, grid.key
    # each building in exactly one grid: its point inside one grid's interior at most, and
    # assigned to one
    labels = buildings.labels(layout)
    assert (labels >= 0).all()
    points = shapely.point_on_surface(buildings.footprints)
    inside = shapely.contains(geoms[:, None], points[None, :]).sum(axis=0)
    assert (inside <= 1).all()
    # households conserved
    totals = np.bincount(labels, weights=buildings.households, minlength=len(geoms))
    assert totals.sum() == buildings.households.sum()
    assert len({g.key for g in layout.grids}) == len(layout.grids)


def test_split_along_a_line_makes_two_grids_holding_the_buildings_of_each_side():
    layout = _layout((0.5,))
    buildings = _buildings([(X0 + 0.001, Y0 + 0.0005), (X0 + 0.001, Y0 + 0.0025)], [300, 200])
    line = LineString([(X0 - 0.001, Y0 + 0.0015), (X0 + 0.003, Y0 + 0.0015)])
    after = split_grid(layout, "g0", line)
    assert [g.key for g in after.grids] == ["new-1", "new-2", "g1"]
    assert after.grids[0].geom.bounds[1] == pytest.approx(Y0 + 0.0015)  # north first
    labels = buildings.labels(after)
    assert labels.tolist() == [1, 0]
    _check_invariants(after, buildings)


def test_a_line_that_stops_inside_the_grid_is_refused():
    line = LineString([(X0 - 0.001, Y0 + 0.0015), (X0 + 0.001, Y0 + 0.0015)])
    with pytest.raises(InvalidInput, match="from edge to edge"):
        split_grid(_layout(), "g0", line)


def test_merge_of_neighbours_and_refusal_of_grids_apart():
    layout = _layout((0.3, 0.6))
    merged = merge_grids(layout, "g0", "g1")
    assert [g.key for g in merged.grids] == ["new-1", "g2"]
    assert merged.grids[0].geom.equals(box(X0, Y0, X0 + 0.6 * SIZE_X, Y0 + SIZE_Y))
    with pytest.raises(InvalidInput, match="do not share a boundary"):
        merge_grids(layout, "g0", "g2")
    with pytest.raises(InvalidInput, match="not among"):
        merge_grids(layout, "g0", "nope")


def test_merge_closes_the_hairline_gap_of_stored_neighbours():
    gap = 0.2 / 111_320  # 2 dm between the two stored grids… closed only below 5 cm
    hair = 0.01 / 111_320
    a = box(X0, Y0, X0 + 0.002, Y0 + SIZE_Y)
    layout = Layout(COMMUNITY, (WorkingGrid("a", "residential", a),
                                WorkingGrid("b", "residential",
                                            box(X0 + 0.002 + hair, Y0, X0 + SIZE_X, Y0 + SIZE_Y))))
    merged = merge_grids(layout, "a", "b")
    assert len(pieces(merged.grids[0].geom, 1e-13)) == 1
    apart = Layout(COMMUNITY, (WorkingGrid("a", "residential", a),
                               WorkingGrid("b", "residential",
                                           box(X0 + 0.002 + gap, Y0, X0 + SIZE_X, Y0 + SIZE_Y))))
    with pytest.raises(InvalidInput, match="do not share a boundary"):
        merge_grids(apart, "a", "b")


def test_move_buildings_takes_their_land_to_the_neighbour():
    layout = _layout((0.5,))
    points = [(X0 + 0.0005, Y0 + 0.0015), (X0 + 0.0022, Y0 + 0.0015), (X0 + 0.004, Y0 + 0.001)]
    buildings = _buildings(points, [100, 120, 80])
    after = move_buildings(layout, buildings, [2], "g1")
    assert [g.key for g in after.grids] == ["new-1", "new-2"]
    assert buildings.labels(after).tolist() == [0, 1, 1]
    _check_invariants(after, buildings)
    # a building far from the neighbour cannot jump over the one between
    with pytest.raises(InvalidInput, match="do not border"):
        move_buildings(layout, buildings, [1], "g1")
    with pytest.raises(InvalidInput, match="already in grid"):
        move_buildings(layout, buildings, [3], "g1")
    with pytest.raises(InvalidInput, match="keep no land"):
        move_buildings(layout, _buildings(points[1:2]), [1], "g1")


def test_redraw_moves_a_shared_boundary_and_the_neighbour_follows():
    layout = _layout((0.5,))
    buildings = _buildings([(X0 + 0.0022, Y0 + 0.0015), (X0 + 0.0028, Y0 + 0.0015)])
    wider = box(X0, Y0, X0 + 0.003, Y0 + SIZE_Y)
    after = redraw_grid(layout, "g0", wider)
    assert [g.key for g in after.grids] == ["new-1", "new-2"]
    assert buildings.labels(after).tolist() == [0, 0]
    _check_invariants(after, buildings)
    narrower = redraw_grid(layout, "g0", box(X0, Y0, X0 + 0.002, Y0 + SIZE_Y))
    assert buildings.labels(narrower).tolist() == [1, 1]
    _check_invariants(narrower, buildings)
    # a boundary drawn off the community's edge gives land to nobody
    with pytest.raises(InvalidInput, match="borders no other grid"):
        redraw_grid(_layout((0.5,)), "g0", box(X0 + 0.001, Y0, X0 + 0.0025, Y0 + SIZE_Y))
    # outside the community is cut off
    out = redraw_grid(layout, "g0", box(X0 - 0.01, Y0, X0 + 0.0025, Y0 + SIZE_Y))
    _check_invariants(out, buildings)


def test_a_failing_edit_is_named_by_its_number():
    with pytest.raises(InvalidInput, match="edit 2"):
        apply_edits(_layout(), [Merge("g0", "g1"), Merge("g0", "g1")], _buildings([]))


# -- properties ------------------------------------------------------------------------------

fractions = st.floats(0.05, 0.95)


@st.composite
def edits(draw, count: int):
    out = []
    for _ in range(count):
        kind = draw(st.sampled_from(["split", "merge", "move", "redraw"]))
        pick = draw(st.integers(0, 50))
        other = draw(st.integers(0, 50))
        if kind == "split":
            angle = draw(st.floats(0, np.pi))
            out.append(("split", pick, (draw(fractions), draw(fractions), angle)))
        elif kind == "merge":
            out.append(("merge", pick, other))
        elif kind == "move":
            out.append(("move", pick, (other, draw(st.integers(1, 3)), draw(st.integers(0, 50)))))
        else:
            out.append(("redraw", pick, (draw(fractions), draw(fractions),
                                         draw(st.floats(0.0002, 0.0015)))))
    return out


def _concrete(layout: Layout, buildings: Buildings, step) -> object:
    """A drawn edit made concrete on the layout it applies to."""
    kind, pick, arg = step
    grid = layout.grids[pick % len(layout.grids)]
    if kind == "split":
        fx, fy, angle = arg
        x, y = X0 + fx * SIZE_X, Y0 + fy * SIZE_Y
        dx, dy = np.cos(angle) * 0.02, np.sin(angle) * 0.02
        return Split(grid.key, LineString([(x - dx, y - dy), (x + dx, y + dy)]))
    if kind == "merge":
        return Merge(grid.key, layout.grids[arg % len(layout.grids)].key)
    if kind == "move":
        target, count, start = arg
        labels = buildings.labels(layout)
        source = pick % len(layout.grids)
        members = buildings.ids[labels == source]
        chosen = tuple(int(b) for b in members[start % max(len(members), 1):][:count])
        return MoveBuildings(chosen, layout.grids[target % len(layout.grids)].key)
    fx, fy, radius = arg
    blob = shapely.Point(X0 + fx * SIZE_X, Y0 + fy * SIZE_Y).buffer(radius, quad_segs=4)
    grown = shapely.union(grid.geom, blob) if fx < 0.5 else shapely.difference(grid.geom, blob)
    return Redraw(grid.key, grown)


@settings(max_examples=60)
@given(cuts=st.lists(st.integers(1, 19).map(lambda n: n / 20), min_size=1, max_size=3,
                    unique=True),  # strips at least 24 m wide: the grids one starts from
       points=st.lists(st.tuples(st.floats(0.01, 0.98), st.floats(0.01, 0.97)), min_size=1,
                       max_size=25),
       steps=edits(6))
def test_any_sequence_of_edits_keeps_the_rules(cuts, points, steps):
    layout = _layout(cuts)
    buildings = _buildings([(X0 + fx * SIZE_X, Y0 + fy * SIZE_Y) for fx, fy in points],
                           list(range(5, 5 + 13 * len(points), 13)))
    _check_invariants(layout, buildings)
    done = 0
    for step in steps:
        edit = _concrete(layout, buildings, step)
        try:
            layout = apply_edit(layout, edit, buildings)
        except InvalidInput:
            continue  # refused as a whole: the layout is unchanged
        done += 1
        _check_invariants(layout, buildings)
    event(f"edits done: {done} of {len(steps)}")
