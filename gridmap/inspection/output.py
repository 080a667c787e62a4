"""A route as plain data (the API's JSON), as GeoJSON (RFC 7946: lon/lat, one feature per
stop, per day's path and for the station) and as GPX 1.1 (a waypoint per stop named by its
number, a track per day along the streets) for the GPS apps grid workers carry."""
from __future__ import annotations

from typing import Any

import gpxpy.gpx

from gridmap.inspection.plan import Route, RouteDay, RouteStop

#: Coordinates are written to 7 decimals (about 1 cm).
DIGITS = 7


def _xy(lon: float, lat: float) -> list[float]:
    return [round(lon, DIGITS), round(lat, DIGITS)]


def _stop(stop: RouteStop) -> dict[str, Any]:
    item = stop.item
    return {"seq": stop.seq, "stop": item.stop, "kind": item.kind, "reason": item.reason,
            "label": item.label, "lon": round(item.lon, DIGITS),
            "lat": round(item.lat, DIGITS), "arrival": stop.arrival.replace(microsecond=0).isoformat(),
            "service_s": stop.service_s, "leg_m": round(stop.leg_m, 1),
            "due": stop.due_on.isoformat(), "late": stop.late,
            "done_at": stop.done_at.isoformat() if stop.done_at else None}


def _path(day: RouteDay) -> dict | None:
    if day.path is None:
        return None
    return {"type": "LineString", "coordinates": [_xy(x, y) for x, y in day.path.coords]}


def _day(day: RouteDay) -> dict[str, Any]:
    return {"date": day.date.isoformat(), "stops": [_stop(s) for s in day.stops],
            "walk_m": round(day.walk_m, 1), "walk_s": round(day.walk_s),
            "service_s": round(day.service_s), "total_s": round(day.total_s),
            "done": sum(1 for s in day.stops if s.done_at), "path": _path(day)}


def _item(item) -> dict[str, Any]:
    return {"stop": item.stop, "kind": item.kind, "reason": item.reason, "label": item.label,
            "lon": round(item.lon, DIGITS), "lat": round(item.lat, DIGITS),
            "due": item.due_on.isoformat()}


def route_dict(route: Route) -> dict[str, Any]:
    """The route as the API answers it."""
    return {"grid": route.grid, "community": route.community, "district": route.district,
            "station": route.station.as_dict(), "walk_speed_mps": route.speed_mps,
            "day_length_s": route.station.day_minutes * 60,
            "planned_days": route.planned_days, "days": [_day(d) for d in route.days],
            "unplanned": [_item(i) for i in route.unplanned],
            "problems": [{**_item(p.item), "problem": p.reason,
                          "distance_m": round(p.distance_m, 1)} for p in route.problems]}


def route_geojson(route: Route) -> dict[str, Any]:
    """The route as a GeoJSON FeatureCollection: the station, then per day its path and its
    stops (property ``date`` tells the days apart)."""
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": _xy(
        route.station.lon, route.station.lat)}, "properties": {
        "feature": "station", "community": route.community, "set": route.station.set}}]
    for day in route.days:
        if day.path is not None:
            features.append({"type": "Feature", "geometry": _path(day), "properties": {
                "feature": "path", "date": day.date.isoformat(),
                "walk_m": round(day.walk_m, 1), "total_s": round(day.total_s)}})
        for stop in day.stops:
            properties = {"feature": "stop", "date": day.date.isoformat(), **_stop(stop)}
            lon, lat = properties.pop("lon"), properties.pop("lat")
            features.append({"type": "Feature", "properties": properties,
                             "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    return {"type": "FeatureCollection", "features": features}


def route_gpx(route: Route) -> str:
    """The route as GPX 1.1 (WGS 84 lon/lat, which EPSG:4490 equals to within centimetres):
    a waypoint per stop (``D.N label``: day and number), a track per day."""
    gpx = gpxpy.gpx.GPX()
    gpx.creator = "gridmap"
    gpx.name = f"gridmap route {route.grid}"
    gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(
        round(route.station.lat, DIGITS), round(route.station.lon, DIGITS),
        name="0 station", symbol="Flag"))
    for number, day in enumerate(route.days, start=1):
        prefix = f"{number}." if len(route.days) > 1 else ""
        for stop in day.stops:
            gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(
                round(stop.item.lat, DIGITS), round(stop.item.lon, DIGITS),
                name=f"{prefix}{stop.seq} {stop.item.label}"[:100], time=stop.arrival,
                description=f"{stop.item.reason} {stop.item.stop}", type=stop.item.kind))
        if day.path is not None:
            track = gpxpy.gpx.GPXTrack(name=f"{route.grid} {day.date.isoformat()}")
            segment = gpxpy.gpx.GPXTrackSegment([gpxpy.gpx.GPXTrackPoint(
                round(y, DIGITS), round(x, DIGITS)) for x, y in day.path.coords])
            track.segments.append(segment)
            gpx.tracks.append(track)
    return gpx.to_xml(version="1.1")
