"""A grid's inspection route: what is due (:mod:`.due`) planned over the coming days on the
district's walking network (:mod:`gridmap.routing`), from and back to the community's service
station.

Every plan starts today (in the ``timezone`` setting) and looks ``route_plan_days`` ahead (or
as far as asked): a later day's route is that day of today's plan. Today's plan is kept
(``route_plan``) and the next plan starts from it, so a small change today moves little else
in the week (:func:`gridmap.routing.periodic.plan_days`). What was visited today stays on
today's route, first and marked done; the rest of the day follows in its walking order.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Mapping
from zoneinfo import ZoneInfo

import numpy as np
from shapely import LineString
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.audit import current_actor
from gridmap.auth.scope import Scope
from gridmap.errors import Conflict, InvalidInput, NotFound
from gridmap.geo import STORAGE_SRID, transformer
from gridmap.i18n import msg
from gridmap.inspection.due import Item, due_items
from gridmap.inspection.stations import Station, get_station
from gridmap.locks import lock_grid_routes
from gridmap.routing import distance_matrix, load_graph, snap, stop_problems, tour_paths
from gridmap.routing.periodic import Due, PeriodicPlan, plan_days
from gridmap.routing.tsp import order_stops

MAX_DAYS = 31
MAX_LEAD_DAYS = 366
SERVICE_SETTINGS = {"building": "route_building_visit_s", "facility": "route_facility_visit_s",
                    "incident": "route_incident_visit_s"}


@dataclass(frozen=True)
class RouteStop:
    """A stop of a day's route, in visiting order (``seq`` from 1)."""

    seq: int
    item: Item
    arrival: dt.datetime
    service_s: float
    leg_m: float
    due_on: dt.date
    late: bool
    done_at: dt.datetime | None


@dataclass
class RouteDay:
    """One day: its stops, the walk (metres and seconds, back to the station included), the
    time at stops, and the path along the streets (EPSG:4490; None on a day with no stop)."""

    date: dt.date
    stops: list[RouteStop] = field(default_factory=list)
    walk_m: float = 0.0
    walk_s: float = 0.0
    service_s: float = 0.0
    path: LineString | None = None

    @property
    def total_s(self) -> float:
        return self.walk_s + self.service_s


@dataclass(frozen=True)
class Problem:
    """A stop left out of every route, and why (``far`` from the streets, ``unreachable``
    from the station)."""

    item: Item
    reason: str
    distance_m: float


@dataclass
class Route:
    """The days asked for of a grid's plan, what did not fit the plan's days, and the stops
    that cannot be routed."""

    grid: str
    community: str
    district: str
    station: Station
    speed_mps: float
    days: list[RouteDay]
    unplanned: list[Item]
    problems: list[Problem]
    planned_days: int


@dataclass(frozen=True)
class _Grid:
    id: int
    code: str
    community: str
    street: str
    district: str


def current_grid(session: Session, scope: Scope, code: str) -> _Grid:
    """The current grid ``code`` if the caller reaches it (else 404)."""
    row = session.execute(text("""
        select id, code, community_code, street_code, district_code from grid
        where code = :code and valid_to is null"""), {"code": code}).first()
    if row is None or not scope.allows_grid(row.code, community=row.community_code,
                                            street=row.street_code,
                                            district=row.district_code):
        raise NotFound(msg("grid {code} does not exist", code=code))
    return _Grid(row.id, row.code, row.community_code, row.street_code, row.district_code)


def today(settings: Mapping[str, Any]) -> dt.date:
    """Today's date in the ``timezone`` setting."""
    return dt.datetime.now(ZoneInfo(settings["timezone"])).date()


def check_days(days: Any) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InvalidInput(msg("days {value!r}: expected a whole number from 1 to {limit}",
                               value=str(days)[:20], limit=MAX_DAYS))
    return days


def parse_day(value: str | None, name: str) -> dt.date | None:
    """``YYYY-MM-DD`` as a date (None stays None); ``name`` is the parameter or option."""
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(msg("{name} {value!r}: expected a day as YYYY-MM-DD", name=name,
                               value=value[:20])) from None


