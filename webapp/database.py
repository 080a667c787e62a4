"""One SQLAlchemy session per request, closed (and rolled back unless committed) at teardown.

The session's engine carries the web timeouts (:class:`gridmap.db.Timeouts.web`), and the
first use in a request checks the schema revision (one small query), so an unmigrated or
outdated database is a 503 that says what to run, not an error about a missing table.
"""
from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from gridmap.db import Timeouts, make_sessionmaker
from gridmap.schema import require_current_schema


def init_app(app: Flask) -> None:
    settings = app.config["GRIDMAP"]
    timeouts = Timeouts.web(settings)
    app.extensions["gridmap_timeouts"] = timeouts
    app.extensions["gridmap_sessionmaker"] = make_sessionmaker(settings["database_url"],
                                                               timeouts=timeouts)
    app.teardown_appcontext(_close)


def get_session(*, check_schema: bool = True) -> Session:
    """The request's session; the schema is checked once, on first use."""
    if "db_session" not in g:
        session = current_app.extensions["gridmap_sessionmaker"]()
        g.db_session = session
        if check_schema:
            require_current_schema(session)
    return g.db_session


def _close(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
