"""``gridmap db upgrade|downgrade`` and ``gridmap serve``."""
from __future__ import annotations

import os
import sys

import click

from gridmap.cli_help import argument, command, group, option
from gridmap.cli_context import Context
from gridmap.config import REPO_ROOT
from gridmap.db import check_connection
from gridmap.errors import InvalidInput
from gridmap.i18n import msg


@group()
def db() -> None:
    """Database schema (Alembic migrations)."""


def _migrate(ctx: Context, direction: str, revision: str) -> None:
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
        raise InvalidInput(msg("{direction} {revision}: {exc}", direction=direction,
                               revision=revision, exc=exc)) from None
    with engine.connect() as conn:
        status = schema_status(conn)
    click.echo(str(msg("database at {revision} (code head {code})",
                       revision=status.database or "base", code=status.code)))


@db.command("upgrade")
@argument("revision", default="head")
@click.pass_obj
def db_upgrade(ctx: Context, revision: str) -> None:
    """Migrate the schema up to REVISION (default: head)."""
    _migrate(ctx, "upgrade", revision)


@db.command("downgrade")
@argument("revision")
@click.pass_obj
def db_downgrade(ctx: Context, revision: str) -> None:
    """Migrate the schema down to REVISION (``base`` removes every table)."""
    _migrate(ctx, "downgrade", revision)


@command()
@option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="HOST")
@option("--port", default=lambda: os.environ.get("PORT", "8000"), type=int,
        show_default="PORT")
@option("--workers", default=2, type=int, show_default=True)
@click.pass_obj
def serve(ctx: Context, host: str, port: int, workers: int) -> None:
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
