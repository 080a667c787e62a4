"""``gridmap partition``: propose a draft plan for a community (or each community of a
street). Prints the grids and every violation; ``--json`` writes a GeoJSON FeatureCollection.
Stored grids are never changed (applying a plan is a separate step)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import shapely

from gridmap.cli_context import Context
from gridmap.errors import InvalidInput


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
    lines = [f"community {plan.community_code}: {len(plan.residential)} residential and "
             f"{len(plan.grids) - len(plan.residential)} unit grids, bounds "
             f"{plan.min_households}–{plan.max_households}, {plan.street_share:.0%} of the "
             f"boundary between grids along roads ({plan.seconds:.2f} s)",
             f"  {'grid':<5} {'kind':<12} {'households':>10} {'buildings':>9} {'PP':>5}"]
    for g in plan.grids:
        lines.append(f"  {g.label:<5} {g.kind:<12} {g.households:>10} {len(g.buildings):>9} "
                     f"{g.polsby_popper:>5.2f}")
    for v in plan.violations:
        lines.append(f"  [{v.check}] {v.detail}")
    if not plan.violations:
        lines.append("  no violations")
    return lines


@click.command()
@click.argument("community", required=False)
@click.option("--street", help="Partition every community of this street (9-digit code), "
                               "each inside its own boundary.")
@click.option("--min", "min_households", type=click.IntRange(min=1),
              help="Lowest household total of a residential grid (default: the district's).")
@click.option("--max", "max_households", type=click.IntRange(min=1),
              help="Highest household total of a residential grid (default: the district's).")
@click.option("--grids", type=click.IntRange(min=1), help="Exactly this many residential grids.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the random spanning trees (same seed, same plan).")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the plan as a GeoJSON FeatureCollection (WGS 84 lon/lat).")
@click.pass_obj
def partition(ctx: Context, community: str | None, street: str | None,
              min_households: int | None, max_households: int | None, grids: int | None,
              seed: int, json_path: Path | None) -> None:
    """Propose grids for COMMUNITY (12-digit code); exit 1 when the plan breaks a rule."""
    from gridmap.partition import partition_community
    from gridmap.partition.load import load_community, street_communities

    if (community is None) == (street is None):
        raise InvalidInput(f"got community {community!r} and --street {street!r}: expected "
                           f"exactly one of them")
    if street is not None and grids is not None:
        raise InvalidInput("--grids applies to one community, not to a --street")
    if json_path is not None and not json_path.resolve().parent.is_dir():
        raise InvalidInput(f"--json {json_path}: directory {json_path.parent} does not exist")
    features, violations, failed = [], [], False
    with ctx.session() as session:
        codes = street_communities(session, street) if street else [community]
        for code in codes:
            source = load_community(session, code)
            low = min_households or source.min_households
            high = max_households or source.max_households
            if low > high:
                raise InvalidInput(f"--min {low} is above --max {high}: expected min ≤ max")
            plan = partition_community(source.community, min_households=low,
                                       max_households=high, grids=grids, epsg=source.epsg,
                                       seed=seed)
            for line in _table(plan):
                click.echo(line)
            features += _features(plan, source.epsg)
            violations += [{**v.as_dict(), "community_code": code} for v in plan.violations]
            failed |= bool(plan.violations)
        session.rollback()  # a proposal reads only
    if json_path is not None:
        json_path.write_text(json.dumps({"type": "FeatureCollection", "features": features,
                                         "violations": violations}, ensure_ascii=False),
                             encoding="utf-8")
        click.echo(f"wrote {len(features)} grids to {json_path}")
    sys.exit(1 if failed else 0)

