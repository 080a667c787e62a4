"""The audit trail: every write goes through :func:`record`.

Who is acting is ambient, not an argument threaded through every call: the edge that knows it
(the CLI, a web request, a job) sets it once with :func:`acting_as`, and every ``record`` in
that context names it. Rows are written in the caller's transaction, so a change and its
audit row commit or roll back together; the table refuses UPDATE, DELETE and TRUNCATE by
trigger (migration 0005), so the trail cannot be edited afterwards, not even by its owner.
"""
from __future__ import annotations

import datetime as dt
import getpass
import json
import socket
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridmap.errors import InvalidInput
from gridmap.i18n import msg
from gridmap.roles import ACTOR_KINDS

if TYPE_CHECKING:
    from gridmap.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who writes: ``kind`` is person, api_key, cli or system; ``name`` identifies them."""

    kind: str
    name: str
    address: str | None = None
    request_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ACTOR_KINDS:
            raise ValueError(f"actor kind {self.kind!r}: expected one of {', '.join(ACTOR_KINDS)}")

    @classmethod
    def command_line(cls) -> "Actor":
        """The operating-system user running a ``gridmap`` command, on this host."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        return cls("cli", f"{user}@{socket.gethostname()}")


SYSTEM = Actor("system", "gridmap")
_ACTOR: ContextVar[Actor] = ContextVar("gridmap_actor", default=SYSTEM)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Every :func:`record` inside the block names ``actor``."""
    token = _ACTOR.set(actor)
    try:
        yield actor
    finally:
        _ACTOR.reset(token)


def set_actor(actor: Actor) -> Token:
    """Name ``actor`` from here on (a web request's start); undo with :func:`reset_actor`."""
    return _ACTOR.set(actor)


def reset_actor(token: Token) -> None:
    """Undo :func:`set_actor` (a web request's end)."""
    try:
        _ACTOR.reset(token)
    except ValueError:  # set in another context: no actor must outlive its request
        _ACTOR.set(SYSTEM)


def current_actor() -> Actor:
    return _ACTOR.get()


def _jsonable(values: Mapping[str, Any] | None) -> dict | None:
    if values is None:
        return None
    # Dates, decimals and the like as text: the trail keeps what was written, readably.
    return json.loads(json.dumps(dict(values), ensure_ascii=False, default=str))


def record(session: Session, *, action: str, table: str, key: str | None = None,
           before: Mapping[str, Any] | None = None,
           after: Mapping[str, Any] | None = None) -> AuditEvent:
    """Add one audit row (in the caller's transaction) naming the current actor."""
    # the models are imported by what writes, not by every command that names its actor
    from gridmap.models import AuditEvent

    actor = current_actor()
    event = AuditEvent(actor_kind=actor.kind, actor=actor.name, address=actor.address,
                       request_id=actor.request_id, action=action, table_name=table,
                       row_key=None if key is None else str(key)[:200],
                       before=_jsonable(before), after=_jsonable(after))
    session.add(event)
    return event


def list_events(session: Session, *, since: dt.datetime | None = None, who: str | None = None,
                table: str | None = None, limit: int = 1000) -> list[AuditEvent]:
    """Events newest first, filtered by time, actor (substring) and table."""
    from gridmap.models import AuditEvent

    if limit < 1:
        raise InvalidInput(msg("limit {limit}: expected at least 1", limit=limit))
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if who:
        query = query.where(AuditEvent.actor.contains(who, autoescape=True))
    if table:
        query = query.where(AuditEvent.table_name == table)
    return list(session.execute(query).scalars())
