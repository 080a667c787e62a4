"""The dispatch matrix: the most specific rule wins (class before area), the class's default
department where none matches — checked against a brute-force oracle over random rule sets
(hypothesis) — and dispatching an incident takes its department from it."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import delete

from gridmap.errors import InvalidInput, NotFound
from gridmap.incidents.dispatch import department_for, list_rules, set_rule, unset_rule
from gridmap.models import DispatchRule, EventClass
from tests.incidents.test_incidents import act, inside, report

AREAS = ["420111", "420111002", "420111002022"]  # district, street, community
DEPARTMENTS = ["sanitation", "municipal", "parks", "street_office"]


def _oracle(rules: dict[tuple[str, str], str], code: str, areas: list[str],
            default: str) -> str:
    """Try every (class, area) from most to least specific."""
    for cls in (code, code[:2], "*"):
        for area in sorted(areas, key=len, reverse=True) + ["*"]:
            if (cls, area) in rules:
                return rules[(cls, area)]
    return default


# One rolled-back session for all examples: each example starts by deleting every rule.
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.tuples(st.sampled_from(["0401", "04", "*", "0101"]),
                                 st.sampled_from(AREAS + ["*", "420111006"])),
                       st.sampled_from(DEPARTMENTS), max_size=8),
       st.integers(min_value=0, max_value=3))
def test_the_most_specific_rule_wins(db, rules, depth):
    db.execute(delete(DispatchRule))
    for (cls, area), department in rules.items():
        set_rule(db, cls, area, department)
    areas = AREAS[:depth]
    default = db.get(EventClass, "0401").department_code
    assert department_for(db, "0401", areas) == _oracle(rules, "0401", areas, default)


def test_dispatch_takes_the_department_from_the_matrix(db, grids, roles):
    incident = report(db, roles["admin"], *inside(grids[0]), cls="0401")
    set_rule(db, "04", grids[0].street_code, "street_office")
    act(db, roles["dispatcher"], incident, "register")
    act(db, roles["dispatcher"], incident, "dispatch")
    assert incident.department_code == "street_office"


def test_rules_are_checked_and_unset_names_a_missing_rule(db):
    for cls, area, department, problem in [("4", "*", "parks", "expected a minor class"),
                                           ("0401", "4201", "parks", "expected a district"),
                                           ("99", "*", "parks", "no loaded event class"),
                                           ("0401", "*", "police", "is not loaded")]:
        with pytest.raises(InvalidInput, match=problem):
            set_rule(db, cls, area, department)
    with pytest.raises(NotFound, match="no dispatch rule"):
        unset_rule(db, "0101", "*")
    set_rule(db, "0101", "*", "parks")
    assert ("0101", "*", "parks") in [(r.class_pattern, r.area_code, r.department_code)
                                      for r in list_rules(db)]
    unset_rule(db, "0101", "*")
