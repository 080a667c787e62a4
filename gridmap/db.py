"""Engine and session scope. The caller commits; :func:`session_scope` commits on success."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from gridmap.errors import Conflict, DatabaseUnavailable

_ENGINES: dict[str, Engine] = {}


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def get_engine(url: str) -> Engine:
    """One pooled engine per URL and process (engines are thread-safe)."""
    key = normalise_url(url)
    engine = _ENGINES.get(key)
    if engine is None:
        engine = create_engine(key, pool_pre_ping=True,
                               connect_args={"connect_timeout": 5})
        _ENGINES[key] = engine
    return engine


def make_sessionmaker(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


def check_connection(engine: Engine) -> None:
    """Raise :class:`DatabaseUnavailable` unless a round trip to the server succeeds."""
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except OperationalError as exc:
        raise DatabaseUnavailable(
            f"cannot reach the database at {engine.url.render_as_string(hide_password=True)}: "
            f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}") from exc


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    session = make_sessionmaker(url)()
    try:
        yield session
        session.commit()
    except OperationalError as exc:
        session.rollback()
        raise DatabaseUnavailable(f"database error: {str(exc.orig or exc).strip()}") from exc
    except IntegrityError as exc:
        # Writers lock what they check (gridmap.locks); a unique key taken in between by a
        # writer that does not is still a conflict to report, not an internal error.
        session.rollback()
        first = str(exc.orig or exc).strip().splitlines()[0]
        raise Conflict(f"another change got there first ({first}); nothing was written — "
                       f"run the command again") from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
