"""Draft plans and grid history: ``gridmap plan …`` and ``gridmap grid …``."""
from __future__ import annotations

import json
from pathlib import Path

import click

from gridmap.cli_help import argument, group, option
from gridmap.cli_context import Context
from gridmap.i18n import msg

#: A grid's kind as people read it (the stored value is the English word).
KIND_NAMES = {"residential": msg("residential"), "unit": msg("unit")}


@group()
def plan() -> None:
    """Draft plans of a community's grids: import, export, list, show, apply, discard."""


@plan.command("import")
@argument("source", type=click.Path(path_type=Path))
@option("--community", required=True, metavar="CODE", help="The community (12 digits).")
@option("--title", default=None, help="A title for the draft (default: the file name).")
@option("--base-version", type=click.IntRange(0), default=None,
        help="The version of the community's grids the file was drawn from (`gridmap "
             "plan list --community CODE` shows it); an older one is refused. Default: "
             "the current version.")
@click.pass_obj
def plan_import(ctx: Context, source: Path, community: str, title: str | None,
                base_version: int | None) -> None:
    """A draft from SOURCE (polygons with optional kind and name), e.g. edited in QGIS."""
    from gridmap.plans.compare import compare_plan
    from gridmap.plans.drafts import draft_from_file

    with ctx.session() as session:
        draft = draft_from_file(session, source, community, title=title,
                                base_version=base_version,
                                tolerance_m=ctx.settings["containment_tolerance_m"])
        comparison = compare_plan(session, draft)
    click.echo(str(msg("draft plan {plan} of community {community}: {grids} grids, {findings} "
                       "finding(s); `gridmap plan show {plan}`", plan=draft.id,
                       community=community, grids=len(draft.grids),
                       findings=len(comparison.violations))))


@plan.command("export")
@argument("plan_id", type=click.IntRange(1, 2 ** 31 - 1))
@option("-o", "--output", "output", required=True, type=click.Path(path_type=Path),
        metavar="FILE.gpkg", help="The GeoPackage to write (replaced if it exists).")
@click.pass_obj
def plan_export(ctx: Context, plan_id: int, output: Path) -> None:
    """PLAN_ID as a GeoPackage (EPSG:4490) to edit in QGIS and bring back with `gridmap plan
    import`."""
    from gridmap.plans.export import export_plan

    with ctx.session() as session:
        comparison = export_plan(session, plan_id, output)
    click.echo(str(msg("plan {plan} written to {path}: {grids} grids, {households} "
                       "households, layer grids in EPSG:4490", plan=plan_id, path=output,
                       grids=len(comparison.grids),
                       households=sum(g.households for g in comparison.grids))))


@plan.command("list")
@option("--community", default=None, metavar="CODE")
@click.pass_obj
def plan_list(ctx: Context, community: str | None) -> None:
    """Plans, newest first."""
    from gridmap.plans.drafts import STATUS_NAMES, list_plans, plan_version

    with ctx.session() as session:
        if community:
            version = plan_version(session, community)
            if version.changed_at:
                click.echo(str(msg("community {community}: grids at version {version}, changed "
                                   "by {who} at {when:%Y-%m-%d %H:%M}", community=community,
                                   version=version.version, who=version.changed_by,
                                   when=version.changed_at)))
            else:
                click.echo(str(msg("community {community}: grids at version {version}",
                                   community=community, version=version.version)))
        for p in list_plans(session, community):
            drafted = msg("drafted {when:%Y-%m-%d %H:%M} by {who}", when=p.created_at,
                          who=p.created_by)
            if p.applied_at:
                drafted = msg("{drafted} applied {when:%Y-%m-%d %H:%M} by {who}",
                              drafted=drafted, when=p.applied_at, who=p.applied_by)
            status = STATUS_NAMES.get(p.status, p.status)
            click.echo(f"{p.id}\t{p.community_code}\t{status}\t{p.title}\t{drafted}")


