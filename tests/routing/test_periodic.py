"""The periodic planner on random walking-time matrices (points in a plane, walked at a
constant speed): every stop due in the horizon placed once (a recurring one again within its
interval), every day within its length, times that add up, nothing late when everything fits,
and a plan that stays put when one stop is added."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridmap.routing.periodic import Due, plan_days, tour_walk

SPEED = 1.2  # m/s


def _matrix(points: np.ndarray) -> np.ndarray:
    return np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1)) / SPEED


@st.composite
def problems(draw):
    n = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 800, size=(n + 1, 2))
    due = [Due(f"s{i}", i, float(rng.integers(60, 600)), int(rng.integers(-2, 10)),
               int(rng.integers(1, 4)) if rng.random() < 0.2 else None)
           for i in range(1, n + 1)]
    days = draw(st.integers(1, 7))
    length = draw(st.sampled_from([1800.0, 3600.0, 4 * 3600.0]))
    return _matrix(points), due, days, length


def _brute_force(matrix: np.ndarray) -> list[int]:
    n = len(matrix)
    if n > 8:
        return list(range(n))
    best = min(itertools.permutations(range(1, n)),
               key=lambda p: tour_walk(matrix, list(p)))
    return [0, *best]


@settings(max_examples=150, deadline=None)
@given(problems())
def test_every_stop_due_is_placed_once_and_every_day_fits(problem):
    matrix, due, days, length = problem
    plan = plan_days(matrix, due, days=days, day_length_s=length)
    by_key = {s.key: s for s in due}
    placed = [v.key for v in plan.visits]
    in_days = [k for day in plan.days for k in day.keys]
    assert sorted(placed) == sorted(in_days)
    for stop in due:
        visits = sorted(v.day for v in plan.visits if v.key == stop.key)
        if stop.due_day >= days:
            assert visits == [] and stop.key not in plan.unplanned
        elif stop.every_days is None:
            assert len(visits) + plan.unplanned.count(stop.key) == 1
        else:  # again within its interval, unless that is late
            assert visits or stop.key in plan.unplanned
            for a, b in zip(visits, visits[1:]):
                late = any(v.late for v in plan.visits if v.key == stop.key and v.day == b)
                assert b - a <= stop.every_days or late
    for day in plan.days:
        assert day.total_s <= length + 1e-6
        assert day.walk_s == pytest.approx(tour_walk(matrix, day.nodes))
        assert day.service_s == pytest.approx(sum(by_key[k].service_s for k in day.keys))
        assert [by_key[k].node for k in day.keys] == day.nodes
        assert len(set(day.keys)) == len(day.keys)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 25), st.integers(0, 2**31 - 1), st.integers(1, 7))
def test_nothing_is_late_when_every_stop_fits_on_its_day(n, seed, days):
    rng = np.random.default_rng(seed)
    matrix = _matrix(rng.uniform(0, 500, size=(n + 1, 2)))
    due = [Due(f"s{i}", i, 120.0, int(rng.integers(0, days))) for i in range(1, n + 1)]
    # room for every stop on any day, walked separately out and back
    length = sum(s.service_s + 2 * matrix[0, s.node] for s in due) + 1
    plan = plan_days(matrix, due, days=days, day_length_s=length)
    assert plan.unplanned == [] and plan.late == []
    assert all(v.day <= v.due_day for v in plan.visits)


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 30), st.integers(0, 2**31 - 1))
def test_the_tour_engine_only_ever_shortens_a_day(n, seed):
    rng = np.random.default_rng(seed)
    matrix = _matrix(rng.uniform(0, 600, size=(n + 1, 2)))
    due = [Due(f"s{i}", i, 60.0, int(rng.integers(0, 3))) for i in range(1, n + 1)]
    plain = plan_days(matrix, due, days=3, day_length_s=3 * 3600)
    better = plan_days(matrix, due, days=3, day_length_s=3 * 3600, order=_brute_force)
    for a, b in zip(plain.days, better.days):
        assert sorted(a.keys) == sorted(b.keys) and b.walk_s <= a.walk_s + 1e-9


def test_a_stop_added_today_moves_little_else():
    rng = np.random.default_rng(7)
    matrix = _matrix(rng.uniform(0, 1500, size=(302, 2)))
    due = [Due(f"b{i}", i, 120.0, 6) for i in range(1, 301)]
    first = plan_days(matrix, due, days=7, day_length_s=4 * 3600)
    assert first.unplanned == [] and first.late == []
    previous = {k: d.day for d in first.days for k in d.keys}  # in visiting order
    again = plan_days(matrix, [*due, Due("incident:1", 301, 600.0, 0)], days=7,
                      day_length_s=4 * 3600, previous=previous)
    moved = [v.key for v in again.visits if v.key in previous and previous[v.key] != v.day]
    assert {v.key: v.day for v in again.visits}["incident:1"] == 0
    # only what today's extra stop (10 min) pushes out of today moves: a few 2-min visits
    assert all(previous[k] == 0 for k in moved) and len(moved) <= 10, moved


def test_overdue_stops_come_first_and_the_rest_waits():
    matrix = _matrix(np.array([[0, 0], [100, 0], [200, 0], [300, 0]], dtype=float))
    due = [Due("later", 1, 1000.0, 3), Due("overdue", 2, 1000.0, -4), Due("today", 3, 1000.0, 0)]
    plan = plan_days(matrix, due, days=2, day_length_s=2200.0)
    days = {v.key: v.day for v in plan.visits}
    assert days["overdue"] == 0 and days["today"] == 1 and "later" not in days
    assert [v.key for v in plan.late] == ["today"]
    assert plan.unplanned == []


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="square"):
        plan_days(np.zeros((2, 3)), [], days=1, day_length_s=10)
    with pytest.raises(ValueError, match="node 5"):
        plan_days(np.zeros((3, 3)), [Due("x", 5, 1, 0)], days=1, day_length_s=10)


def _reverse_order(matrix):
    """A stand-in tour engine that changes any order it is given (so a day that is ordered
    again shows it)."""
    return [0, *range(len(matrix) - 1, 0, -1)]


@settings(max_examples=100, deadline=None)
@given(problems())
def test_replanning_with_nothing_changed_keeps_every_day_as_it_was(problem):
    """With the previous plan's days (a recurring stop on each of its days) and nothing new,
    the plan comes back identical: same stops on the same days in the same order, even with a
    tour engine that would reorder them."""
    matrix, due, days, length = problem
    first = plan_days(matrix, due, days=days, day_length_s=length, order=_reverse_order)
    again = plan_days(matrix, due, days=days, day_length_s=length, order=_reverse_order,
                      previous=[d.keys for d in first.days])
    assert [d.keys for d in again.days] == [d.keys for d in first.days]
    assert sorted((v.key, v.day) for v in again.visits) == \
        sorted((v.key, v.day) for v in first.visits)
