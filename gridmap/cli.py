"""The ``gridmap`` command: the group, its subcommands (``gridmap/commands/``) and ``main``.
Errors print one line on stderr and exit non-zero, in the language of the environment
(``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` as gettext reads them; C/POSIX or unset
is English — :func:`gridmap.i18n.locale_from_environment`)."""
from __future__ import annotations

import os
import sys

import click

from gridmap.cli_help import group, option
from gridmap.config import load_settings
from gridmap.db import Timeouts
from gridmap.cli_context import Context
from gridmap.errors import GridmapError
from gridmap.i18n import (TRANSLATIONS, gettext as _, locale_from_environment, msg,
                          set_locale)


@group()
@option("--database-url", envvar="DATABASE_URL", default=None,
        help="PostGIS URL (default: $DATABASE_URL or the local gridmap database).")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None) -> None:
    """gridmap — community grid management (社区网格化管理)."""
    from gridmap.audit import Actor, acting_as

    ctx.obj = Context(database_url)
    # Every write of this command is in the audit trail under the operating-system user.
    ctx.with_resource(acting_as(Actor.command_line()))


# Subcommands live in gridmap/commands/, one module per area.
from gridmap.commands import audit as _audit, codes as _codes  # noqa: E402
from gridmap.commands import data as _data, database as _database, people as _people  # noqa: E402
from gridmap.commands import facilities as _facilities  # noqa: E402
from gridmap.commands import incidents as _incidents, partition as _partition  # noqa: E402
from gridmap.commands import plans as _plans, worker as _worker  # noqa: E402
from gridmap.commands import devices as _devices  # noqa: E402
from gridmap.commands import export as _export  # noqa: E402
from gridmap.commands import network as _network  # noqa: E402
from gridmap.commands import route as _route  # noqa: E402

for _command in (_database.db, _data.demo, _data.import_, _data.validate, _data.assign,
                 _audit.audit, _codes.code, _database.serve, _codes.reference, _people.user,
                 _people.apikey, _plans.plan, _plans.grid, _worker.worker, _worker.job,
                 _partition.partition, _incidents.taxonomy, _incidents.incident,
                 _incidents.dispatch, _facilities.facility, _devices.device,
                 _devices.ingest_mqtt, _devices.simulate_devices, _export.export,
                 _network.network, _route.route, _route.station, _route.visit):
    cli.add_command(_command)


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



def _click_speaks(locale: str) -> None:
    """click's own messages (usage errors, help headings) in the CLI's language.

    click translates them with the standard library's ``gettext.gettext`` in its default
    domain, ``messages``: bound to our catalogues, that finds their zh_CN entries. The standard
    library picks the language from the environment itself (``LANGUAGE``, ``LC_ALL``,
    ``LC_MESSAGES``, ``LANG``); binding only when our rule chose Chinese keeps C/POSIX English.
    """
    import gettext

    if locale != "en":
        gettext.bindtextdomain("messages", str(TRANSLATIONS))


def main() -> None:
    from gridmap.db import user_error_in

    _route_warnings()
    locale = locale_from_environment()
    set_locale(locale)
    _click_speaks(locale)
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        _fail(_("aborted"), 130)
    except click.exceptions.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "gridmap"
        _fail(str(msg("{command}: {problem} (see {command} --help)", command=where,
                      problem=exc.format_message())), exc.exit_code, prefix="")
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

    try:
        return Timeouts.batch(load_settings())
    except Exception:  # noqa: BLE001 — only for wording a message
        return None


def _internal(exc: Exception) -> None:
    if os.environ.get("GRIDMAP_DEBUG"):
        raise exc
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    _fail(str(msg("internal error ({type}): {first} — set GRIDMAP_DEBUG=1 for the traceback "
                  "and report it", type=type(exc).__name__, first=first)), 3)


if __name__ == "__main__":
    main()
