"""Plan a grid worker's visits over several days: every stop by its due day, every day within
its length, each day's stops close together, and yesterday's plan kept where it still holds.

The planner works on a walking-time matrix (seconds; index 0 is the community service station,
where every day starts and ends) and knows nothing of streets or tables: the caller says what
is due (:class:`Due`) and gets back the days (:class:`DayPlan`) and what did not fit.

How: the previous plan's visits are put back first, each on its day in that day's order while
the day has room (a recurring stop on each of its days), so a small change today moves little
else in the week (only what a new stop due today pushes out of today). The other stops are
taken by due day, most urgent first (overdue ones are due today). Each goes to the day, among
today and the days before it is due, where inserting it lengthens that day's walk least and
the day still fits (cheapest insertion); a stop that fits no day by its due day first moves out
stops that can wait, else goes to the first day after it with room, and is reported late; one
that fits nowhere in the horizon is reported unplanned.
A stop due every few days (a facility inspected daily) comes back within the horizon: its next
visit is due that many days after the one planned. A day that ends with the previous plan's
stops (all or some, none added) keeps the order they were walked in; any other day's order is
improved by ``order`` (the tour engine) and kept when shorter.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

#: ``order(matrix)``: a visiting order of a day's stops, a permutation of ``range(len(matrix))``
#: starting with 0 (the station), for a closed tour back to 0.
Order = Callable[[np.ndarray], Sequence[int]]


@dataclass(frozen=True)
class Due:
    """Something to visit.

    Attributes
    ----------
    key
        Names the stop (``building:12``, ``facility:4201110104000123``, ``incident:88``).
    node
        Its row in the matrix (≥ 1; 0 is the station).
    service_s
        Time spent there (seconds).
    due_day
        The last day it may be visited on, counted from the first day planned (0); below 0
        when already overdue.
    every_days
        For a recurring visit, the days between two visits (its next one is due that long
        after this one); None for a one-off visit.
    """

    key: str
    node: int
    service_s: float
    due_day: int
    every_days: int | None = None


@dataclass
class DayPlan:
    """One day: the stops in visiting order (keys; the station is implied at both ends), the
    matrix nodes in that order, and the times (seconds)."""

    day: int
    keys: list[str] = field(default_factory=list)
    nodes: list[int] = field(default_factory=list)
    walk_s: float = 0.0
    service_s: float = 0.0

    @property
    def total_s(self) -> float:
        return self.walk_s + self.service_s


@dataclass(frozen=True)
class Visit:
    """Where a stop went: its day, and whether that is after the day it was due."""

    key: str
    day: int
    due_day: int

    @property
    def late(self) -> bool:
        return self.day > max(self.due_day, 0)


@dataclass
class PeriodicPlan:
    """The days planned, every visit placed (a recurring stop may have several), and the
    stops that fit no day of the horizon."""

    days: list[DayPlan]
    visits: list[Visit]
    unplanned: list[str]

    @property
    def late(self) -> list[Visit]:
        return [v for v in self.visits if v.late]


class _Day:
    """A day under construction: a closed tour through the station (node 0); each stop on it
    with the day it is due (a recurring stop's visit is due by its own interval)."""

    def __init__(self, index: int, matrix: np.ndarray, length: float) -> None:
        self.index = index
        self.matrix = matrix
        self.length = length
        self.tour = [0, 0]
        self.stops: list[tuple[Due, int] | None] = [None, None]
        self.walk = 0.0
        self.service = 0.0
        self.rebuilt = True  # only the previous plan's stops, in its order, so far

    def insertion(self, node: int) -> tuple[float, int]:
        """The least extra walk of visiting ``node`` and where (the position to insert at)."""
        tour = np.asarray(self.tour)
        before, after = tour[:-1], tour[1:]
        extra = self.matrix[before, node] + self.matrix[node, after] - self.matrix[before, after]
        at = int(np.argmin(extra))
        return float(extra[at]), at + 1

    def room(self, extra: float, service: float) -> bool:
        return self.walk + self.service + extra + service <= self.length + 1e-6

    def insert(self, stop: Due, due_day: int, extra: float, at: int) -> None:
        self.rebuilt = False
        self.tour.insert(at, stop.node)
        self.stops.insert(at, (stop, due_day))
        self.walk += extra
        self.service += stop.service_s

    def append(self, stop: Due, due_day: int) -> bool:
        """Visit ``stop`` last (rebuilding a day of the previous plan in its order), if the
        day has room."""
        last = self.tour[-2]
        extra = (self.matrix[last, stop.node] + self.matrix[stop.node, 0]
                 - self.matrix[last, 0])
        if not self.room(extra, stop.service_s):
            return False
        rebuilt = self.rebuilt
        self.insert(stop, due_day, float(extra), len(self.tour) - 1)
        self.rebuilt = rebuilt
        return True

    def evictable(self, before: int) -> int | None:
        """The position of the one-off stop with the most slack (due latest, and later than
        day ``before``; of those the one freeing most time); None when there is none. A stop
        only ever gives way to one due earlier, so evictions end."""
        best = None
        for at in range(1, len(self.tour) - 1):
            stop, due_day = self.stops[at]
            if stop.every_days is not None or due_day <= max(self.index, before):
                continue
            a, v, b = self.tour[at - 1], self.tour[at], self.tour[at + 1]
            freed = self.matrix[a, v] + self.matrix[v, b] - self.matrix[a, b] + stop.service_s
            if best is None or (due_day, freed) > best[0]:
                best = ((due_day, freed), at)
        return None if best is None else best[1]

    def snapshot(self) -> tuple:
        return list(self.tour), list(self.stops), self.walk, self.service, self.rebuilt

    def restore(self, state: tuple) -> None:
        tour, stops, self.walk, self.service, self.rebuilt = state
        self.tour, self.stops = list(tour), list(stops)

    def remove(self, at: int) -> tuple[Due, int]:
        self.rebuilt = False
        a, v, b = self.tour[at - 1], self.tour[at], self.tour[at + 1]
        self.walk -= float(self.matrix[a, v] + self.matrix[v, b] - self.matrix[a, b])
        stop, due_day = self.stops.pop(at)
        self.tour.pop(at)
        self.service -= stop.service_s
        return stop, due_day


def plan_days(matrix: np.ndarray, due: Sequence[Due], *, days: int, day_length_s: float,
              previous: Mapping[str, int] | Sequence[Sequence[str]] | None = None,
              order: Order | None = None) -> PeriodicPlan:
    """Spread ``due`` over ``days`` days of at most ``day_length_s`` each (walk + service).

    Parameters
    ----------
    matrix
        Walking times in seconds between every pair of nodes (square; finite where routable;
        row and column 0 the station). Stops the caller found unreachable are not passed.
    due
        What to visit; a stop due after the horizon's last day is left for a later plan.
    previous
        The plan made before, in the same day numbering: its days' stop keys in visiting order
        (a recurring stop on each day it was visited), or for each stop the day it had. Each
        of its visits is kept on its day while the day has room, in that order; a day that
        ends with the same stops, or only some of them, keeps the order it was walked in.
    order
        The tour engine that improves each day's order (see :data:`Order`); None keeps the
        insertion order.

    Returns
    -------
    PeriodicPlan
        Every stop due within the horizon placed on time, late, or listed as unplanned.
    """
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"matrix must be square, got shape {matrix.shape}")
    if days < 1 or day_length_s <= 0:
        raise ValueError("days must be ≥ 1 and day_length_s > 0")
    for stop in due:
        if not 1 <= stop.node < len(matrix):
            raise ValueError(f"stop {stop.key}: node {stop.node} outside 1…{len(matrix) - 1}")
    plan = [_Day(d, matrix, day_length_s) for d in range(days)]
    placed: dict[int, int] = {}  # id of a (stop, occurrence) → its day
    unplanned: list[str] = []
    wanted = {s.key: s for s in due if s.due_day < days}
    last_kept: dict[str, int] = {}  # a stop kept from the previous plan → its last day kept
    for index, keys in enumerate(_previous_days(previous, days)):
        for key in keys:
            stop, last = wanted.get(key), last_kept.get(key)
            if stop is None or (last is not None and (not stop.every_days or last >= index)):
                continue
            due_by = max(stop.due_day, 0) if last is None else last + stop.every_days
            if plan[index].append(stop, due_by):  # late there before: late there still
                last_kept[key] = index
    # stops due the same day are taken along one walk through them all, so that consecutive
    # ones (which tend to share a day) lie close together
    rank = _walk_order(matrix, [s.node for s in wanted.values()])
    queue = [(max(s.due_day, 0), rank[n], 0, s) for n, s in enumerate(wanted.values())
             if s.key not in last_kept]
    arrival = len(queue)
    for key, last in last_kept.items():  # the next visits of recurring stops kept
        stop = wanted[key]
        if stop.every_days and last + stop.every_days < days:
            arrival += 1
            queue.append((last + stop.every_days, arrival, last + 1, stop))
    heapq.heapify(queue)
    while queue:
        due_day, _, earliest, stop = heapq.heappop(queue)
        day, evicted = _place(plan, stop, earliest, due_day)
        for moved, moved_due in evicted:  # back to wait for a day of their own
            arrival += 1
            heapq.heappush(queue, (moved_due, arrival, 0, moved))
        if day is None:
            unplanned.append(stop.key)
        elif stop.every_days and day + stop.every_days < days:
            arrival += 1
            heapq.heappush(queue, (day + stop.every_days, arrival, day + 1, stop))
    visits = [Visit(entry[0].key, day.index, entry[1] if entry[0].every_days else
                    entry[0].due_day) for day in plan for entry in day.stops[1:-1]]
    before = _previous_days(previous, days)
    return PeriodicPlan([_finish(d, order, before[d.index] if d.index < len(before) else [])
                         for d in plan], visits, unplanned)


