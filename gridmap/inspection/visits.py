"""Visits: a grid worker marks a stop of their route done, with the time and where the tablet
was. The next plan counts from the last visit of each stop (:mod:`.due`); a stop planned and
not visited stays due, and comes first when overdue.

A tablet that lost its connection sends its visits later, perhaps twice: a visit may carry the
tablet's own id for it (``client_id``), and the same id sent again returns the visit already
recorded instead of a second one.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, Mapping

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.audit import current_actor, record
from gridmap.auth.scope import Scope
from gridmap.errors import Conflict, Forbidden, InvalidInput, NotFound
from gridmap.i18n import msg
from gridmap.inspection.plan import current_grid
from gridmap.inspection.stations import check_lon_lat

#: How late a visit may be sent (a tablet offline for days) and how far ahead of the
#: server's clock its time may be (clocks drift).
MAX_AGE = dt.timedelta(days=7)
MAX_AHEAD = dt.timedelta(minutes=5)
MAX_NOTE = 1000
MAX_ACCURACY_M = 10_000.0
_CLIENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_STOP = re.compile(r"(building|facility|incident):([0-9]{1,16})")
# Whether the stop lies in the grid: each kind by its own grid column.
_IN_GRID = {
    "building": "select 1 from building where id = cast(:ref as bigint) and grid_id = :g",
    "facility": "select 1 from facility where id = :ref and grid_id = :g",
    "incident": "select 1 from incident where id = cast(:ref as bigint) "
                "and reported_grid_id = :g",
}


def parse_stop(stop: Any) -> tuple[str, str]:
    """``kind:id`` → (kind, id)."""
    found = _STOP.fullmatch(stop) if isinstance(stop, str) else None
    if found is None or (found[1] == "facility") != (len(found[2]) == 16):
        raise InvalidInput(msg("stop {value!r}: expected building:ID, facility:ID (16 digits) "
                               "or incident:ID", value=str(stop)[:40]))
    return found[1], found[2]


def _when(done_at: Any, now: dt.datetime) -> dt.datetime:
    if done_at is None:
        return now
    try:
        when = dt.datetime.fromisoformat(done_at) if isinstance(done_at, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise InvalidInput(msg("done_at {value!r}: expected an ISO 8601 time with its offset, "
                               "such as 2026-12-05T09:30:00+08:00", value=str(done_at)[:40]))
    if not now - MAX_AGE <= when <= now + MAX_AHEAD:
        raise InvalidInput(msg("done_at {value}: expected a time in the last {days} days, not "
                               "in the future", value=done_at, days=MAX_AGE.days))
    return when


def _optional_number(name: str, value: Any, high: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or not 0 <= value <= high:
        raise InvalidInput(msg("{name} {value!r}: expected a number from 0 to {high:g}",
                               name=name, value=str(value)[:30], high=high))
    return float(value)


def _shown(row) -> dict[str, Any]:
    return {"id": row.id, "grid": row.grid, "stop": row.stop,
            "done_at": row.done_at.isoformat(), "lon": row.lon, "lat": row.lat,
            "accuracy_m": row.accuracy_m, "note": row.note, "visited_by": row.visited_by,
            "client_id": row.client_id}


_SHOWN = """
    select v.id, g.code as grid, v.stop, v.done_at, ST_X(v.position) as lon,
           ST_Y(v.position) as lat, v.accuracy_m, v.note, v.visited_by, v.client_id
    from route_visit v join grid g on g.id = v.grid_id"""


def record_visit(session: Session, scope: Scope, grid_code: str, body: Mapping[str, Any]
                 ) -> tuple[dict[str, Any], bool]:
    """Record the visit described by ``body`` (``stop``; optional ``done_at``, ``lon`` and
    ``lat`` together, ``accuracy_m``, ``note``, ``client_id``) in the caller's transaction.

    Returns
    -------
    (dict, bool)
        The visit, and whether it is new (False: this ``client_id`` was recorded before).

    Raises
    ------
    InvalidInput, Forbidden, NotFound, Conflict
        A bad value; a caller who records no visits; no such grid or stop in the caller's
        reach; a ``client_id`` already used for another stop.
    """
    unknown = sorted(set(body) - {"stop", "done_at", "lon", "lat", "accuracy_m", "note",
                                  "client_id"})
    if unknown:
        raise InvalidInput(msg("unknown field {name!r}: expected stop, done_at, lon, lat, "
                               "accuracy_m, note, client_id", name=unknown[0][:30]))
    grid = current_grid(session, scope, grid_code)
    if not scope.may("route.visit"):
        raise Forbidden(msg("{actor} ({role}) may not record route visits", actor=scope.actor,
                            role=scope.role))
    kind, ref = parse_stop(body.get("stop"))
    now = dt.datetime.now(dt.timezone.utc)
    done_at = _when(body.get("done_at"), now)
    lon, lat = body.get("lon"), body.get("lat")
    if (lon is None) != (lat is None):
        raise InvalidInput(msg("lon and lat: expected both or neither"))
    if lon is not None:
        lon, lat = check_lon_lat(lon, lat)
    accuracy = _optional_number("accuracy_m", body.get("accuracy_m"), MAX_ACCURACY_M)
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise InvalidInput(msg("note: expected text of at most {limit} characters",
                               limit=MAX_NOTE))
    client_id = body.get("client_id")
    if client_id is not None and not (isinstance(client_id, str)
                                      and _CLIENT_ID.fullmatch(client_id)):
        raise InvalidInput(msg("client_id {value!r}: expected 1 to 64 letters, digits or "
                               "_.:-", value=str(client_id)[:70]))
    stop = f"{kind}:{ref}"
    if session.execute(text(_IN_GRID[kind]), {"ref": ref, "g": grid.id}).first() is None:
        raise NotFound(msg("stop {stop} is not in grid {grid}", stop=stop, grid=grid.code))
    new_id = session.execute(text("""
        insert into route_visit (grid_id, stop, done_at, position, accuracy_m, note,
                                 visited_by, client_id)
        values (:g, :stop, :done_at,
                case when cast(:lon as float8) is null then null
                     else ST_SetSRID(ST_MakePoint(:lon, :lat), 4490) end,
                :accuracy, :note, :by, :client_id)
        on conflict (client_id) do nothing returning id"""),
        {"g": grid.id, "stop": stop, "done_at": done_at, "lon": lon, "lat": lat,
         "accuracy": accuracy, "note": note, "by": current_actor().name,
         "client_id": client_id}).scalar()
    if new_id is None:  # this client_id was recorded before
        row = session.execute(text(f"{_SHOWN} where v.client_id = :c"),
                              {"c": client_id}).one()
        if row.stop != stop or row.grid != grid.code:
            raise Conflict(msg("client_id {value} was already used for {stop} in grid {grid}",
                               value=client_id, stop=row.stop, grid=row.grid))
        return _shown(row), False
    shown = _shown(session.execute(text(f"{_SHOWN} where v.id = :id"), {"id": new_id}).one())
    record(session, action="route.visit", table="route_visit", key=new_id, after=shown)
    return shown, True


def list_visits(session: Session, scope: Scope, grid_code: str, *, since: dt.datetime,
                until: dt.datetime) -> list[dict[str, Any]]:
    """The grid's visits done in [since, until), by time."""
    grid = current_grid(session, scope, grid_code)
    rows = session.execute(text(f"{_SHOWN} where v.grid_id = :g and v.done_at >= :since "
                                "and v.done_at < :until order by v.done_at, v.id"),
                           {"g": grid.id, "since": since, "until": until})
    return [_shown(r) for r in rows]

