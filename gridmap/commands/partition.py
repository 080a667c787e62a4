"""``gridmap partition``: propose a draft plan for a community (or each community of a
street). Prints the grids and every violation; ``--json`` writes a GeoJSON FeatureCollection.
Stored grids are never changed (applying a plan is a separate step)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from gridmap.cli_help import argument, command, option
import shapely

from gridmap.cli_context import Context
from gridmap.commands.plans import KIND_NAMES
from gridmap.errors import InvalidInput
from gridmap.i18n import msg


def _features(plan, epsg: int) -> list[dict]:
    from gridmap.geo import WGS84_SRID, reproject

    out = []
    for grid in plan.grids:
        geometry = reproject(grid.geometry, epsg, WGS84_SRID)
        out.append({"type": "Feature", "geometry": shapely.geometry.mapping(geometry),
                    "properties": {"community_code": plan.community_code, "grid": grid.label,
                                   "kind": grid.kind, "households": grid.households,
                                   "buildings": int(len(grid.buildings)),
                                   "polsby_popper": round(grid.polsby_popper, 4)}})
    return out


def _table(plan) -> list[str]:
    lines = [str(msg("community {community}: {residential} residential and {unit} unit grids, "
                     "bounds {low}–{high}, {share:.0%} of the boundary between grids along "
                     "roads ({seconds:.2f} s)", community=plan.community_code,
                     residential=len(plan.residential),
                     unit=len(plan.grids) - len(plan.residential), low=plan.min_households,
                     high=plan.max_households, share=plan.street_share,
                     seconds=plan.seconds)),
             str(msg("  grid  kind         households buildings    PP"))]
    for g in plan.grids:
        # One message per row: a translation may order the columns (zh_CN puts the kind,
        # wider in Chinese characters, last so that the numbers stay aligned).
        lines.append(str(msg("  {grid:<5} {kind:<12} {households:>10} {buildings:>9} "
                             "{pp:>5.2f}", grid=g.label, kind=KIND_NAMES.get(g.kind, g.kind),
                             households=g.households, buildings=len(g.buildings),
                             pp=g.polsby_popper)))
    for v in plan.violations:
        lines.append(f"  [{v.check}] {v.detail}")
    if not plan.violations:
        lines.append(str(msg("  no violations")))
    return lines


@command()
@argument("community", required=False)
@option("--street", help="Partition every community of this street (9-digit code), "
                         "each inside its own boundary.")
@option("--min", "min_households", type=click.IntRange(min=1),
        help="Lowest household total of a residential grid (default: the district's).")
@option("--max", "max_households", type=click.IntRange(min=1),
        help="Highest household total of a residential grid (default: the district's).")
@option("--grids", type=click.IntRange(min=1), help="Exactly this many residential grids.")
@option("--seed", type=int, default=0, show_default=True,
        help="Seed of the random spanning trees (same seed, same plan).")
@option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False),
        help="Write the plan as a GeoJSON FeatureCollection (WGS 84 lon/lat).")
@option("--draft", is_flag=True,
        help="Keep each proposal as a draft plan (gridmap plan show/apply).")
@option("--background", is_flag=True,
        help="With --street: run as a background job (a `gridmap worker` runs it; "
             "`gridmap job show ID --follow` shows its progress); implies --draft.")
@click.pass_obj
def partition(ctx: Context, community: str | None, street: str | None,
              min_households: int | None, max_households: int | None, grids: int | None,
              seed: int, json_path: Path | None, draft: bool, background: bool) -> None:
    """Propose grids for COMMUNITY (12-digit code); exit 1 when the plan breaks a rule."""
    from gridmap.partition.load import street_communities
    from gridmap.partition.propose import keep_as_draft, propose

    if background:
        if street is None or json_path is not None:
            raise InvalidInput(msg("--background: expected --street CODE, without --json (the "
                                   "proposals are kept as draft plans)"))
        from gridmap.audit import current_actor
        from gridmap.jobs.queue import enqueue

        actor = current_actor()
        job_id = enqueue(ctx.url, "partition_street", requested_by=f"{actor.kind}:{actor.name}",
                         street=street, min_households=min_households,
                         max_households=max_households, seed=seed)
        click.echo(str(msg("job {job} queued: partition of street {street}; `gridmap job show "
                           "{job} --follow` shows its progress", job=job_id, street=street)))
        return
    if (community is None) == (street is None):
        raise InvalidInput(msg("got community {community!r} and --street {street!r}: expected "
                               "exactly one of them", community=community, street=street))
    if street is not None and grids is not None:
        raise InvalidInput(msg("--grids applies to one community, not to a --street"))
    if json_path is not None and not json_path.resolve().parent.is_dir():
        raise InvalidInput(msg("--json {path}: directory {folder} does not exist",
                               path=json_path, folder=json_path.parent))
    features, violations, failed = [], [], False
    with ctx.session() as session:
        codes = street_communities(session, street) if street else [community]
        for code in codes:
            proposal = propose(session, code, min_households=min_households,
                               max_households=max_households, grids=grids, seed=seed)
            plan = proposal.plan
            for line in _table(plan):
                click.echo(line)
            if draft:
                kept = keep_as_draft(session, proposal, seed=seed,
                                     tolerance_m=ctx.settings["containment_tolerance_m"])
                click.echo(str(msg("  kept as draft plan {plan} (gridmap plan show {plan})",
                                   plan=kept.id)))
            features += _features(plan, proposal.source.epsg)
            violations += [{**v.as_dict(), "community_code": code} for v in plan.violations]
            failed |= bool(plan.violations)
        if not draft:
            session.rollback()  # a proposal reads only
    if json_path is not None:
        json_path.write_text(json.dumps({"type": "FeatureCollection", "features": features,
                                         "violations": violations}, ensure_ascii=False),
                             encoding="utf-8")
        click.echo(str(msg("wrote {count} grids to {path}", count=len(features),
                           path=json_path)))
    sys.exit(1 if failed else 0)