def _previous_days(previous: Mapping[str, int] | Sequence[Sequence[str]] | None,
                   days: int) -> list[list[str]]:
    """The previous plan as day lists (keys in visiting order), days 0…days-1."""
    if previous is None:
        return []
    if isinstance(previous, Mapping):
        out: list[list[str]] = [[] for _ in range(days)]
        for key, day in previous.items():
            if 0 <= day < days:
                out[day].append(key)
        return out
    return [list(keys) for keys in list(previous)[:days]]


def _walk_order(matrix: np.ndarray, nodes: list[int]) -> list[int]:
    """The rank of each of ``nodes`` along a nearest-neighbour walk from the station."""
    rank = [0] * len(nodes)
    if not nodes:
        return rank
    sub = matrix[np.ix_(nodes, nodes)].copy()
    np.fill_diagonal(sub, np.inf)
    here = int(np.argmin(matrix[0, nodes]))
    for step in range(len(nodes)):
        rank[here] = step
        sub[:, here] = np.inf
        here = int(np.argmin(sub[here]))
    return rank


def _place(plan: list[_Day], stop: Due, earliest: int,
           due_day: int) -> tuple[int | None, list[tuple[Due, int]]]:
    """Insert ``stop`` into the best day from ``earliest`` on; the day (None when none has
    room) and the stops moved out to make room on time (they are to be placed again)."""
    best = None
    for day in plan[earliest:due_day + 1]:
        extra, at = day.insertion(stop.node)
        if day.room(extra, stop.service_s) and (best is None or extra < best[0]):
            best = (extra, at, day)
    evicted: list[tuple[Due, int]] = []
    if best is None:  # make room on time: move out stops that can wait, the latest due first
        for day in plan[earliest:due_day + 1]:
            state = day.snapshot()
            while True:
                extra, at = day.insertion(stop.node)
                if day.room(extra, stop.service_s):
                    best = (extra, at, day)
                    break
                victim = day.evictable(due_day)
                if victim is None:
                    break
                evicted.append(day.remove(victim))
            if best is not None:
                break
            day.restore(state)
            evicted = []
    if best is None:  # late: the first day after with room
        for day in plan[due_day + 1:]:
            extra, at = day.insertion(stop.node)
            if day.room(extra, stop.service_s):
                best = (extra, at, day)
                break
    if best is None:
        return None, evicted
    best[2].insert(stop, due_day, best[0], best[1])
    return best[2].index, evicted


