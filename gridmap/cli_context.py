"""What every ``gridmap`` subcommand gets as its context object: the settings, the database
timeouts of batch work, and a checked session."""
from __future__ import annotations

import os

from gridmap import codes as gcodes
from gridmap.config import load_settings
from gridmap.db import Timeouts, check_connection, get_engine, session_scope
from gridmap.schema import require_current_schema


class Context:
    """Settings (checked at start), batch timeouts and a session on a current schema."""

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


