"""One SQLAlchemy session per request, closed (and rolled back unless committed) at teardown.

The session's engine carries the web timeouts (:class:`gridmap.db.Timeouts.web`) and pings a
pooled connection only when it has been idle (:func:`gridmap.db.get_engine`). The first use in
a request checks the schema revision (one small query), so an unmigrated or outdated database
is a 503 that says what to run, not an error about a missing table; a process that found the
schema current trusts that for :data:`SCHEMA_TRUSTED_S` (a round trip a request saved), and
checks every request while it is not.
"""
from __future__ import annotations

import time

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from gridmap.db import Timeouts, make_sessionmaker
from gridmap.schema import require_current_schema

#: How long a process trusts a schema it found current (seconds).
SCHEMA_TRUSTED_S = 1.0


def init_app(app: Flask) -> None:
    settings = app.config["GRIDMAP"]
    timeouts = Timeouts.web(settings)
    app.extensions["gridmap_timeouts"] = timeouts
    app.extensions["gridmap_sessionmaker"] = make_sessionmaker(settings["database_url"],
                                                               timeouts=timeouts, ping="idle")
    app.extensions["gridmap_schema_current_until"] = 0.0
    app.teardown_appcontext(_close)


def get_session(*, check_schema: bool = True) -> Session:
    """The request's session; the schema is checked once, on first use."""
    if "db_session" not in g:
        session = current_app.extensions["gridmap_sessionmaker"]()
        g.db_session = session
        if check_schema and time.monotonic() >= current_app.extensions[
                "gridmap_schema_current_until"]:
            require_current_schema(session)
            current_app.extensions["gridmap_schema_current_until"] = (time.monotonic()
                                                                      + SCHEMA_TRUSTED_S)
    return g.db_session


def _close(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
