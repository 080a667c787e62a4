"""The incident tests' people and grids: two residential grids of one demo community (A, B)
and a scope for each role around them."""
from __future__ import annotations

import pytest

from gridmap.auth.scope import Scope
from gridmap.models import Grid
from tests.plans.test_plans import active


def person(role: str, *scopes: tuple[str, str]) -> Scope:
    return Scope.for_person(f"t-{role}", role, scopes)


@pytest.fixture()
def grids(db) -> list[Grid]:
    return [g for g in active(db) if g.kind == "residential"]


@pytest.fixture()
def roles(grids) -> dict[str, Scope]:
    a, b = grids[0], grids[1]
    return {"worker_a": person("grid_worker", ("grid", a.code)),
            "worker_b": person("grid_worker", ("grid", b.code)),
            "dispatcher": person("dispatcher", ("district", a.district_code)),
            "street_dispatcher": person("dispatcher", ("street", a.street_code)),
            "handler": person("handler", ("district", a.district_code)),
            "planner": person("planner", ("street", a.street_code)),
            "admin": person("administrator")}
