"""``gridmap audit``: the audit trail, newest first."""
from __future__ import annotations

import json

import click

from gridmap.cli_help import command, option
from gridmap.cli_context import Context
from gridmap.errors import InvalidInput
from gridmap.i18n import msg


@command()
@option("--since", default=None, metavar="YYYY-MM-DD[THH:MM]",
        help="Only events at or after this time (UTC unless an offset is given).")
@option("--who", default=None, help="Only events whose actor contains this text.")
@option("--table", default=None, help="Only events on this table or layer.")
@option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def audit(ctx: Context, since: str | None, who: str | None, table: str | None, limit: int,
          as_json: bool) -> None:
    """The audit trail, newest first: who changed what, when, from where."""
    import datetime as dt

    from gridmap.audit import list_events

    when = None
    if since:
        try:
            when = dt.datetime.fromisoformat(since)
        except ValueError:
            raise InvalidInput(msg("--since {since!r}: expected a date or time such as "
                                   "2026-11-24 or 2026-11-24T08:00", since=since)) from None
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
        click.echo(str(msg("{count} event(s)", count=len(events))), err=True)
