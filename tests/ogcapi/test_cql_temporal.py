"""CQL2 temporal functions (conformance class temporal-functions): each of the fifteen over
instants and intervals, in text and JSON, equals a Python oracle written from the standard's
definitions over incidents inserted for the test; bad input is a 400 naming ``filter``."""
from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import text

from gridmap.errors import InvalidInput
from layers import load_layers
from layers.features.cql import filter_sql
from layers.features.crs import CRS84
from layers.features.queryables import queryables
from tests.conftest import rolled_back
from tests.ogcapi.conftest import items_url

INCIDENTS = load_layers()["incidents"]
#: Hour 0 of the test's instants: after every demo incident.
BASE = dt.datetime(2031, 3, 1, tzinfo=dt.timezone.utc)
HOURS = st.integers(0, 8)  # few hours, so that ends often coincide (T_MEETS, T_EQUALS…)
# The standard's definitions, written here apart from the SQL (intervals as (start, end) hours
# with ±inf open, instants as equal ends); a common instant (max start ≤ min end) is intersection.
ORACLE = {
    "T_AFTER": lambda a, b: a[0] > b[1],
    "T_BEFORE": lambda a, b: a[1] < b[0],
    "T_CONTAINS": lambda a, b: a[0] < b[0] and b[1] < a[1],
    "T_DISJOINT": lambda a, b: max(a[0], b[0]) > min(a[1], b[1]),
    "T_DURING": lambda a, b: b[0] < a[0] and a[1] < b[1],
    "T_EQUALS": lambda a, b: tuple(a) == tuple(b),
    "T_FINISHEDBY": lambda a, b: a[0] < b[0] and a[1] == b[1],
    "T_FINISHES": lambda a, b: b[0] < a[0] and a[1] == b[1],
    "T_INTERSECTS": lambda a, b: max(a[0], b[0]) <= min(a[1], b[1]),
    "T_MEETS": lambda a, b: a[1] == b[0],
    "T_METBY": lambda a, b: a[0] == b[1],
    "T_OVERLAPPEDBY": lambda a, b: b[0] < a[0] < b[1] < a[1],
    "T_OVERLAPS": lambda a, b: a[0] < b[0] < a[1] < b[1],
    "T_STARTEDBY": lambda a, b: a[0] == b[0] and b[1] < a[1],
    "T_STARTS": lambda a, b: a[0] == b[0] and a[1] < b[1],
}