def check_date(on: dt.date | None, first: dt.date) -> dt.date:
    """``on`` (default ``first``, today) if it is today or within a year after."""
    if on is None:
        return first
    if not first <= on <= first + dt.timedelta(days=MAX_LEAD_DAYS):
        raise InvalidInput(msg("date {date}: expected today ({today}) or a day within {limit} "
                               "days after it; a route is planned from today on",
                               date=on.isoformat(), today=first.isoformat(),
                               limit=MAX_LEAD_DAYS))
    return on


def _stored(session: Session, grid_id: int) -> tuple[dt.date | None, dt.date | None, list]:
    row = session.execute(text("select started_on, planned_on, days from route_plan "
                               "where grid_id = :g"), {"g": grid_id}).first()
    return (row.started_on, row.planned_on, row.days) if row else (None, None, [])


def _previous(items: list[Item], planned_on: dt.date | None, stored_days: list,
              first: dt.date) -> list[list[str]]:
    """The plan kept, as day lists from today (keys in visiting order): what was done today
    first (in the order done), then each day of the stored plan from today on. A stop done
    today takes the place of its first visit in the stored plan (planned today or later)."""
    done = [i.stop for i in sorted((i for i in items if i.done_at), key=lambda i: i.done_at)]
    days: list[list[str]] = [list(done)]
    replaced = set(done)
    if planned_on is not None:
        for offset, keys in enumerate(stored_days):
            day = (planned_on + dt.timedelta(days=offset) - first).days
            if day < 0:
                continue
            while len(days) <= day:
                days.append([])
            for key in keys:
                if key in replaced:
                    replaced.discard(key)
                else:
                    days[day].append(key)
    return days


def _done_first(day_keys: list[str], items: Mapping[str, Item]) -> list[str]:
    """Today's stops: those done, in the order done, then the others in their order."""
    done = sorted((k for k in day_keys if items[k].done_at), key=lambda k: items[k].done_at)
    return done + [k for k in day_keys if not items[k].done_at]


def _order(matrix: np.ndarray) -> list[int]:
    return [int(i) for i in order_stops(matrix).order[:-1]]


def plan_route(session: Session, scope: Scope, grid_code: str, *, settings: Mapping[str, Any],
               on: dt.date | None = None, days: int = 1, keep: bool = True) -> Route:
    """The route of grid ``grid_code`` for ``days`` days from ``on`` (default today).

    ``keep`` stores today's plan for the next one (in the caller's transaction; commit it).

    Raises
    ------
    InvalidInput
        ``days`` or ``on`` out of range.
    NotFound
        No such current grid in the caller's reach.
    Conflict
        The district has no walking network, or the station is far from every street.
    """
    days = check_days(days)
    first = today(settings)
    on = check_date(on, first)
    grid = current_grid(session, scope, grid_code)
    if keep:
        lock_grid_routes(session, grid.id)
    if session.execute(text("select 1 from walk_network where district_code = :d"),
                       {"d": grid.district}).first() is None:
        raise Conflict(msg("district {district} has no walking network; build it with "
                           "gridmap network import {district}", district=grid.district))
    station = get_station(session, grid.community, settings)
    tz = ZoneInfo(settings["timezone"])
    started_on, planned_on, stored_days = _stored(session, grid.id)
    items = due_items(session, grid.id, on=first, tz=tz, building_days=station.building_days,
                      started_on=started_on or first)
    graph = load_graph(session, grid.district)
    points = np.array([(station.lon, station.lat)] + [(i.lon, i.lat) for i in items], float)
    snapped = snap(graph, points, max_snap_m=float(settings["max_snap_m"]), crs=STORAGE_SRID)
    problems = stop_problems(snapped, station=0)
    if problems and problems[0].stop == 0:
        raise Conflict(msg("the service station of community {code} is {distance:.0f} m from "
                           "the nearest street, farther than the max_snap_m setting allows; "
                           "move it (gridmap station {code} --at LON,LAT)",
                           code=grid.community, distance=problems[0].distance_m))
    left_out = {p.stop for p in problems}
    routable = [0] + [k for k in range(1, len(points)) if k not in left_out]
    metres = distance_matrix(snapped)[np.ix_(routable, routable)]
    speed = float(settings["walk_speed_mps"])
    seconds = metres / speed
    by_key = {i.stop: i for i in items}
    service = {kind: float(settings[name]) for kind, name in SERVICE_SETTINGS.items()}
    due = []
    for node, k in enumerate(routable[1:], start=1):
        item = items[k - 1]
        due_day = 0 if item.done_at else (item.due_on - first).days
        due.append(Due(item.stop, node, service[item.kind], due_day, item.every_days))
    lead = (on - first).days
    # the same horizon for every request within it: a later day asked for is that day of
    # the plan kept, not of a plan that looks further and so fills the week differently
    horizon = max(lead + days, int(settings["route_plan_days"]))
    plan = plan_days(seconds, due, days=horizon, day_length_s=station.day_minutes * 60.0,
                     previous=_previous(items, planned_on, stored_days, first), order=_order)
    node_of = {d.key: d.node for d in due}
    plan.days[0].keys = _done_first(plan.days[0].keys, by_key)
    plan.days[0].nodes = [node_of[k] for k in plan.days[0].keys]
    if keep:
        session.execute(text("""
            insert into route_plan (grid_id, started_on, planned_on, days, planned_by)
            values (:g, :started, :planned, cast(:days as jsonb), :by)
            on conflict (grid_id) do update set planned_on = excluded.planned_on,
                days = excluded.days, planned_by = excluded.planned_by, planned_at = now()"""),
            {"g": grid.id, "started": started_on or first, "planned": first,
             "days": json.dumps([d.keys for d in plan.days], ensure_ascii=False), "by": current_actor().name})
    shown = [_day(plan, lead + n, first, station, seconds, metres, routable, snapped, by_key,
                  service, tz) for n in range(days)]
    unplanned = [by_key[k] for k in dict.fromkeys(plan.unplanned)]
    return Route(grid.code, grid.community, grid.district, station, speed, shown, unplanned,
                 [Problem(items[p.stop - 1], p.reason, p.distance_m) for p in problems],
                 horizon)


