"""Engines with statement and lock timeouts, the session scope, and what database errors mean.

Every connection is opened with a statement timeout and a lock timeout (libpq ``options``), so
no request or command waits forever behind a lock or a runaway query: web requests get short
limits, CLI commands long ones (:class:`Timeouts`, from the settings). :func:`user_error` turns
the database failures a user can act on into :class:`~gridmap.errors.GridmapError` s, the one
place both the web app and the CLI ask. The caller commits; :func:`session_scope` commits on
success.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from gridmap.config import SETTINGS
from gridmap.errors import Conflict, DatabaseBusy, DatabaseUnavailable, GridmapError
from gridmap.i18n import msg

_DEFAULTS = {s.name: s.default for s in SETTINGS}
_QUERY_CANCELED = "57014"  # statement_timeout (or a cancel request)
_LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout


@dataclass(frozen=True)
class Timeouts:
    """Per-connection limits in milliseconds (PostgreSQL's ``statement_timeout`` and
    ``lock_timeout``), and whether statements may be JIT-compiled."""

    statement_ms: int = _DEFAULTS["statement_timeout_ms"]
    lock_ms: int = _DEFAULTS["lock_timeout_ms"]
    jit: bool = True

    @classmethod
    def web(cls, settings: Mapping[str, Any]) -> Timeouts:
        """Short limits for requests: answer 503 long before gunicorn's worker timeout. No
        JIT: PostgreSQL compiles a statement whose estimate passes ``jit_above_cost``, which
        costs a request 10–15 ms it never wins back (an items page of 1,000 buildings whose
        estimate crosses it took 18 ms instead of 7, measured 2026-12-05)."""
        return cls(settings["statement_timeout_ms"], settings["lock_timeout_ms"], jit=False)

    @classmethod
    def batch(cls, settings: Mapping[str, Any]) -> Timeouts:
        """Long limits for CLI commands (imports wait for each other's district locks)."""
        return cls(settings["batch_statement_timeout_ms"], settings["batch_lock_timeout_ms"])

    def libpq_options(self) -> str:
        return (f"-c statement_timeout={self.statement_ms} -c lock_timeout={self.lock_ms}"
                + ("" if self.jit else " -c jit=off"))


_ENGINES: dict[tuple[str, Timeouts, bool], Engine] = {}
#: A pooled connection idle longer than this is pinged before use (see :func:`get_engine`).
PING_AFTER_IDLE_S = 1.0


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only when it has been idle in the pool longer than
    :data:`PING_AFTER_IDLE_S`: a busy web server hands a connection from one request to the
    next within milliseconds, and a ping each time was a round trip per request. A dead
    connection is replaced by a fresh one (the pool retries on ``DisconnectionError``)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["gridmap_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("gridmap_idle_since", None)
        if since is None or time.monotonic() - since <= PING_AFTER_IDLE_S:
            return  # new, or back in the pool a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 — whatever the driver raises for a dead link
            raise DisconnectionError(str(exc)) from exc


def get_engine(url: str, *, timeouts: Timeouts | None = None,
               ping: str = "always") -> Engine:
    """One pooled engine per URL, timeouts, ping policy and process (engines are thread-safe).

    ``ping``: ``"always"`` pings each connection as it leaves the pool (commands, workers);
    ``"idle"`` only one that has waited there a while (the web app, see
    :func:`_ping_when_idle`)."""
    if ping not in ("always", "idle"):
        raise ValueError(f"ping {ping!r}: expected always or idle")
    key = (normalise_url(url), timeouts or Timeouts(), ping == "always")
    engine = _ENGINES.get(key)
    if engine is None:
        engine = create_engine(key[0], pool_pre_ping=key[2], connect_args={
            "connect_timeout": 5, "options": key[1].libpq_options()})
        if not key[2]:
            _ping_when_idle(engine)
        _ENGINES[key] = engine
    return engine


def dispose_engines(url: str) -> None:
    """Close and forget every engine of ``url`` (before dropping its database)."""
    target = normalise_url(url)
    for key in [k for k in _ENGINES if k[0] == target]:
        _ENGINES.pop(key).dispose()


def make_sessionmaker(url: str, *, timeouts: Timeouts | None = None,
                      ping: str = "always") -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url, timeouts=timeouts, ping=ping),
                        expire_on_commit=False)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def user_error(exc: DBAPIError, *, timeouts: Timeouts | None = None) -> GridmapError | None:
    """The error a database failure means to a user, or None when it is a bug of ours.

    A cancelled statement or an unavailable lock is :class:`DatabaseBusy` (try again); a
    connection that failed or was lost is :class:`DatabaseUnavailable`.
    """
    sqlstate = getattr(exc.orig, "sqlstate", None)
    limits = timeouts or Timeouts()
    if sqlstate == _QUERY_CANCELED:
        return DatabaseBusy(msg("a database statement ran longer than its limit of "
                                "{statement_ms} ms and was cancelled; try again shortly",
                                statement_ms=limits.statement_ms))
    if sqlstate == _LOCK_NOT_AVAILABLE:
        return DatabaseBusy(msg("the data is locked by another operation (e.g. an import) and "
                                "the lock was not free within {lock_ms} ms; try again shortly",
                                lock_ms=limits.lock_ms))
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        return DatabaseUnavailable(msg("database error: {error}",
                                       error=_first_line(exc.orig or exc)))
    return None


def user_error_in(exc: BaseException, *,
                  timeouts: Timeouts | None = None) -> GridmapError | None:
    """:func:`user_error` of the first database error in ``exc``'s chain of causes.

    Libraries wrap database errors in their own (pandas' ``read_sql`` raises a
    ``pandas.errors.DatabaseError`` from it), so the type of ``exc`` alone does not say.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError):
            return user_error(current, timeouts=timeouts)
        current = current.__cause__ or current.__context__
    return None


def check_connection(engine: Engine) -> None:
    """Raise :class:`DatabaseUnavailable` unless a round trip to the server succeeds."""
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except OperationalError as exc:
        raise DatabaseUnavailable(
            msg("cannot reach the database at {url}: {error}",
                url=engine.url.render_as_string(hide_password=True),
                error=_first_line(exc.orig or exc))) from exc


@contextmanager
def session_scope(url: str, *, timeouts: Timeouts | None = None) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    session = make_sessionmaker(url, timeouts=timeouts)()
    try:
        yield session
        session.commit()
    except IntegrityError as exc:
        # Writers lock what they check (gridmap.locks); a unique key taken in between by a
        # writer that does not is still a conflict to report, not an internal error.
        session.rollback()
        first = str(exc.orig or exc).strip().splitlines()[0]
        raise Conflict(msg("another change got there first ({first}); nothing was written — run "
                           "the command again", first=first)) from exc
    except DBAPIError as exc:
        session.rollback()
        meaning = user_error(exc, timeouts=timeouts)
        if meaning is None:
            raise
        raise meaning from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
