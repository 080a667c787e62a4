"""Scope: built from role and scope rows; property tests of what it allows."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridmap.auth.scope import Scope, check_role_levels
from gridmap.errors import InvalidInput

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
district = st.text(alphabet="0123456789", min_size=6, max_size=6)
community = st.text(alphabet="0123456789", min_size=12, max_size=12)
grid_code = st.text(alphabet="0123456789", min_size=15, max_size=15)
collection = st.sampled_from(["grids", "buildings", "roads", "water", "streets"])


street = st.text(alphabet="0123456789", min_size=9, max_size=9)


@st.composite
def grids(draw):
    """A grid's code with its community, street and district codes (nested division codes;
    the grid code need not start with them, as in the cjt349 profile)."""
    c = draw(community)
    return draw(grid_code), c, c[:9], c[:6]


def _allows(scope, grid):
    code, c, s, d = grid
    return scope.allows_grid(code, community=c, street=s, district=d)


@given(community, grids())
def test_a_community_scope_allows_exactly_the_grids_of_that_community(c, grid):
    scope = Scope.for_person("admin", "community_admin", [("community", c)])
    assert _allows(scope, grid) == (grid[1] == c)
    assert _allows(scope, (grid[0], c, c[:9], c[:6]))


@given(st.lists(grids(), min_size=1, max_size=5), grids())
def test_a_grid_worker_reaches_their_grids_and_no_other(mine, other):
    scope = Scope.for_person("worker", "grid_worker", [("grid", g[0]) for g in mine],
                             grid_communities=[g[1] for g in mine])
    assert all(_allows(scope, g) for g in mine)
    assert _allows(scope, other) == (other[0] in {g[0] for g in mine})
    assert scope.unit_lists()["grid"] == sorted({g[0] for g in mine})


@given(st.lists(grids(), min_size=1, max_size=3), community)
def test_a_grid_worker_sees_the_outlines_around_their_grids_and_no_other_community(mine, c):
    scope = Scope.for_person("worker", "grid_worker", [("grid", g[0]) for g in mine],
                             grid_communities=[g[1] for g in mine])
    for _, com, s, d in mine:
        assert scope.sees_division(com) and scope.sees_division(s) and scope.sees_division(d)
    assert scope.sees_division(c) == (c in {g[1] for g in mine})


@given(st.lists(st.tuples(st.sampled_from(["street", "district"]), street), min_size=1,
                max_size=4), grids())
def test_a_planner_reaches_the_grids_of_their_streets_and_districts(rows, grid):
    rows = [(level, code if level == "street" else code[:6]) for level, code in rows]
    scope = Scope.for_person("planner", "planner", rows)
    expected = any((lvl == "street" and grid[2] == code) or (lvl == "district" and grid[3] == code)
                   for lvl, code in rows)
    assert _allows(scope, grid) == expected
    # a division is seen exactly when one of the two codes starts with the other
    assert scope.sees_division(grid[1]) == any(grid[1].startswith(code) for _, code in rows)


@given(grids(), collection)
def test_an_administrator_reaches_everything_and_may_write(grid, name):
    scope = Scope.for_person("root", "administrator", [])
    assert _allows(scope, grid) and scope.allows_collection(name)
    assert scope.reaches_everything and scope.may_write and scope.is_administrator
    assert scope.sees_division(grid[1])


@given(st.lists(collection, min_size=1, max_size=3), collection, grids())
def test_an_agency_key_is_read_only_and_limited_to_its_collections(names, name, grid):
    scope = Scope.for_api_key("gmk_abcdefgh", names)
    assert not scope.may_write and not scope.is_administrator
    assert scope.allows_collection(name) == (name in names)
    assert _allows(scope, grid)  # keys are limited by collection, not by place
    assert Scope.for_api_key("gmk_abcdefgh", None).allows_collection(name)


@pytest.mark.parametrize("role, levels, message", [
    ("grid_worker", ["community"], "--community given for role grid_worker: expected only --grid"),
    ("grid_worker", [], "role grid_worker with no scope: expected at least one of --grid"),
    ("administrator", ["grid"], "expected no scope"),
    ("planner", ["grid"], "expected only --district or --street"),
    ("boss", [], "role 'boss': expected one of"),
])
def test_scopes_must_fit_the_role(role, levels, message):
    with pytest.raises(InvalidInput, match=message):
        check_role_levels(role, levels)


@given(st.sampled_from(["grid_worker", "community_admin", "planner", "administrator"]),
       community)
def test_only_planners_and_administrators_plan_and_only_where_they_cover(role, c):
    rows = {"grid_worker": [("grid", c + "001")], "community_admin": [("community", c)],
            "planner": [("street", c[:9])], "administrator": []}[role]
    scope = Scope.for_person("x", role, rows)
    assert scope.may("plan") == (role in ("planner", "administrator"))
    assert scope.covers_division(c) == (role != "grid_worker")
    other = c[:6] + ("0" if c[6] != "0" else "1") + c[7:]
    assert scope.covers_division(other) == (role == "administrator")
    assert not Scope.for_api_key("gmk_x", None).may("plan")
