"""Inspection routes: ``gridmap route GRID``, ``gridmap station COMMUNITY``,
``gridmap visit GRID STOP``.

The command line acts with every capability (whoever runs it has the database), under the
operating-system user, which the audit trail records.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from gridmap.cli_context import Context
from gridmap.cli_help import argument, command, option
from gridmap.errors import InvalidInput
from gridmap.i18n import N_, msg

#: The reason of each kind of stop, as the route shows it.
REASONS = {"building_visit": N_("building visit"),
           "facility_inspection": N_("facility inspection"),
           "incident_verification": N_("incident to verify")}
OUTPUTS = (".gpx", ".geojson", ".json")


def _scope():
    from gridmap.audit import current_actor
    from gridmap.auth.scope import Scope

    return Scope(f"cli:{current_actor().name}", "administrator", None, None, None, True)


def _minutes(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _lines(shown: dict) -> list[str]:
    station = shown["station"]
    where = (msg("station of community {code} at {lon:.6f}, {lat:.6f}",
                 code=station["community"], lon=station["lon"], lat=station["lat"])
             if station["set"] else
             msg("community {code} has no station set: routes start at a point inside it "
                 "(gridmap station {code} --at LON,LAT)", code=station["community"]))
    lines = [str(msg("Route of grid {grid}, from and back to the {where}", grid=shown["grid"],
                     where=where))]
    for day in shown["days"]:
        lines.append("")
        lines.append(str(msg("{date}: {count} stops, {km:.2f} km, {time} of {length}",
                             date=day["date"], count=len(day["stops"]),
                             km=day["walk_m"] / 1000, time=_minutes(day["total_s"]),
                             length=_minutes(shown["day_length_s"]))))
        for stop in day["stops"]:
            flags = []
            if stop["late"]:
                flags.append(str(msg("late, was due {date}", date=stop["due"])))
            if stop["done_at"]:
                flags.append(str(msg("done {time}", time=stop["done_at"][11:16])))
            lines.append(f"  {stop['seq']:>3}  {stop['arrival'][11:16]}  {stop['stop']:<26}  "
                         f"{msg(REASONS[stop['reason']])}  {stop['label']}"
                         + (f"  [{'; '.join(flags)}]" if flags else ""))
    for item in shown["unplanned"]:
        lines.append(str(msg("not planned (no room in {days} days): {stop} {label}, due {due}",
                             days=shown["planned_days"], stop=item["stop"],
                             label=item["label"], due=item["due"])))
    for item in shown["problems"]:
        reason = (msg("{distance:.0f} m from the nearest street", distance=item["distance_m"])
                  if item["problem"] == "far" else
                  msg("not connected to the station by the walking network"))
        lines.append(str(msg("not routed: {stop} {label}: {reason}", stop=item["stop"],
                             label=item["label"], reason=reason)))
    return lines


@command()
@argument("grid")
@option("--date", "day", default=None, help="First day of the route (YYYY-MM-DD; default "
        "today).")
@option("--days", type=int, default=1, show_default=True, help="Days to show (at most 31).")
@option("-o", "--output", type=click.Path(path_type=Path), default=None,
        help="Write the route to this file: .gpx, .geojson or .json (by its suffix).")
@click.pass_obj
def route(ctx: Context, grid: str, day: str | None, days: int, output: Path | None) -> None:
    """Plan the inspection route of GRID: the stops due (facilities, incidents to verify,
    buildings in their visit cycle) in walking order from and back to the community's
    service station, with expected arrivals; the plan is kept so that tomorrow's changes
    little."""
    from gridmap.inspection.output import route_dict, route_geojson, route_gpx
    from gridmap.inspection.plan import parse_day, plan_route

    if output is not None and output.suffix.lower() not in OUTPUTS:
        raise InvalidInput(msg("-o {path}: expected a file name ending in {items}",
                               path=output, items=", ".join(OUTPUTS)))
    on = parse_day(day, "--date")
    with ctx.session() as session:
        found = plan_route(session, _scope(), grid, settings=ctx.settings, on=on, days=days)
    shown = route_dict(found)
    if output is None:
        for line in _lines(shown):
            click.echo(line)
        return
    suffix = output.suffix.lower()
    body = (route_gpx(found) if suffix == ".gpx" else
            json.dumps(route_geojson(found) if suffix == ".geojson" else shown,
                       ensure_ascii=False))
    partial = output.with_name(f".{output.name}.partial")
    try:
        partial.write_text(body, encoding="utf-8")
        partial.replace(output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InvalidInput(msg("{path}: cannot write: {reason}", path=output,
                               reason=exc.strerror)) from None
    stops = sum(len(d["stops"]) for d in shown["days"])
    click.echo(msg("wrote {path}: {stops} stops over {days} days", path=output, stops=stops,
                   days=len(shown["days"])))


def _lon_lat(value: str, option: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in value.split(","))
    except ValueError:
        raise InvalidInput(msg("{option} {value!r}: expected LON,LAT such as 114.30,30.55",
                               option=option, value=value[:40])) from None
    return lon, lat


@command()
@argument("community")
@option("--at", default=None, help="Place the station at LON,LAT (CGCS2000).")
@option("--day-minutes", type=int, default=None,
        help="Length of the inspection day (minutes; default: the route_day_minutes setting).")
@option("--day-start", default=None, help="Time the round leaves the station (HH:MM).")
@option("--building-days", type=int, default=None,
        help="Visit every building at least once in this many days.")
@click.pass_obj
def station(ctx: Context, community: str, at: str | None, day_minutes: int | None,
            day_start: str | None, building_days: int | None) -> None:
    """Show the service station of COMMUNITY (where its grid workers' routes start and end)
    and its working day, or place it with --at."""
    from gridmap.inspection.stations import get_station, set_station

    with ctx.session() as session:
        if at is None:
            if (day_minutes, day_start, building_days) != (None, None, None):
                raise InvalidInput(msg("--day-minutes, --day-start and --building-days go "
                                       "with --at LON,LAT"))
            shown = get_station(session, community, ctx.settings)
        else:
            lon, lat = _lon_lat(at, "--at")
            shown = set_station(session, _scope(), community, lon=lon, lat=lat,
                                day_minutes=day_minutes, day_start=day_start,
                                building_days=building_days, settings=ctx.settings)
    click.echo(json.dumps(shown.as_dict(), ensure_ascii=False))


@command()
@argument("grid")
@argument("stop")
@option("--at", "done_at", default=None,
        help="When it was done (ISO 8601 with offset; default now).")
@option("--position", default=None, help="Where, as LON,LAT.")
@option("--note", default=None, help="A note on the visit.")
@click.pass_obj
def visit(ctx: Context, grid: str, stop: str, done_at: str | None, position: str | None,
          note: str | None) -> None:
    """Record STOP (building:ID, facility:ID or incident:ID) of GRID's route as visited."""
    from gridmap.inspection.visits import record_visit

    body: dict = {"stop": stop, "done_at": done_at, "note": note}
    if position is not None:
        body["lon"], body["lat"] = _lon_lat(position, "--position")
    with ctx.session() as session:
        shown, _ = record_visit(session, _scope(), grid,
                                {k: v for k, v in body.items() if v is not None})
    click.echo(json.dumps(shown, ensure_ascii=False))
