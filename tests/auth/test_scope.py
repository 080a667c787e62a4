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


@given(community, grid_code)
def test_a_community_scope_allows_exactly_the_grids_whose_code_starts_with_it(c, g):
    scope = Scope.for_person("admin", "community_admin", [("community", c)])
    assert scope.allows_grid(g) == g.startswith(c)
    assert scope.allows_grid(c + g[12:])


@given(st.lists(grid_code, min_size=1, max_size=5), grid_code)
def test_a_grid_worker_reaches_their_grids_and_no_other(mine, other):
    scope = Scope.for_person("worker", "grid_worker", [("grid", g) for g in mine])
    assert all(scope.allows_grid(g) for g in mine)
    assert scope.allows_grid(other) == (other in mine)
    assert scope.grid_codes_filter() == sorted(set(mine))


@given(st.lists(st.tuples(st.sampled_from(["street", "district"]), district), min_size=1,
                max_size=4), grid_code)
def test_the_filter_and_allows_grid_agree(rows, g):
    rows = [(level, code if level == "district" else code + "001") for level, code in rows]
    scope = Scope.for_person("planner", "planner", rows)
    prefixes = scope.grid_codes_filter()
    assert scope.allows_grid(g) == any(g.startswith(p) for p in prefixes)


@given(grid_code, collection)
def test_an_administrator_reaches_everything_and_may_write(g, name):
    scope = Scope.for_person("root", "administrator", [])
    assert scope.allows_grid(g) and scope.allows_collection(name)
    assert scope.grid_codes_filter() is None and scope.may_write and scope.is_administrator


@given(st.lists(collection, min_size=1, max_size=3), collection, grid_code)
def test_an_agency_key_is_read_only_and_limited_to_its_collections(names, name, g):
    scope = Scope.for_api_key("gmk_abcdefgh", names)
    assert not scope.may_write and not scope.is_administrator
    assert scope.allows_collection(name) == (name in names)
    assert scope.allows_grid(g)  # keys are limited by collection, not by place
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