def tour_walk(matrix: np.ndarray, nodes: Sequence[int]) -> float:
    """The walk of the closed tour station → ``nodes`` → station."""
    path = [0, *nodes, 0]
    return float(sum(matrix[a, b] for a, b in zip(path, path[1:])))


def _finish(day: _Day, order: Order | None, before: Sequence[str]) -> DayPlan:
    """The day in its walking order: as the previous plan walked it when it holds the same
    stops (or only some of them, none added), else improved by ``order``."""
    nodes = day.tour[1:-1]
    keys = [entry[0].key for entry in day.stops[1:-1]]
    if keys and sorted(keys) == sorted(before) and keys != list(before):
        position = {key: n for n, key in enumerate(before)}
        pairs = sorted(zip(keys, nodes), key=lambda pair: position[pair[0]])
        keys, nodes = [k for k, _ in pairs], [n for _, n in pairs]
        return DayPlan(day.index, keys, nodes, tour_walk(day.matrix, nodes), day.service)
    walk = tour_walk(day.matrix, nodes)
    if order is not None and len(nodes) > 2 and not day.rebuilt:
        sub = day.matrix[np.ix_([0, *nodes], [0, *nodes])]
        ordered = list(order(sub))
        if sorted(ordered) != list(range(len(sub))) or ordered[0] != 0:
            raise ValueError("order must return a permutation of the day's stops from 0")
        candidate = [nodes[i - 1] for i in ordered[1:]]
        shorter = tour_walk(day.matrix, candidate)
        if shorter < walk:
            keys = [keys[i - 1] for i in ordered[1:]]
            nodes, walk = candidate, shorter
    return DayPlan(day.index, keys, nodes, walk, day.service)
