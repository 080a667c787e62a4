"""Draft plans and grid history: ``gridmap plan …`` and ``gridmap grid …``."""
from __future__ import annotations

import json
from pathlib import Path

import click

from gridmap.cli_context import Context


@click.group()
def plan() -> None:
    """Draft plans of a community's grids: import, list, show, apply, discard."""


@plan.command("import")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--community", required=True, metavar="CODE", help="The community (12 digits).")
@click.option("--title", default=None, help="A title for the draft (default: the file name).")
@click.option("--base-version", type=click.IntRange(0), default=None,
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
    click.echo(f"draft plan {draft.id} of community {community}: {len(draft.grids)} grids, "
               f"{len(comparison.violations)} finding(s); `gridmap plan show {draft.id}`")


@plan.command("list")
@click.option("--community", default=None, metavar="CODE")
@click.pass_obj
def plan_list(ctx: Context, community: str | None) -> None:
    """Plans, newest first."""
    from gridmap.plans.drafts import list_plans, plan_version

    with ctx.session() as session:
        if community:
            version = plan_version(session, community)
            changed = (f", changed by {version.changed_by} at "
                       f"{version.changed_at:%Y-%m-%d %H:%M}" if version.changed_at else "")
            click.echo(f"community {community}: grids at version {version.version}{changed}")
        for p in list_plans(session, community):
            applied = f" applied {p.applied_at:%Y-%m-%d %H:%M} by {p.applied_by}" \
                if p.applied_at else ""
            click.echo(f"{p.id}\t{p.community_code}\t{p.status}\t{p.title}\t"
                       f"drafted {p.created_at:%Y-%m-%d %H:%M} by {p.created_by}{applied}")


@plan.command("show")
@click.argument("plan_id", type=click.IntRange(1, 2 ** 31 - 1))
@click.option("--json", "as_json", is_flag=True, help="The comparison as JSON.")
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
    click.echo("draft grid\tkind\thouseholds\tbuildings\tPolsby–Popper")
    for g in comparison.grids:
        click.echo(f"{g.position}\t{g.kind}\t{g.households}\t{g.buildings}\t{g.polsby_popper}")
    click.echo("moves (from current grid → draft grid: buildings, households):")
    for m in comparison.moves:
        click.echo(f"  {m.from_code or 'no grid'} → {m.to_position or 'no grid'}: "
                   f"{m.buildings}, {m.households}")
    for v in comparison.violations:
        click.echo(f"{v.check}: {v.detail}")
    click.echo(f"{len(comparison.violations)} finding(s)", err=True)


@plan.command("apply")
@click.argument("plan_id", type=click.IntRange(1, 2 ** 31 - 1))
@click.option("--comment", required=True, help="Why (kept in the plan and the audit trail).")
@click.pass_obj
def plan_apply(ctx: Context, plan_id: int, comment: str) -> None:
    """Make PLAN_ID its community's grids: new codes, retired codes, lineage."""
    from gridmap.plans.apply import apply_plan

    with ctx.session() as session:
        changes, _ = apply_plan(session, plan_id, comment=comment)
    click.echo(f"plan {plan_id} applied: {len(changes.inserted)} code(s) issued "
               f"({', '.join(changes.inserted) or 'none'}), {len(changes.retired)} retired "
               f"({', '.join(changes.retired) or 'none'})")


@plan.command("discard")
@click.argument("plan_id", type=click.IntRange(1, 2 ** 31 - 1))
@click.pass_obj
def plan_discard(ctx: Context, plan_id: int) -> None:
    """Set draft PLAN_ID aside."""
    from gridmap.plans.drafts import discard_plan

    with ctx.session() as session:
        discard_plan(session, plan_id)
    click.echo(f"plan {plan_id} discarded")


@click.group()
def grid() -> None:
    """The history of grids."""


@grid.command("history")
@click.argument("code")
@click.pass_obj
def grid_history_command(ctx: Context, code: str) -> None:
    """CODE's ancestors and descendants."""
    from gridmap.plans.history import grid_history

    with ctx.session() as session:
        found = grid_history(session, code)
    click.echo(json.dumps(found, ensure_ascii=False, indent=1))


@grid.command("at")
@click.argument("lon", type=float)
@click.argument("lat", type=float)
@click.option("--date", "date", default=None, metavar="YYYY-MM-DD", help="Default: now.")
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
        raise NotFound(f"no grid held {lon}, {lat} at {when:%Y-%m-%d %H:%M %Z}")
    click.echo(json.dumps(found, ensure_ascii=False))
