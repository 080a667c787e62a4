"""Facilities (部件): ``gridmap facility import|list|show|set-state|retire``.

The command line acts with every capability (whoever runs it has the database), under the
operating-system user, which the audit trail records.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from gridmap.cli_context import Context
from gridmap.cli_help import argument, group, option
from gridmap.facilities.ids import STATES
from gridmap.i18n import msg

DEFAULT_RECIPE = Path("import") / "facilities_osm.yaml"


def _scope():
    from gridmap.audit import current_actor
    from gridmap.auth.scope import Scope

    return Scope(f"cli:{current_actor().name}", "administrator", None, None, None, True)


def _line(shown: dict) -> str:
    where = shown["grid"] or str(msg("in no grid"))
    use = "" if shown["in_use"] else " " + str(msg("RETIRED"))
    return (f"{shown['id']}\t{shown['class_code']}\t{shown['class_name']['zh']}\t"
            f"{shown['state']}{use}\t{where}\t{shown['name'] or ''}")


@group()
def facility() -> None:
    """Facilities (部件): import, list, show, change state, retire."""


@facility.command("import")
@argument("source", type=click.Path(path_type=Path))
@option("--recipe", type=click.Path(path_type=Path), default=None,
        help="Facility recipe (default: import/facilities_osm.yaml).")
@option("--district", required=True, help="District code the facilities belong to.")
@option("--crs", default=None, help="CRS of a file that declares none, e.g. EPSG:4326.")
@option("--source-layer", default=None, help="Layer inside a multi-layer file.")
@option("--source-id", default=None, help="Column holding each record's id.")
@click.pass_obj
def facility_import(ctx: Context, source: Path, recipe: Path | None, district: str,
                    crs: str | None, source_layer: str | None, source_id: str | None) -> None:
    """Import the points of SOURCE (OSM .osm/.pbf, GeoPackage, GeoJSON…) as facilities,
    classed by the recipe. All or nothing; a re-import updates by source id."""
    from sqlalchemy import select

    from gridmap.config import REPO_ROOT
    from gridmap.facilities.importing import import_facilities
    from gridmap.facilities.recipe import load_facility_recipe
    from gridmap.models.facility import ComponentClass

    parsed = load_facility_recipe(recipe or REPO_ROOT / DEFAULT_RECIPE)
    with ctx.session() as session:
        report = import_facilities(session, source, parsed, district=district, crs=crs,
                                   source_layer=source_layer, source_id=source_id)
        names = {c.code: c.name_zh for c in session.execute(select(ComponentClass)).scalars()}
    for line in report.lines(names):
        click.echo(line)


@facility.command("list")
@option("--grid", default=None, help="Only facilities in this grid (its code).")
@option("--class", "class_code", default=None, metavar="CODE",
        help="Only this component class (4 digits) or major class (2 digits).")
@option("--state", type=click.Choice(STATES), default=None, help="Only facilities in this state.")
@option("--retired", is_flag=True, help="Include retired facilities.")
@option("--limit", type=click.IntRange(1, 1_000_000), default=1000, show_default=True,
        help="At most this many, by ID.")
@click.pass_obj
def facility_list(ctx: Context, grid: str | None, class_code: str | None, state: str | None,
                  retired: bool, limit: int) -> None:
    """Facilities by ID: id, class, class name, state, grid, name."""
    from gridmap.facilities.service import FacilityQuery, list_facilities

    query = FacilityQuery(grid=grid, class_code=class_code, state=state,
                          include_retired=retired, limit=limit)
    with ctx.session() as session:
        for shown in list_facilities(session, _scope(), query):
            click.echo(_line(shown))


@facility.command("show")
@argument("facility_id", metavar="ID")
@click.pass_obj
def facility_show(ctx: Context, facility_id: str) -> None:
    """One facility as JSON."""
    from gridmap.facilities.service import describe_facility, get_facility

    with ctx.session() as session:
        shown = describe_facility(session, get_facility(session, _scope(), facility_id))
    click.echo(json.dumps(shown, ensure_ascii=False, indent=1))


@facility.command("set-state")
@argument("facility_id", metavar="ID")
@argument("state", type=click.Choice(STATES))
@option("--comment", default=None, help="Why: kept in the audit trail.")
@click.pass_obj
def facility_set_state(ctx: Context, facility_id: str, state: str,
                       comment: str | None) -> None:
    """Record that facility ID is in STATE now."""
    from gridmap.facilities.service import describe_facility, set_state

    with ctx.session() as session:
        click.echo(_line(describe_facility(session, set_state(
            session, _scope(), facility_id, state, comment=comment))))


@facility.command("retire")
@argument("facility_id", metavar="ID")
@option("--comment", default=None, help="Why: kept in the audit trail.")
@click.pass_obj
def facility_retire(ctx: Context, facility_id: str, comment: str | None) -> None:
    """Take facility ID out of use; the ID is never issued again."""
    from gridmap.facilities.service import describe_facility, retire_facility

    with ctx.session() as session:
        click.echo(_line(describe_facility(session, retire_facility(
            session, _scope(), facility_id, comment=comment))))
