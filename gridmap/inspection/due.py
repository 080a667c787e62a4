"""What a grid worker must visit in a grid from a given day on, and by when.

Three kinds of stop, each named by a key (``kind:id``) that visits are recorded under:

- **building** (``building:ID``): every building of the grid, in a cycle of
  ``building_days`` (the community's, else the ``route_building_days`` setting): due that many
  days after its last visit. The stop is the point of its footprint nearest to the walking
  network (where a worker stands to look at it), else a point inside it.
- **facility** (``facility:ID``): every facility in use in the grid, due its class's
  ``inspection_days`` after its last inspection.
- **incident** (``incident:ID``): every incident reported in the grid that its department
  marked handled and that waits for on-site verification: due on the day planned.

A stop never visited is due within its first cycle from the grid's first plan (``started_on``)
or, for a facility registered later, from its registration: a new grid's buildings spread over
its first week instead of all being overdue at once. A stop visited on the first day planned is
returned with that visit (``done_at``): it stays on that day's route, marked done.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

KINDS = ("building", "facility", "incident")
REASONS = {"building": "building_visit", "facility": "facility_inspection",
           "incident": "incident_verification"}


@dataclass(frozen=True)
class Item:
    """One stop due in the grid.

    Attributes
    ----------
    stop
        Its key, ``kind:id``.
    label
        A name for people: the building's name or address, the facility's name or class, the
        incident's class and the start of its description.
    lon, lat
        Where to go (EPSG:4490).
    every_days
        Days between two visits for a recurring stop; None for an incident.
    due_on
        The last day it may be visited on (before the first day planned when overdue).
    last_visit
        Its last recorded visit before the first day planned, if any.
    done_at
        Its visit on the first day planned, if it was visited that day.
    """

    stop: str
    label: str
    lon: float
    lat: float
    every_days: int | None
    due_on: dt.date
    last_visit: dt.datetime | None = None
    done_at: dt.datetime | None = None

    @property
    def kind(self) -> str:
        return self.stop.partition(":")[0]

    @property
    def reason(self) -> str:
        return REASONS[self.kind]


# The last visit before the day and the first visit on it, of the stop named by ``key``.
_VISITS = """
    left join lateral (
        select max(v.done_at) filter (where v.done_at < :day_start) as last_visit,
               min(v.done_at) filter (where v.done_at >= :day_start
                                      and v.done_at < :day_end) as done_at
        from route_visit v where v.stop = {key}) v on true"""

_BUILDINGS = """
    select 'building:' || b.id as stop,
           coalesce(nullif(b.name, ''), nullif(b.address, ''), '#' || b.id) as label,
           ST_X(p.pt) as lon, ST_Y(p.pt) as lat, null::timestamptz as registered_at,
           :building_days as every_days, v.last_visit, v.done_at
    from building b
    cross join lateral (select coalesce(
        (select ST_ClosestPoint(b.footprint, e.geom) from walk_edge e
         where e.district_code = b.district_code
         order by e.geom <-> b.footprint limit 1),
        ST_PointOnSurface(b.footprint)) as pt) p
    """ + _VISITS.format(key="'building:' || b.id") + """
    where b.grid_id = :grid"""

_FACILITIES = """
    select 'facility:' || f.id as stop,
           coalesce(nullif(f.name, ''), c.name_zh || ' ' || f.id) as label,
           ST_X(f.geom) as lon, ST_Y(f.geom) as lat, f.registered_at,
           c.inspection_days as every_days, v.last_visit, v.done_at
    from facility f join component_class c on c.code = f.class_code
    """ + _VISITS.format(key="'facility:' || f.id") + """
    where f.grid_id = :grid and f.in_use"""

_INCIDENTS = """
    select 'incident:' || i.id as stop,
           c.name_zh || ': ' || left(i.description, 60) as label,
           ST_X(i.location) as lon, ST_Y(i.location) as lat, null::timestamptz,
           null::integer as every_days, v.last_visit, v.done_at
    from incident i join event_class c on c.code = i.class_code
    """ + _VISITS.format(key="'incident:' || i.id") + """
    where i.reported_grid_id = :grid and i.location is not null
      and (i.stage = 'handled' or v.done_at is not null)"""


def day_bounds(day: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The first instant of ``day`` and of the next day, in time zone ``tz``."""
    start = dt.datetime.combine(day, dt.time(), tz)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz)


def due_items(session: Session, grid_id: int, *, on: dt.date, tz: ZoneInfo,
              building_days: int, started_on: dt.date) -> list[Item]:
    """Everything to visit in the grid from day ``on`` (one statement), by key."""
    day_start, day_end = day_bounds(on, tz)
    rows = session.execute(text(
        f"{_BUILDINGS} union all {_FACILITIES} union all {_INCIDENTS} order by stop"),
        {"grid": grid_id, "building_days": building_days, "day_start": day_start,
         "day_end": day_end}).all()
    items = []
    for row in rows:
        if row.every_days is None:  # an incident waiting for verification: due today
            due_on = on
        elif row.last_visit is not None:
            due_on = row.last_visit.astimezone(tz).date() + dt.timedelta(days=row.every_days)
        else:
            first = started_on
            if row.registered_at is not None:
                first = max(first, row.registered_at.astimezone(tz).date())
            due_on = first + dt.timedelta(days=row.every_days - 1)
        items.append(Item(row.stop, row.label, float(row.lon), float(row.lat), row.every_days,
                          due_on, row.last_visit, row.done_at))
    return items
