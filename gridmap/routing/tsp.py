"""The order of the day's stops: a closed walking tour from the station and back (issue 10).

:func:`order_stops` takes the walking distance matrix of the station (row 0 by default) and the
stops and returns the shortest tour it finds. Up to :data:`EXACT_UP_TO` places it enumerates
every tour; above, it runs LKH-3 (Helsgaun's Lin–Kernighan heuristic, the ``elkai`` package)
with parameters chosen on ``bench/route_order.py``: one run of at most ``max(n, 50)`` trials of
3-opt sequential moves over POPMUSIC candidate sets (for an asymmetric matrix, LKH-3's own
5-opt moves over alpha-nearness candidates). On the bench's instances (Helsinki's walking
network and a generated street grid, 50 and 200 stops) this found the best tour of every method
(OR-Tools at 30 s, LKH-3 with its default 10 runs, pyvroom, pgr_TSP) in 0.01–0.3 s of CPU,
where LKH-3's defaults took 2–7 s for one run and 16–20 s for ten.

The matrix may be asymmetric (LKH-3 then solves it as an ATSP); walking matrices are symmetric.
The result is deterministic for a given ``seed`` unless ``time_budget`` cuts the search short.
It is never longer than the nearest-neighbour tour from the station.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

__all__ = ["EXACT_UP_TO", "Tour", "nearest_neighbour", "order_stops", "tour_length"]

EXACT_UP_TO = 8
"""Places (station included) up to which every tour is enumerated: 7! = 5,040 tours."""

_SCALE = 1_000_000
"""LKH-3 works on integers: distances are scaled so that the longest is this many units (LKH-3
multiplies them by its PRECISION, 100, and must stay below 2**31)."""


@dataclass(frozen=True)
class Tour:
    """A closed tour over the places of a distance matrix.

    Attributes
    ----------
    order : numpy.ndarray
        Indices into the matrix in visiting order, starting and ending at the station:
        ``order[0] == order[-1] == start``; every other place appears exactly once.
    length : float
        Sum of the matrix entries along ``order`` (the matrix's unit, metres for walking).
    method : str
        What found it: ``"exact"``, ``"lkh3"`` or ``"nearest-neighbour"`` (when LKH-3's tour
        was not shorter).
    """

    order: np.ndarray
    length: float
    method: str


def tour_length(matrix: np.ndarray, order: np.ndarray) -> float:
    """Sum of ``matrix[order[i], order[i + 1]]`` along ``order`` (closed if it ends where it
    starts)."""
    order = np.asarray(order)
    return float(matrix[order[:-1], order[1:]].sum())


def nearest_neighbour(matrix: np.ndarray, start: int = 0) -> np.ndarray:
    """The closed tour that always walks to the nearest place not yet visited."""
    n = len(matrix)
    seen = np.zeros(n, dtype=bool)
    order = np.empty(n + 1, dtype=np.intp)
    order[0] = order[n] = here = start
    seen[start] = True
    for i in range(1, n):
        here = int(np.argmin(np.where(seen, np.inf, matrix[here])))
        seen[here] = True
        order[i] = here
    return order


def order_stops(matrix: np.ndarray, *, start: int = 0, time_budget: float = 1.0,
                seed: int = 1) -> Tour:
    """The shortest closed tour found from ``start`` through every other place and back.

    Parameters
    ----------
    matrix : numpy.ndarray
        Square matrix of finite, non-negative distances; ``matrix[i, j]`` is from ``i`` to
        ``j``. Unreachable stops must be left out before (they have no finite distance).
    start : int
        Row of the station.
    time_budget : float
        Seconds of CPU LKH-3 may search after its preparation (about 0.05 s for 200 stops).
        The default is never reached below ~400 stops on this project's bench; when it is,
        the tour depends on the machine's speed.
    seed : int
        Seed of LKH-3's random choices (a positive integer).

    Returns
    -------
    Tour

    Raises
    ------
    ValueError
        If the matrix is not square, has a negative or non-finite entry, or ``start``,
        ``time_budget`` or ``seed`` is out of range.
    """
    matrix = np.asarray(matrix, dtype=float)
    n = _check(matrix, start, time_budget, seed)
    if n <= EXACT_UP_TO:
        order = _exact(matrix, start)
        return Tour(order, tour_length(matrix, order), "exact")
    greedy = nearest_neighbour(matrix, start)
    order = _lkh3(matrix, start, time_budget, seed)
    best = min((tour_length(matrix, o), k, o, m) for k, (o, m) in enumerate(
        [(order, "lkh3"), (order[::-1].copy(), "lkh3"), (greedy, "nearest-neighbour")]))
    return Tour(best[2], best[0], best[3])


def _check(matrix: np.ndarray, start: int, time_budget: float, seed: int) -> int:
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or not matrix.shape[0]:
        raise ValueError(f"the distance matrix must be square and not empty, not {matrix.shape}")
    if not np.isfinite(matrix).all() or (matrix < 0).any():
        raise ValueError("the distance matrix must be finite and non-negative")
    n = matrix.shape[0]
    if not 0 <= start < n:
        raise ValueError(f"start {start} is not a row of a {n}-place matrix")
    if not time_budget > 0:
        raise ValueError(f"time_budget must be positive, not {time_budget}")
    if not 1 <= seed < 2**31:
        raise ValueError(f"seed must be between 1 and 2**31 - 1, not {seed}")
    return n


def _exact(matrix: np.ndarray, start: int) -> np.ndarray:
    """Every tour from ``start`` enumerated at once; the first shortest one."""
    others = np.array([i for i in range(len(matrix)) if i != start], dtype=np.intp)
    if not len(others):
        return np.array([start, start], dtype=np.intp)
    perms = others[np.array(list(itertools.permutations(range(len(others)))), dtype=np.intp)]
    ends = np.full((len(perms), 1), start, dtype=np.intp)
    tours = np.hstack([ends, perms, ends])
    lengths = matrix[tours[:, :-1], tours[:, 1:]].sum(axis=1)
    return tours[int(np.argmin(lengths))]


def _lkh3(matrix: np.ndarray, start: int, time_budget: float, seed: int) -> np.ndarray:
    """LKH-3's tour (through elkai's problem-file entry point), rotated to start at ``start``."""
    from elkai import _elkai  # the only entry point that takes LKH-3's parameters

    n = len(matrix)
    top = matrix.max()
    # Dijkstra's i→j and j→i may differ in the last bits: that is still a symmetric problem
    symmetric = np.allclose(matrix, matrix.T, rtol=1e-9, atol=1e-9 * top)
    if symmetric:
        matrix = (matrix + matrix.T) / 2
    weights = np.rint(matrix * (_SCALE / top)).astype(np.int64) if top > 0 else \
        np.zeros((n, n), dtype=np.int64)
    # POPMUSIC candidates are for symmetric problems only: an ATSP keeps LKH-3's alpha-nearness
    # and its default 5-opt moves (3-opt missed the optimum of 1 in 80 asymmetric 10-place tests)
    move = 3 if symmetric else 5
    params = (f"PROBLEM_FILE = :stdin:\nRUNS = 1\nMAX_TRIALS = {max(n, 50)}\nMOVE_TYPE = {move}\n"
              f"SEED = {seed}\nTIME_LIMIT = {time_budget:g}\n"
              + ("CANDIDATE_SET_TYPE = POPMUSIC\n" if symmetric else ""))
    rows = "\n".join(" ".join(map(str, row)) for row in weights.tolist())
    problem = (f"TYPE : {'TSP' if symmetric else 'ATSP'}\nDIMENSION : {n}\n"
               "EDGE_WEIGHT_TYPE : EXPLICIT\nEDGE_WEIGHT_FORMAT : FULL_MATRIX\n"
               f"EDGE_WEIGHT_SECTION\n{rows}\nEOF\n")
    cycle = np.asarray(_elkai.solve_problem(params, problem), dtype=np.intp) - 1
    if sorted(cycle.tolist()) != list(range(n)):
        raise RuntimeError(f"LKH-3 returned a tour that is not a permutation of {n} places")
    at = int(np.flatnonzero(cycle == start)[0])
    return np.concatenate([np.roll(cycle, -at), [start]])
