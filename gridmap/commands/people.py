"""People and API keys: ``gridmap user …`` and ``gridmap apikey …``."""
from __future__ import annotations

import sys

import click

from gridmap.cli_help import argument, group, option
from gridmap.cli_context import Context
from gridmap.config import REPO_ROOT
from gridmap.errors import InvalidInput
from gridmap.i18n import msg
from gridmap.roles import ROLES

_ROLE_CHOICE = click.Choice(list(ROLES))


def _read_password(from_stdin: bool) -> str:
    """A new password: one line of standard input, or typed twice at a hidden prompt."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InvalidInput(msg("--password-stdin: standard input was empty; expected the "
                                   "password on one line"))
        return line.rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@group()
def user() -> None:
    """People who log in: add, list, disable, reset a password."""


@user.command("add")
@argument("name")
@option("--role", required=True, type=_ROLE_CHOICE, help="What the person does.")
@option("--grid", "grids", multiple=True, metavar="CODE", help="A grid (grid_worker).")
@option("--community", "communities", multiple=True, metavar="CODE",
        help="A community (community_admin).")
@option("--street", "streets", multiple=True, metavar="CODE",
        help="A street (planner, dispatcher, handler).")
@option("--district", "districts", multiple=True, metavar="CODE",
        help="A district (planner, dispatcher, handler).")
@option("--department", default=None, metavar="CODE",
        help="A handler's department (data/taxonomy/departments.csv); without one a handler "
             "handles the cases of every department in their area.")
@option("--display-name", default=None, help="Name shown in the interface.")
@option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def user_add(ctx: Context, name: str, role: str, grids: tuple[str, ...],
             communities: tuple[str, ...], streets: tuple[str, ...], districts: tuple[str, ...],
             department: str | None, display_name: str | None, password_stdin: bool) -> None:
    """Add person NAME with ROLE and the grids, communities, streets or districts they reach."""
    from gridmap.auth.people import (add_person, check_department, check_login,
                                     check_scopes_exist)
    from gridmap.auth.scope import check_role_levels

    scopes = ([("grid", c) for c in grids] + [("community", c) for c in communities]
              + [("street", c) for c in streets] + [("district", c) for c in districts])
    # Everything that can be checked is, before anyone types a password twice (and in a
    # transaction of its own: none stays open while the prompt waits).
    check_login(name)
    check_role_levels(role, (level for level, _ in scopes))
    with ctx.session() as session:
        check_scopes_exist(session, scopes)
        check_department(session, role, department)
    password = _read_password(password_stdin)
    with ctx.session() as session:
        person = add_person(session, name, role=role, password=password, scopes=scopes,
                            display_name=display_name, department=department,
                            settings=ctx.settings)
        click.echo(str(msg("added {login} ({role}: {scopes})", login=person.login, role=role,
                           scopes=", ".join(f"{lv} {c}" for lv, c in scopes))) if scopes
                   else str(msg("added {login} ({role})", login=person.login, role=role)))


@user.command("list")
@click.pass_obj
def user_list(ctx: Context) -> None:
    """Every person: login, role, state and scopes."""
    import datetime as dt

    from gridmap.auth.people import list_people

    now = dt.datetime.now(dt.timezone.utc)
    with ctx.session() as session:
        for p in list_people(session):
            state = ("disabled" if p.disabled else
                     f"locked until {p.locked_until:%Y-%m-%d %H:%M} UTC"
                     if p.locked_until and p.locked_until > now else "active")
            scopes = " ".join(f"{s.level}:{s.code}" for s in p.scopes) or "everything"
            click.echo(f"{p.login}\t{p.role}\t{state}\t{scopes}\t{p.display_name}")


@user.command("disable")
@argument("name")
@click.pass_obj
def user_disable(ctx: Context, name: str) -> None:
    """Disable NAME: they can no longer log in (their records stay)."""
    from gridmap.auth.people import disable_person

    with ctx.session() as session:
        disable_person(session, name)
    click.echo(str(msg("disabled {name}", name=name)))


@user.command("reset-password")
@argument("name")
@option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def user_reset_password(ctx: Context, name: str, password_stdin: bool) -> None:
    """Set a new password for NAME and lift any lockout."""
    from gridmap.auth.people import check_login, reset_password

    check_login(name)
    password = _read_password(password_stdin)
    with ctx.session() as session:
        reset_password(session, name, password, settings=ctx.settings)
    click.echo(str(msg("password of {name} reset", name=name)))


# --- API keys (issue 6): read-only access for other agencies ------------------------------

@group()
def apikey() -> None:
    """API keys for other agencies (read-only, sent in the X-API-Key header)."""


@apikey.command("add")
@argument("agency")
@option("--collections", required=True, metavar="NAME,…|all",
        help="Collections the key may read, separated by commas, or all.")
@click.pass_obj
def apikey_add(ctx: Context, agency: str, collections: str) -> None:
    """Issue a key for AGENCY; it is printed once, alone on the last line."""
    from gridmap.auth.keys import issue_key, known_collections, parse_collections

    names = parse_collections(collections, known=known_collections(REPO_ROOT))
    with ctx.session() as session:
        issued = issue_key(session, agency, names)
        click.echo(str(msg("key {id} for {agency} ({collections}); it is shown only now, "
                           "store it safely:", id=issued.key.id, agency=issued.key.agency,
                           collections=", ".join(names) if names else msg("all collections"))))
    click.echo(issued.secret)


@apikey.command("list")
@click.pass_obj
def apikey_list(ctx: Context) -> None:
    """Every key: id, shown prefix, agency, collections, state."""
    from gridmap.auth.keys import list_keys

    with ctx.session() as session:
        for k in list_keys(session):
            state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "live"
            click.echo(f"{k.id}\t{k.prefix}…\t{k.agency}\t"
                       f"{','.join(k.collections) if k.collections else 'all'}\t{state}")


@apikey.command("revoke")
@argument("key")
@click.pass_obj
def apikey_revoke(ctx: Context, key: str) -> None:
    """Revoke KEY (its id or shown prefix); it stops working at once."""
    from gridmap.auth.keys import revoke_key

    with ctx.session() as session:
        revoked = revoke_key(session, key.rstrip("…"))
        click.echo(str(msg("revoked key {id} ({prefix}…) of {agency}", id=revoked.id,
                           prefix=revoked.prefix, agency=revoked.agency)))