@plan.command("show")
@argument("plan_id", type=click.IntRange(1, 2 ** 31 - 1))
@option("--json", "as_json", is_flag=True, help="The comparison as JSON.")
@click.pass_obj
def plan_show(ctx: Context, plan_id: int, as_json: bool) -> None:
    """What PLAN_ID changes: its grids, the moves between grids, the validator's findings."""
    from gridmap.plans.compare import compare_plan
    from gridmap.plans.drafts import get_plan

    with ctx.session() as session:
        comparison = compare_plan(session, get_plan(session, plan_id))
    if as_json:
        click.echo(json.dumps(comparison.as_dict(), ensure_ascii=False, default=str))
        return
    click.echo(str(msg("draft grid\tkind\thouseholds\tbuildings\tPolsby–Popper")))
    for g in comparison.grids:
        click.echo(f"{g.position}\t{KIND_NAMES.get(g.kind, g.kind)}\t{g.households}\t"
                   f"{g.buildings}\t{g.polsby_popper}")
    click.echo(str(msg("moves (from current grid → draft grid: buildings, households):")))
    nowhere = msg("no grid")
    for m in comparison.moves:
        click.echo(f"  {m.from_code or nowhere} → {m.to_position or nowhere}: "
                   f"{m.buildings}, {m.households}")
    for v in comparison.violations:
        click.echo(f"{v.check}: {v.detail}")
    click.echo(str(msg("{count} finding(s)", count=len(comparison.violations))), err=True)


@plan.command("apply")
@argument("plan_id", type=click.IntRange(1, 2 ** 31 - 1))
@option("--comment", required=True, help="Why (kept in the plan and the audit trail).")
@click.pass_obj
def plan_apply(ctx: Context, plan_id: int, comment: str) -> None:
    """Make PLAN_ID its community's grids: new codes, retired codes, lineage."""
    from gridmap.plans.apply import apply_plan

    with ctx.session() as session:
        changes, _ = apply_plan(session, plan_id, comment=comment)
    none = msg("none")
    click.echo(str(msg("plan {plan} applied: {issued} code(s) issued ({issued_codes}), "
                       "{retired} retired ({retired_codes})", plan=plan_id,
                       issued=len(changes.inserted),
                       issued_codes=", ".join(changes.inserted) or none,
                       retired=len(changes.retired),
                       retired_codes=", ".join(changes.retired) or none)))


@plan.command("discard")
@argument("plan_id", type=click.IntRange(1, 2 ** 31 - 1))
@click.pass_obj
def plan_discard(ctx: Context, plan_id: int) -> None:
    """Set draft PLAN_ID aside."""
    from gridmap.plans.drafts import discard_plan

    with ctx.session() as session:
        discard_plan(session, plan_id)
    click.echo(str(msg("plan {plan} discarded", plan=plan_id)))


@group()
def grid() -> None:
    """The history of grids."""


@grid.command("history")
@argument("code")
@click.pass_obj
def grid_history_command(ctx: Context, code: str) -> None:
    """CODE's ancestors and descendants."""
    from gridmap.plans.history import grid_history

    with ctx.session() as session:
        found = grid_history(session, code)
    click.echo(json.dumps(found, ensure_ascii=False, indent=1))


@grid.command("at")
@argument("lon", type=float)
@argument("lat", type=float)
@option("--date", "date", default=None, metavar="YYYY-MM-DD", help="Default: now.")
@click.pass_obj
def grid_at_command(ctx: Context, lon: float, lat: float, date: str | None) -> None:
    """The grid that held LON LAT on a date."""
    import datetime as dt

    from gridmap.errors import NotFound
    from gridmap.plans.history import grid_at, parse_date

    when = parse_date(date) if date else dt.datetime.now(dt.timezone.utc)
    with ctx.session() as session:
        found = grid_at(session, lon, lat, when)
    if found is None:
        raise NotFound(msg("no grid held {lon}, {lat} at {when:%Y-%m-%d %H:%M %Z}", lon=lon,
                           lat=lat, when=when))
    click.echo(json.dumps(found, ensure_ascii=False))
