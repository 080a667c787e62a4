"""gridmap.routing.tsp: closed tours over a distance matrix — invariants and an exact oracle."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridmap.routing.tsp import EXACT_UP_TO, nearest_neighbour, order_stops, tour_length


def random_matrix(seed: int, n: int, *, asymmetric: bool = False, grid: bool = False):
    """Distances between ``n`` random places: straight lines, or Manhattan on a coarse grid
    (many ties, as between lamps along one street), optionally made one-way unequal."""
    rng = np.random.default_rng(seed)
    if grid:
        xy = rng.integers(0, 6, (n, 2)) * 50.0
        matrix = np.abs(xy[:, None] - xy[None]).sum(axis=2)
    else:
        xy = rng.uniform(0, 2000, (n, 2))
        matrix = np.linalg.norm(xy[:, None] - xy[None], axis=2)
    if asymmetric:
        matrix = matrix * rng.uniform(1.0, 1.6, (n, n))
        np.fill_diagonal(matrix, 0)
    return matrix


def brute_force(matrix: np.ndarray, start: int) -> float:
    """Length of the shortest closed tour from ``start``, every tour enumerated."""
    others = [i for i in range(len(matrix)) if i != start]
    if not others:
        return 0.0
    perms = np.array(list(itertools.permutations(others)), dtype=np.intp).reshape(-1, len(others))
    ends = np.full((len(perms), 1), start)
    tours = np.hstack([ends, perms, ends])
    return float(matrix[tours[:, :-1], tours[:, 1:]].sum(axis=1).min())


instances = st.builds(
    lambda seed, n, asym, grid, start: (random_matrix(seed, n, asymmetric=asym, grid=grid),
                                        start % n),
    st.integers(0, 2**32 - 1), st.integers(1, 60), st.booleans(), st.booleans(),
    st.integers(0, 10**6))


@settings(max_examples=60, deadline=None)
@given(instances, st.integers(1, 1000))
def test_tour_visits_every_stop_once_from_and_back_to_the_station(instance, seed):
    matrix, start = instance
    tour = order_stops(matrix, start=start, seed=seed)
    n = len(matrix)
    assert tour.order[0] == tour.order[-1] == start
    assert len(tour.order) == n + 1
    assert sorted(tour.order[:-1].tolist()) == list(range(n))
    assert tour.length == pytest.approx(matrix[tour.order[:-1], tour.order[1:]].sum(), rel=1e-12)
    assert tour.length == pytest.approx(tour_length(matrix, tour.order), rel=1e-12)
    assert tour.length <= tour_length(matrix, nearest_neighbour(matrix, start)) + 1e-9
    again = order_stops(matrix, start=start, seed=seed)
    assert np.array_equal(again.order, tour.order) and again.method == tour.method


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(EXACT_UP_TO + 1, 10), st.booleans(),
       st.booleans(), st.integers(0, 9))
def test_lkh3_finds_the_optimum_of_up_to_nine_stops(seed, n, asymmetric, grid, start):
    """Above EXACT_UP_TO places LKH-3 orders them: it must still find the brute-force optimum."""
    matrix = random_matrix(seed, n, asymmetric=asymmetric, grid=grid)
    tour = order_stops(matrix, start=start % n)
    assert tour.method != "exact"
    assert tour.length == pytest.approx(brute_force(matrix, start % n), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("n", range(1, EXACT_UP_TO + 1))
def test_small_instances_are_solved_exactly(n):
    matrix = random_matrix(n, n, asymmetric=True)
    tour = order_stops(matrix, start=n - 1)
    assert tour.method == "exact"
    assert tour.length == pytest.approx(brute_force(matrix, n - 1), rel=1e-12)


def test_a_known_tour_on_a_street_is_found():
    """Stops along one street, station in the middle: out to one end, back past the station
    to the other end and back — twice the street's length, whatever the order of the rows."""
    positions = np.array([500.0, 0, 1000, 250, 900, 100, 700, 350, 650, 820, 40, 980])
    matrix = np.abs(positions[:, None] - positions[None])
    tour = order_stops(matrix)
    assert tour.length == pytest.approx(2000.0)
    assert tour.method == "lkh3"


def test_a_different_seed_still_gives_a_valid_tour():
    matrix = random_matrix(3, 120)
    a, b = order_stops(matrix, seed=1), order_stops(matrix, seed=2)
    assert sorted(b.order[:-1].tolist()) == list(range(120))
    assert abs(a.length - b.length) <= 0.01 * a.length


@pytest.mark.parametrize("matrix, kwargs, message", [
    (np.zeros((3, 4)), {}, "square"),
    (np.zeros((0, 0)), {}, "square"),
    (np.array([[0, 1], [np.inf, 0]]), {}, "finite"),
    (np.array([[0, -1], [1, 0]]), {}, "non-negative"),
    (np.zeros((3, 3)), {"start": 3}, "start"),
    (np.zeros((3, 3)), {"time_budget": 0}, "time_budget"),
    (np.zeros((3, 3)), {"seed": 0}, "seed"),
])
def test_bad_input_is_refused(matrix, kwargs, message):
    with pytest.raises(ValueError, match=message):
        order_stops(matrix, **kwargs)


def test_all_places_at_one_point():
    tour = order_stops(np.zeros((20, 20)))
    assert tour.length == 0 and sorted(tour.order[:-1].tolist()) == list(range(20))

