"""Alembic environment: the URL comes from the caller or DATABASE_URL, never from alembic.ini."""
from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import text

from gridmap.config import load_settings
from gridmap.db import get_engine
from gridmap.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("database_url") or load_settings()["database_url"]


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=target_metadata,
        include_object=alembic_helpers.include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    with get_engine(_url(), timeouts=config.attributes.get("timeouts")).connect() as conn:
        conn.execute(text("create extension if not exists postgis"))
        conn.commit()
        _configure(connection=conn)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