def _stamp(hours: int) -> str:
    return (BASE + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


# An operand: ("property", name) | ("instant", hours) | ("interval", end, end), where an end
# is a property name, hours or None (open).
_END = st.one_of(st.sampled_from(["reported_at", "deadline", None]), HOURS)
OPERANDS = st.one_of(
    st.tuples(st.just("property"), st.sampled_from(["reported_at", "deadline"])),
    st.tuples(st.just("instant"), HOURS),
    st.tuples(st.just("interval"), _END, _END).filter(
        lambda o: not (isinstance(o[1], int) and isinstance(o[2], int) and o[1] > o[2])))


def _text(operand) -> str:
    def end(v):
        return "'..'" if v is None else f"'{_stamp(v)}'" if isinstance(v, int) else v
    if operand[0] == "property":
        return operand[1]
    if operand[0] == "instant":
        return f"TIMESTAMP('{_stamp(operand[1])}')"
    return f"INTERVAL({end(operand[1])}, {end(operand[2])})"


def _json(operand):
    def end(v):
        return ".." if v is None else _stamp(v) if isinstance(v, int) else {"property": v}
    if operand[0] == "property":
        return {"property": operand[1]}
    if operand[0] == "instant":
        return {"timestamp": _stamp(operand[1])}
    return {"interval": [end(operand[1]), end(operand[2])]}


def _period(operand, row):
    """(start, end) in hours on ``row``."""
    def end(v, open_as):
        return open_as if v is None else v if isinstance(v, int) else row[v]
    if operand[0] == "property":
        return row[operand[1]], row[operand[1]]
    if operand[0] == "instant":
        return operand[1], operand[1]
    return end(operand[1], -math.inf), end(operand[2], math.inf)


def _insert(session, rows) -> dict[int, dict]:
    """``rows`` ({reported_at, deadline} in hours after :data:`BASE`; deadline None or not
    before) as incidents at a demo incident's place, by id."""
    ids = session.execute(text(
        "insert into incident (class_code, stage, description, location, reported_by, "
        "reported_at, deadline) select i.class_code, 'reported', 'temporal oracle', "
        "i.location, 'test', r, d from (select * from incident limit 1) i, "
        "unnest(cast(:r as timestamptz[]), cast(:d as timestamptz[])) as u(r, d) returning id"),
        {"r": [BASE + dt.timedelta(hours=r["reported_at"]) for r in rows],
         "d": [None if r["deadline"] is None else BASE + dt.timedelta(hours=r["deadline"])
               for r in rows]}).scalars().all()
    return dict(zip(ids, rows))


def _ids(session, raw, language=None) -> set[int]:
    found = queryables(session, INCIDENTS)
    condition, params = filter_sql(raw, language, found, geometry_sql="t.location",
                                   filter_crs=CRS84)
    return set(session.execute(text(f"select t.id from incident t where {condition}"),
                               params).scalars())


#: Incidents as periods that are well formed (a deadline not before the report) and known: a
#: NULL deadline (SQL's unknown) is the test below.
ROWS = st.lists(st.fixed_dictionaries({"reported_at": HOURS, "deadline": HOURS}),
                min_size=1, max_size=25).map(lambda rows: [
                    {**r, "deadline": max(r["deadline"], r["reported_at"])} for r in rows])


@settings(max_examples=150, deadline=None)
@given(a=OPERANDS, b=OPERANDS, rows=ROWS, negate=st.booleans())
def test_every_function_in_both_encodings_equals_the_oracle(engine, a, b, rows, negate):
    with rolled_back(engine) as session:
        inserted = _insert(session, rows)
        # rows where an interval with a property end and a literal one ends before it starts
        # (which the standard leaves undefined) are left out
        formed = {id_ for id_, row in inserted.items()
                  if all(p[0] <= p[1] for p in (_period(a, row), _period(b, row)))}
        for name, oracle in ORACLE.items():
            raw = f"{name}({_text(a)}, {_text(b)})"
            tree = {"op": name.lower(), "args": [_json(a), _json(b)]}
            if negate:
                raw, tree = f"NOT {raw}", {"op": "not", "args": [tree]}
            got_text = _ids(session, raw) & formed
            got_json = _ids(session, json.dumps(tree), "cql2-json") & formed
            want = {id_ for id_ in formed
                    if oracle(_period(a, inserted[id_]), _period(b, inserted[id_])) != negate}
            assert got_text == want == got_json, raw


def test_every_function_over_every_small_interval_equals_the_oracle(engine):
    """Exhaustive where the property test samples: every period with ends in hours 0…4 as a
    row, against every literal period (ends 0…4 or open) and instant; each Allen relation
    and each coincidence of ends occurs."""
    rows = [{"reported_at": r, "deadline": d} for r in range(5) for d in range(r, 5)]
    ends = [None, *range(5)]
    literals = [("instant", h) for h in range(5)] + [
        ("interval", s, e) for s in ends for e in ends
        if s is None or e is None or s <= e]
    with rolled_back(engine) as session:
        inserted = _insert(session, rows)
        for a in (("interval", "reported_at", "deadline"), ("property", "reported_at")):
            for b in literals:
                for name, oracle in ORACLE.items():
                    raw = f"{name}({_text(a)}, {_text(b)})"
                    tree = {"op": name.lower(), "args": [_json(a), _json(b)]}
                    want = {id_ for id_, row in inserted.items()
                            if oracle(_period(a, row), _period(b, row))}
                    assert _ids(session, raw) & set(inserted) == want, raw
                    assert _ids(session, json.dumps(tree), "cql2-json") & set(inserted) \
                        == want, raw


def test_the_standards_examples_and_case_of_names(engine):
    rows = [{"reported_at": 1, "deadline": 3}, {"reported_at": 3, "deadline": 5},
            {"reported_at": 5, "deadline": None}]
    with rolled_back(engine) as session:
        first, second, third = _insert(session, rows)

        def ids(raw, language=None):
            return _ids(session, raw, language) & {first, second, third}

        assert ids(f"T_AFTER(reported_at, TIMESTAMP('{_stamp(2)}'))") == {second, third}
        assert ids(f"t_before(reported_at, TIMESTAMP('{_stamp(3)}'))") == {first}
        assert ids(f"T_MEETS(INTERVAL(reported_at, deadline), INTERVAL('{_stamp(3)}', '..'))"
                   ) == {first}
        assert ids(f"T_INTERSECTS(INTERVAL(reported_at, '..'), TIMESTAMP('{_stamp(4)}'))"
                   ) == {first, second}
        assert ids(json.dumps({"op": "t_metBy", "args": [  # the JSON schema's camel case
            {"interval": [{"property": "reported_at"}, {"property": "deadline"}]},
            {"interval": ["..", _stamp(3)]}]}), "cql2-json") == {second}
        # dates with dates: literals only here (no dated queryable is a date)
        assert ids("T_DURING(DATE('2031-03-05'), INTERVAL('2031-03-01', '2031-03-31')) "
                   "AND T_DISJOINT(DATE('2031-03-05'), DATE('2031-03-06'))") \
            == {first, second, third}
        assert ids("T_EQUALS(DATE('2031-03-05'), INTERVAL('2031-03-05', '..'))") == set()
        # a NULL deadline is unknown: its row is in neither the answer nor its negation's
        before = f"T_BEFORE(INTERVAL(reported_at, deadline), TIMESTAMP('{_stamp(9)}'))"
        assert ids(before) == {first, second} and ids(f"NOT {before}") == set()


def test_a_quote_written_twice_is_one_quote(db):
    found = queryables(db, INCIDENTS)
    sql, params = filter_sql("description = 'O''Brien''s cat' OR description = ''''", None,
                             found, geometry_sql="t.location", filter_crs=CRS84)
    assert sorted(params.values()) == ["'", "O'Brien's cat"] and "Brien" not in sql


@pytest.mark.parametrize("raw, language, words", [
    ("T_AFTER(description, TIMESTAMP('2026-01-01T00:00:00Z'))", None,
     "description is string"),
    ("T_AFTER(id, TIMESTAMP('2026-01-01T00:00:00Z'))", None, "id is integer"),
    ("T_AFTER(reported_at, TIMESTAMP('2026-13-01T00:00:00Z'))", None, "is not a TIMESTAMP"),
    ("T_AFTER(reported_at, TIMESTAMP('2026-01-01'))", None, "is not a TIMESTAMP"),
    ("T_AFTER(reported_at, TIMESTAMP('yesterday'))", None, "is not a TIMESTAMP"),
    ("T_AFTER(reported_at, DATE('2026-02-30'))", None, "is not a DATE"),
    ("T_AFTER(reported_at, DATE('2026-01-01'))", None, "compares dates with timestamps"),
    ("T_AFTER(reported_at)", None, "T_AFTER takes 2 arguments; got 1"),
    ("T_DURING(reported_at, deadline, reported_at)", None, "T_DURING takes 2 arguments; got 3"),
    ("T_AFTER(reported_at, 3)", None, "compares instants"),
    ("T_AFTER(reported_at, INTERVAL(3, '..'))", None, "an INTERVAL end"),
    ("T_AFTER(reported_at, INTERVAL('2026-02-01', '2026-01-01'))", None,
     "ends before it starts"),
    ("T_AFTER(reported_at, TIMESTAMP('2026-01-01T00:00:00Z'); drop table incident)", None,
     "not valid cql2-text"),
    ("T_AFTER(reported_at, TIMESTAMP('2026-01-01T00:00:00Z'' or 1=1 --'))", None,
     "is not a TIMESTAMP"),
    ("T_AFTER(pg_sleep, TIMESTAMP('2026-01-01T00:00:00Z'))", None, "unknown property"),
    ("T_AFTER(geometry, TIMESTAMP('2026-01-01T00:00:00Z'))", None, "spatial predicate"),
    ('{"op": "t_after", "args": [{"property": "reported_at"}]}', "cql2-json",
     "T_AFTER takes 2 arguments; got 1"),
    ('{"op": "t_after", "args": [{"property": "stage"}, {"timestamp": "2026-01-01T00:00:00Z"}]}',
     "cql2-json", "stage is string"),
    ('{"op": "t_before", "args": [{"property": "reported_at"}, {"timestamp": "1 May"}]}',
     "cql2-json", "is not a TIMESTAMP"),
    ('{"op": "t_before", "args": [{"property": "reported_at"}, {"interval": ["2026-01-01"]}]}',
     "cql2-json", "list of 2 ends"),
    ('{"op": "t_before", "args": [{"property": "reported_at"}, {"interval": [1, ".."]}]}',
     "cql2-json", "an INTERVAL end"),
])
def test_bad_temporal_filters_are_400_naming_filter(db, raw, language, words):
    with pytest.raises(InvalidInput) as caught:
        _ids(db, raw, language)
    message = str(caught.value)
    assert caught.value.status == 400 and "filter" in message and words in message, message


def test_through_the_items_request(ogc, database_url):
    from gridmap.db import session_scope

    assert "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions" in ogc.get(
        "/ogcapi/conformance").get_json()["conformsTo"]

    with session_scope(database_url) as session:
        middle = session.execute(text(
            "select percentile_disc(0.5) within group (order by reported_at) from incident")
        ).scalar()
        want = set(session.execute(text("select id from incident where reported_at > :t"),
                                   {"t": middle}).scalars())
    stamp = middle.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    page = ogc.get(items_url("incidents", filter=f"T_AFTER(reported_at, TIMESTAMP('{stamp}'))",
                             limit="1000"))
    assert page.status_code == 200, page.get_data(True)
    assert {f["id"] for f in page.get_json()["features"]} == want and want
    bad = ogc.get(items_url("incidents", filter="T_AFTER(stage, TIMESTAMP('x'))"))
    assert bad.status_code == 400 and set(bad.get_json()) == {"error", "detail"}
    assert "filter" in bad.get_json()["detail"]
