"""The walking network: ``gridmap network import|check``."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from gridmap.cli_context import Context
from gridmap.cli_help import argument, group, option
from gridmap.errors import InvalidInput
from gridmap.i18n import msg


@group()
def network() -> None:
    """The walking network of a district: import it, check it."""


def _check_path(path: Path | None) -> None:
    if path is not None and not path.is_file():
        raise InvalidInput(msg("{path}: no such file", path=path))


@network.command("import")
@argument("district")
@option("--file", "path", type=click.Path(path_type=Path), default=None,
        help="Read the ways from this file (OSM .osm/.pbf, GeoPackage…) instead of the "
             "district's imported roads.")
@option("--layer", default=None, help="Layer of ways inside a multi-layer file.")
@click.pass_obj
def network_import(ctx: Context, district: str, path: Path | None, layer: str | None) -> None:
    """Build the walking network of DISTRICT from its roads and footways and replace the
    stored one; reports the connected pieces, each with its size and a point of it."""
    from gridmap.routing.sources import ways_from_file, ways_from_roads
    from gridmap.routing.store import import_network

    _check_path(path)
    if path is not None:
        ways, built_from = ways_from_file(path, layer=layer), str(path)
    with ctx.session() as session:
        if path is None:
            ways, built_from = ways_from_roads(session, district), f"road:{district}"
        report = import_network(session, district, ways, built_from=built_from)
    for line in report.lines():
        click.echo(line)


@network.command("check")
@argument("district")
@option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
@click.pass_obj
def network_check(ctx: Context, district: str, as_json: bool) -> None:
    """Check the stored walking network of DISTRICT: its size and its connected pieces."""
    from gridmap.routing.store import check_network

    with ctx.session() as session:
        report = check_network(session, district)
    if as_json:
        click.echo(json.dumps(asdict(report), ensure_ascii=False))
        return
    for line in report.lines():
        click.echo(line)