def _day(plan: PeriodicPlan, index: int, first: dt.date, station: Station,
         seconds: np.ndarray, metres: np.ndarray, routable: list[int], snapped,
         items: Mapping[str, Item], service: Mapping[str, float], tz: ZoneInfo) -> RouteDay:
    """Day ``index`` of the plan with arrival times, legs and the path along the streets."""
    date = first + dt.timedelta(days=index)
    day = plan.days[index]
    visits = {(v.key, v.day): v for v in plan.visits}
    out = RouteDay(date)
    clock = dt.datetime.combine(date, station.day_start, tz)
    here = 0
    for seq, (key, node) in enumerate(zip(day.keys, day.nodes), start=1):
        item = items[key]
        clock += dt.timedelta(seconds=float(seconds[here, node]))
        visit = visits.get((key, index))
        # the day this visit is due by (a recurring stop's later visits by their interval;
        # an overdue one by the day it fell due)
        due_on = item.due_on if visit is None or visit.due_day <= 0 \
            else first + dt.timedelta(days=visit.due_day)
        out.stops.append(RouteStop(seq, item, clock, service[item.kind],
                                   float(metres[here, node]), due_on,
                                   bool(visit and visit.late),
                                   item.done_at if index == 0 else None))
        out.walk_m += float(metres[here, node])
        out.walk_s += float(seconds[here, node])
        out.service_s += service[item.kind]
        clock += dt.timedelta(seconds=service[item.kind])
        here = node
    if day.nodes:
        out.walk_m += float(metres[here, 0])
        out.walk_s += float(seconds[here, 0])
        order = [0] + [routable[n] for n in day.nodes] + [0]
        out.path = _joined(tour_paths(snapped, order), snapped.graph.epsg)
    return out


def _joined(legs: list[LineString], epsg: int) -> LineString | None:
    """The legs as one line in EPSG:4490 (each leg starts where the one before ended); None
    when the walk has no length (every stop at the station's point)."""
    coords = []
    for leg in legs:
        part = list(leg.coords)
        if coords and part and np.allclose(coords[-1], part[0]):
            part = part[1:]
        coords.extend(part)
    if len(coords) < 2:
        return None
    xs, ys = zip(*coords)
    lon, lat = transformer(epsg, STORAGE_SRID).transform(xs, ys)
    return LineString(list(zip(lon, lat)))
