"""Loading and checking data: ``demo``, ``import``, ``validate``, ``assign``."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from gridmap.cli_help import argument, command, option
from gridmap.cli_context import Context
from gridmap.errors import InvalidInput
from gridmap.i18n import msg
from gridmap.progress import TerminalProgress


@command()
@click.pass_obj
def demo(ctx: Context) -> None:
    """Load the demo district (Wuhan Optics Valley, Hongshan 420111). Idempotent."""
    from gridmap.demo import DEMO_DISTRICT, load_demo
    from gridmap.demo_facilities import ensure_demo_facilities
    from gridmap.demo_incidents import ensure_demo_incidents
    from gridmap.demo_people import WORKER, ensure_demo_people
    from gridmap.demo_routes import demo_route, ensure_demo_stations
    from gridmap.devices.simulate import ensure_demo_devices
    from gridmap.incidents.calendar import load_calendar

    with TerminalProgress() as progress, ctx.session() as session:
        lines = load_demo(session, progress=progress)
        people = ensure_demo_people(session, DEMO_DISTRICT, settings=ctx.settings)
        incidents = ensure_demo_incidents(session, DEMO_DISTRICT,
                                          calendar=load_calendar(ctx.settings))
        facilities = ensure_demo_facilities(session, DEMO_DISTRICT)
        devices = ensure_demo_devices(session, DEMO_DISTRICT,
                                      data_dir=ctx.settings["data_dir"])
        stations = ensure_demo_stations(session, DEMO_DISTRICT, settings=ctx.settings)
        worker_grid = next((p.reaches.split()[-1] for p in people if p.login == WORKER), None)
        route = demo_route(session, worker_grid, settings=ctx.settings) if worker_grid \
            else None
    if devices:
        lines.append(f"devices: {devices} simulated devices registered "
                     f"(gridmap simulate-devices publishes their telemetry)")
    lines += facilities.lines()[:1]
    if stations:
        lines.append(f"routes: {stations} community service stations placed")
    if route is not None:
        today = route.days[0]
        lines.append(f"routes: today's route of grid {route.grid} (the demo grid worker's): "
                     f"{len(today.stops)} stops, {today.walk_m / 1000:.1f} km")
    if incidents:
        lines.append(f"incidents: {incidents} demo incidents reported")
    for line in lines:
        click.echo(line)
    new = [p for p in people if p.password]
    if new:
        click.echo(str(msg("demo people (passwords shown this once; `gridmap user "
                           "reset-password NAME` sets new ones):")))
        for p in new:
            click.echo(str(msg("  sign in as {login} with password {password}  ({role}, "
                               "reaches {reaches})", login=p.login, password=p.password,
                               role=p.role, reaches=p.reaches)))
    old = [p.login for p in people if not p.password]
    if old:
        click.echo(str(msg("demo people {logins} exist; their passwords were shown when they "
                           "were created (`gridmap user reset-password NAME` sets new ones)",
                           logins=", ".join(old))))


@command("import")
@argument("source", type=click.Path(path_type=Path))
@option("--layer", help="Target layer when SOURCE is a data file, not a recipe.")
@option("--district", help="District code the features belong to.")
@option("--crs", help="CRS of a file that declares none, e.g. EPSG:4326.")
@option("--encoding", help="Attribute encoding when the file does not say (e.g. gbk).")
@option("--source-layer", help="Layer inside a multi-layer file.")
@option("--source-name", help="Who issued the ids (default: osm for OSM files, else "
                              "the district's own ids).")
@option("--repair/--no-repair", default=None, help="make_valid() invalid polygons.")
@option("--field", "fields", multiple=True, metavar="TARGET=SOURCE",
        help="Map a source field to a target field (repeatable).")
@option("--where", "where", multiple=True, metavar="CONDITION",
        help="Keep features meeting FIELD=VALUE, FIELD=A,B, FIELD!=VALUE, FIELD>=N "
             "(<, <=, >), FIELD= (missing) or FIELD!= (present); repeatable, all must "
             "hold.")
@option("--households", "households", metavar="KEY=VALUE,…",
        help="Derive households: 'default', or rule parameters such as "
             "dwelling_m2=90,net_ratio=0.75,floor_height_m=3,default_floors=6.")
@option("--households-rule", type=click.Path(path_type=Path), metavar="FILE",
        help="Derive households with the rule in a YAML file.")
@option("--wkt-field", help="CSV column holding WKT geometries.")
@option("--x-field", help="CSV column of x (longitude or easting).")
@option("--y-field", help="CSV column of y (latitude or northing).")
@option("--duplicates", type=click.Choice(["refuse", "skip", "keep"]), default=None,
        help="Footprints that are the same building as another (in the file or "
             "stored): refuse the import (default), skip them, or keep them.")
@option("--outside-district", type=click.Choice(["refuse", "assign"]), default=None,
        help="Buildings lying in another loaded district: refuse the import (default) "
             "or write them into that district.")
@option("--allow-move", is_flag=True, default=None,
        help="Let a known building id move its footprint farther than 50 m.")
@click.pass_obj
def import_(ctx: Context, source: Path, layer: str | None, district: str | None,
            crs: str | None, encoding: str | None, source_layer: str | None,
            source_name: str | None, repair: bool | None, fields: tuple[str, ...],
            where: tuple[str, ...], households: str | None, households_rule: Path | None,
            wkt_field: str | None, x_field: str | None, y_field: str | None,
            duplicates: str | None, outside_district: str | None,
            allow_move: bool | None) -> None:
    """Import a recipe from import/ (a .yaml file) or a data file with --layer. All or nothing.

    Every option is also a recipe key (README, "Importing"); an option adds to or replaces
    the recipe's value.
    """
    from gridmap.ingest import Recipe, import_recipe, load_recipe
    from gridmap.ingest import options as opts

    values = dict(layer=layer, district=district, crs=crs, encoding=encoding,
                  source_layer=source_layer, source_name=source_name, repair=repair,
                  fields=opts.parse_fields(fields) or None, where=opts.parse_where(where),
                  households=opts.households_rule(households, households_rule),
                  wkt_field=wkt_field, x_field=x_field, y_field=y_field,
                  duplicates=duplicates, allow_move=allow_move or None,
                  outside_district=outside_district)
    if source.suffix.lower() in (".yaml", ".yml"):
        recipe = load_recipe(source, **values)
    else:
        if not layer:
            raise InvalidInput(msg("{name} is a data file: say the target with --layer",
                                   name=source.name))
        recipe = Recipe(source=source.resolve(),
                        **{k: v for k, v in values.items() if v is not None})
    with TerminalProgress() as progress, ctx.session() as session:
        report = import_recipe(session, recipe, settings=ctx.settings, progress=progress)
    click.echo(report.summary())


def _district_codes(session, district: str | None) -> list[str]:
    """The district asked for, or every loaded district."""
    from sqlalchemy import text

    return [district] if district else list(session.execute(
        text("select code from district order by code")).scalars())


@command()
@option("--district", default=None, help="District code (default: every district).")
@option("--json", "as_json", is_flag=True, help="Print violations as a JSON list.")
@click.pass_obj
def validate(ctx: Context, district: str | None, as_json: bool) -> None:
    """Check the hierarchy; exit 0 when valid, 1 with every violation listed."""

    from gridmap.grid.validate import validate_district

    known = ctx.known_districts() or None
    violations = []
    with TerminalProgress() as progress, ctx.session() as session:
        codes = _district_codes(session, district)
        progress.stage(msg("validating districts"), total=len(codes))
        for code in codes:
            progress.advance(1)
            violations += validate_district(
                session, code, tolerance_m=ctx.settings["containment_tolerance_m"],
                min_area_m2=ctx.settings["gap_tolerance_m2"], known_districts=known)
    if as_json:
        click.echo(json.dumps([v.as_dict() for v in violations], ensure_ascii=False, indent=2))
    elif violations:
        for v in violations:
            where = str(msg(" at {lon:.6f},{lat:.6f}", lon=v.location[0], lat=v.location[1])) \
                if v.location else ""
            click.echo(f"[{v.check}] {v.detail}{where}")
        click.echo(str(msg("{count} violation(s) in {districts} district(s)",
                           count=len(violations), districts=len(codes))))
    else:
        click.echo(str(msg("valid: {districts} district(s), no violations",
                           districts=len(codes))))
    sys.exit(1 if violations else 0)


@command()
@option("--district", default=None, help="District code (default: every district).")
@click.pass_obj
def assign(ctx: Context, district: str | None) -> None:
    """Reassign every building to its grid and refresh the totals (a repair; imports and the
    demo already do this in their own transaction)."""
    from gridmap.grid.assign import reassign_district

    with TerminalProgress() as progress, ctx.session() as session:
        codes = _district_codes(session, district)
        progress.stage(msg("assigning districts"), total=len(codes))
        for code in codes:
            progress.advance(1)
            stats = reassign_district(session, code)
            click.echo(str(msg("district {code}: {assigned} of {buildings} buildings in a grid, "
                               "{changed} changed, {refreshed} grid total(s) corrected",
                               code=code, assigned=stats["assigned"],
                               buildings=stats["buildings"], changed=stats["changed"],
                               refreshed=stats["totals_refreshed"])))
