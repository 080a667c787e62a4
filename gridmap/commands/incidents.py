"""Incidents and their taxonomy: ``gridmap taxonomy load`` and ``gridmap incident …``.

The command line acts with every capability (whoever runs it has the database), under the
operating-system user, which the steps and the audit trail record.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from gridmap.cli_context import Context
from gridmap.cli_help import argument, group, option
from gridmap.i18n import msg
from gridmap.incidents.stages import ACTIONS, Stage

_ID = click.IntRange(1, 2 ** 31 - 1)


def _scope():
    from gridmap.audit import current_actor
    from gridmap.auth.scope import Scope

    return Scope(f"cli:{current_actor().name}", "administrator", None, None, None, True)


@group()
def taxonomy() -> None:
    """The event and component classes and the departments (data/taxonomy/)."""


@taxonomy.command("load")
@argument("directory", required=False, type=click.Path(path_type=Path))
@click.pass_obj
def taxonomy_load(ctx: Context, directory: Path | None) -> None:
    """Load departments.csv, event_classes.csv and (when present) components.csv from
    DIRECTORY (default: the data folder's taxonomy/)."""
    from gridmap.facilities.taxonomy import load_components
    from gridmap.incidents.taxonomy import TAXONOMY_DIR, load_taxonomy

    directory = directory or Path(ctx.settings["data_dir"]) / TAXONOMY_DIR
    with ctx.session() as session:
        counts = load_taxonomy(session, directory)
        components = load_components(session, directory)
    click.echo(str(msg("{classes} event classes, {departments} departments; {changed} "
                       "changed", classes=counts["event_classes"],
                       departments=counts["departments"], changed=counts["changed"])))
    if components is not None:
        click.echo(str(msg("{classes} component classes; {changed} changed",
                           classes=components["component_classes"],
                           changed=components["changed"])))


@group()
def incident() -> None:
    """Incidents: report, act on, show and list them."""


def _line(shown: dict) -> str:
    flags = (" " + str(msg("OVERDUE"))) if shown["overdue"] else ""
    where = shown["grid"] or str(msg("in no grid"))
    return (f"{shown['id']}\t{shown['stage']}{flags}\t{shown['class']}\t{where}\t"
            f"{shown['deadline'] or ''}\t{shown['description'][:60]}")


@incident.command("report")
@option("--class", "class_code", required=True, metavar="CODE",
        help="Event class, 4 digits (gridmap taxonomy load).")
@option("--lon", type=float, required=True, help="Longitude (CGCS2000 degrees).")
@option("--lat", type=float, required=True, help="Latitude (CGCS2000 degrees).")
@option("--description", required=True, help="What is wrong, in a few words.")
@click.pass_obj
def incident_report(ctx: Context, class_code: str, lon: float, lat: float,
                    description: str) -> None:
    """Report an incident at a place; print its id and the grid that holds it."""
    from gridmap.incidents.service import describe, report_incident

    scope = _scope()
    with ctx.session() as session:
        found = report_incident(session, scope, class_code=class_code, lon=lon, lat=lat,
                                description=description)
        click.echo(_line(describe(session, found, scope)))


@incident.command("act")
@argument("incident_id", type=_ID)
@argument("action", type=click.Choice(ACTIONS))
@option("--comment", default=None, help="Why: kept with the step.")
@option("--expect", "expected_stage", type=click.Choice([s.value for s in Stage]),
        default=None, help="The stage you saw; refused if the incident has moved on.")
@click.pass_obj
def incident_act(ctx: Context, incident_id: int, action: str, comment: str | None,
                 expected_stage: str | None) -> None:
    """Take ACTION on an incident (register, dispatch, handle, verify, close, …)."""
    from gridmap.incidents.calendar import load_calendar
    from gridmap.incidents.service import advance_incident, describe

    scope = _scope()
    with ctx.session() as session:
        found = advance_incident(session, scope, incident_id, action,
                                 calendar=load_calendar(ctx.settings), comment=comment,
                                 expected_stage=expected_stage)
        click.echo(_line(describe(session, found, scope)))


@incident.command("show")
@argument("incident_id", type=_ID)
@click.pass_obj
def incident_show(ctx: Context, incident_id: int) -> None:
    """An incident with its steps, as JSON."""
    from gridmap.incidents.service import describe, get_incident

    scope = _scope()
    with ctx.session() as session:
        shown = describe(session, get_incident(session, scope, incident_id), scope)
    click.echo(json.dumps(shown, ensure_ascii=False, indent=1))


@incident.command("list")
@option("--stage", type=click.Choice([s.value for s in Stage]), default=None,
        help="Only incidents in this stage.")
@option("--overdue", is_flag=True, help="Only incidents past their deadline.")
@option("--limit", type=click.IntRange(1, 100_000), default=100, show_default=True,
        help="At most this many, newest first.")
@click.pass_obj
def incident_list(ctx: Context, stage: str | None, overdue: bool, limit: int) -> None:
    """Incidents, newest first: id, stage, class, grid, deadline, description."""
    from gridmap.incidents.service import describe, list_incidents

    scope = _scope()
    with ctx.session() as session:
        for found in list_incidents(session, scope, stage=stage, overdue=overdue,
                                    limit=limit):
            click.echo(_line(describe(session, found, scope)))


@group()
def dispatch() -> None:
    """The dispatch matrix: which department gets a case, by event class and area."""


@dispatch.command("list")
@click.pass_obj
def dispatch_list(ctx: Context) -> None:
    """The rules: class, area, department (a class's default department applies where no
    rule matches)."""
    from gridmap.incidents.dispatch import list_rules

    with ctx.session() as session:
        for rule in list_rules(session):
            click.echo(f"{rule.class_pattern}\t{rule.area_code}\t{rule.department_code}")


@dispatch.command("set")
@argument("class_pattern", metavar="CLASS")
@argument("area", metavar="AREA")
@argument("department", metavar="DEPARTMENT")
@click.pass_obj
def dispatch_set(ctx: Context, class_pattern: str, area: str, department: str) -> None:
    """Send cases of CLASS (4 digits, 2 digits or *) in AREA (a district, street or community
    code, or *) to DEPARTMENT."""
    from gridmap.incidents.dispatch import set_rule

    with ctx.session() as session:
        set_rule(session, class_pattern, area, department)
    click.echo(f"{class_pattern}\t{area}\t{department}")


@dispatch.command("unset")
@argument("class_pattern", metavar="CLASS")
@argument("area", metavar="AREA")
@click.pass_obj
def dispatch_unset(ctx: Context, class_pattern: str, area: str) -> None:
    """Remove the rule for CLASS in AREA."""
    from gridmap.incidents.dispatch import unset_rule

    with ctx.session() as session:
        unset_rule(session, class_pattern, area)
