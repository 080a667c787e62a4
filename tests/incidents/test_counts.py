"""Open and overdue incidents counted per grid and per department (one grouped statement),
checked against a recomputation from the incident list, cut to each caller's scope; and the
actions each caller is offered."""
from __future__ import annotations

import datetime as dt

import pytest

from gridmap.errors import InvalidInput
from gridmap.incidents.counts import count_open_incidents
from gridmap.incidents.service import describe, is_overdue, list_incidents
from gridmap.auth.scope import Scope
from tests.incidents.test_incidents import MONDAY_9, act, inside, report

LATER = MONDAY_9 + dt.timedelta(days=30)


def oracle(db, scope, unit, now):
    """The counts recomputed from the incident list, one incident at a time."""
    grids: dict[str | None, list[int]] = {}
    departments: dict[str | None, list[int]] = {}
    for incident in list_incidents(db, scope, open_only=True, limit=100_000):
        shown = describe(db, incident, scope, now=now)
        codes = (shown["grid"] or "", shown["district"] or "")
        if not any(code.startswith(unit) or code == unit for code in codes if code):
            continue
        for key, table in ((shown["grid"], grids), (shown["department"], departments)):
            row = table.setdefault(key, [0, 0])
            row[0] += 1
            row[1] += is_overdue(incident, now)
    return grids, departments


def as_dict(counts):
    return {c.key: [c.open, c.overdue] for c in counts}


def test_counts_per_grid_and_department_agree_with_the_list(db, grids, roles):
    a, b = grids[0], grids[1]
    first = report(db, roles["worker_a"], *inside(a))
    report(db, roles["worker_a"], *inside(a), cls="0101")
    done = report(db, roles["worker_b"], *inside(b))
    act(db, roles["dispatcher"], first, "register")
    act(db, roles["dispatcher"], first, "dispatch")  # due long before LATER
    act(db, roles["dispatcher"], done, "reject")
    community = a.community_code
    for who in ("admin", "dispatcher", "worker_a", "worker_b"):
        counts = count_open_incidents(db, roles[who], community, now=LATER)
        expected_grids, expected_departments = oracle(db, roles[who], community, LATER)
        assert as_dict(counts.grids) == expected_grids, who
        assert as_dict(counts.departments) == expected_departments, who
    mine = count_open_incidents(db, roles["worker_a"], community, now=LATER)
    assert {c.key for c in mine.grids} == {a.code}
    assert as_dict(mine.grids)[a.code][1] >= 1  # the dispatched one is overdue
    assert first.department_code in as_dict(mine.departments)
    theirs = count_open_incidents(db, roles["worker_b"], community, now=LATER)
    assert a.code not in as_dict(theirs.grids)
    one_grid = count_open_incidents(db, roles["admin"], a.code, now=LATER)
    assert {c.key for c in one_grid.grids} == {a.code}
    assert one_grid.open == as_dict(one_grid.grids)[a.code][0]


@pytest.mark.parametrize("unit", ["", "4201", "42011100202x", "'; drop table incident"])
def test_a_bad_unit_is_named(db, roles, unit):
    with pytest.raises(InvalidInput, match="expected a district"):
        count_open_incidents(db, roles["admin"], unit)


def test_list_filters_by_grid_and_open(db, grids, roles):
    a, b = grids[0], grids[1]
    kept = report(db, roles["admin"], *inside(a))
    gone = report(db, roles["admin"], *inside(a))
    other = report(db, roles["admin"], *inside(b))
    act(db, roles["dispatcher"], gone, "reject")
    found = {i.id for i in list_incidents(db, roles["admin"], grid=a.code, open_only=True,
                                          limit=100_000)}
    assert kept.id in found and gone.id not in found and other.id not in found
    assert gone.id in {i.id for i in list_incidents(db, roles["admin"], grid=a.code,
                                                    limit=100_000)}


def test_the_actions_offered_are_those_the_caller_may_take(db, grids, roles):
    a = grids[0]
    incident = report(db, roles["admin"], *inside(a), cls="0101")  # exposed garbage
    assert describe(db, incident, roles["dispatcher"])["your_actions"] == ["register",
                                                                           "reject"]
    assert describe(db, incident, roles["worker_a"])["your_actions"] == []
    act(db, roles["dispatcher"], incident, "register")
    act(db, roles["dispatcher"], incident, "dispatch")
    own = Scope.for_person("t-hw", "handler", [("district", a.district_code)],
                           department=incident.department_code)
    other = Scope.for_person("t-jd", "handler", [("district", a.district_code)],
                             department="street_office")
    assert describe(db, incident, own)["your_actions"] == ["handle"]
    assert describe(db, incident, other)["your_actions"] == []
    assert describe(db, incident, roles["dispatcher"])["your_actions"] == ["defer"]
