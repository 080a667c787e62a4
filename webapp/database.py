"""One SQLAlchemy session per request, closed (and rolled back unless committed) at teardown."""
from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from gridmap.db import make_sessionmaker


def init_app(app: Flask) -> None:
    app.extensions["gridmap_sessionmaker"] = make_sessionmaker(
        app.config["GRIDMAP"]["database_url"])
    app.teardown_appcontext(_close)


def get_session() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["gridmap_sessionmaker"]()
    return g.db_session


def _close(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
