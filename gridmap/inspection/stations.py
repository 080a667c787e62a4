"""Each community's service station (社区服务站: where every inspection route starts and ends)
and its working day: length, start time and building visit cycle. What a community does not
set comes from the settings (``route_day_minutes``, ``route_day_start``,
``route_building_days``); a community with no station yet starts its routes from a point
inside its outline, and the route says so (``station.set`` is false)."""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.audit import current_actor, record
from gridmap.auth.scope import Scope
from gridmap.errors import Forbidden, InvalidInput, NotFound
from gridmap.i18n import msg
from gridmap.models.route import RouteStation

#: How far outside its community's outline a station may lie (metres): some stations serve
#: from across a boundary road.
MAX_OUTSIDE_M = 1000.0
DAY_MINUTES = (10, 1440)
BUILDING_DAYS = (1, 366)


@dataclass(frozen=True)
class Station:
    """A community's station point (EPSG:4490) and working day, settings filled in."""

    community: str
    lon: float
    lat: float
    set: bool
    day_minutes: int
    day_start: dt.time
    building_days: int

    def as_dict(self) -> dict[str, Any]:
        return {"community": self.community, "lon": self.lon, "lat": self.lat,
                "set": self.set, "day_minutes": self.day_minutes,
                "day_start": self.day_start.strftime("%H:%M"),
                "building_days": self.building_days}


def get_station(session: Session, community: str, settings: Mapping[str, Any]) -> Station:
    """The community's station and day (404 for an unknown community)."""
    row = session.execute(text("""
        select c.code, coalesce(ST_X(s.geom), ST_X(ST_PointOnSurface(c.geom))) as lon,
               coalesce(ST_Y(s.geom), ST_Y(ST_PointOnSurface(c.geom))) as lat,
               s.community_code is not null as set, s.day_minutes, s.day_start,
               s.building_days
        from community c left join route_station s on s.community_code = c.code
        where c.code = :c"""), {"c": community}).first()
    if row is None:
        raise NotFound(msg("community {code} does not exist", code=community))
    return Station(row.code, float(row.lon), float(row.lat), bool(row.set),
                   row.day_minutes or int(settings["route_day_minutes"]),
                   row.day_start or dt.time.fromisoformat(settings["route_day_start"]),
                   row.building_days or int(settings["route_building_days"]))


def _whole_in(name: str, value: Any, bounds: tuple[int, int]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) \
            or not bounds[0] <= value <= bounds[1]:
        raise InvalidInput(msg("{name} {value!r}: expected a whole number from {low} to "
                               "{high}", name=name, value=str(value)[:20], low=bounds[0],
                               high=bounds[1]))
    return value


def parse_day_start(value: Any) -> dt.time | None:
    """``HH:MM`` as a time (None stays None)."""
    if value is None:
        return None
    try:
        if not isinstance(value, str) or len(value) != 5:
            raise ValueError
        return dt.time.fromisoformat(value)
    except ValueError:
        raise InvalidInput(msg("day_start {value!r}: expected a time of day such as 08:30",
                               value=str(value)[:20])) from None


def check_lon_lat(lon: Any, lat: Any) -> tuple[float, float]:
    """Finite longitude −180…180 and latitude −90…90 (numbers, not text)."""
    for name, value, limit in (("lon", lon, 180), ("lat", lat, 90)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or abs(value) > limit:
            raise InvalidInput(msg("{name} {value!r}: expected a number from -{limit} to "
                                   "{limit}", name=name, value=str(value)[:30], limit=limit))
    return float(lon), float(lat)


def set_station(session: Session, scope: Scope, community: str, *, lon: Any, lat: Any,
                day_minutes: Any = None, day_start: Any = None, building_days: Any = None,
                settings: Mapping[str, Any]) -> Station:
    """Place the community's station and set its day (in the caller's transaction; an
    omitted value takes the setting). Needs ``route.station`` and a scope covering the
    community.

    Raises
    ------
    InvalidInput
        A value out of range, or the point farther than 1 km from the community.
    Forbidden, NotFound
        The caller may not set stations here; the community does not exist (or is unseen).
    """
    if not scope.sees_division(community):
        raise NotFound(msg("community {code} does not exist", code=community))
    if not (scope.may("route.station") and scope.covers_division(community)):
        raise Forbidden(msg("{actor} ({role}) may not set the service station of community "
                            "{code}", actor=scope.actor, role=scope.role, code=community))
    lon, lat = check_lon_lat(lon, lat)
    values = {"day_minutes": _whole_in("day_minutes", day_minutes, DAY_MINUTES),
              "day_start": parse_day_start(day_start),
              "building_days": _whole_in("building_days", building_days, BUILDING_DAYS)}
    # two people placing the station at once: one waits for the other, then replaces it
    session.execute(text("select 1 from community where code = :c for update"),
                    {"c": community})
    before = get_station(session, community, settings)
    far = session.execute(text("""
        select ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4490)
                           ::geography) from community where code = :c"""),
        {"c": community, "lon": lon, "lat": lat}).scalar_one()
    if far > MAX_OUTSIDE_M:
        raise InvalidInput(msg("station {lon}, {lat}: {distance:.0f} m outside community "
                               "{code}; expected at most {limit:.0f} m", lon=lon, lat=lat,
                               distance=far, code=community, limit=MAX_OUTSIDE_M))
    station = session.get(RouteStation, community)
    if station is None:
        station = RouteStation(community_code=community)
        session.add(station)
    station.geom = f"SRID=4490;POINT({lon!r} {lat!r})"
    station.day_minutes = values["day_minutes"]
    station.day_start = values["day_start"]
    station.building_days = values["building_days"]
    station.updated_by = current_actor().name
    station.updated_at = dt.datetime.now(dt.timezone.utc)
    session.flush()
    after = get_station(session, community, settings)
    record(session, action="route.station", table="route_station", key=community,
           before=before.as_dict() if before.set else None, after=after.as_dict())
    return after
