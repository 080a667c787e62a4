"""The secret every server process signs sessions with, generated once and kept in the database.

A random key per process would make a session signed by one gunicorn worker invalid in the
next (the visitor is logged out at random); a key in a file works on one host only. The row is
created by the first process that needs it (``insert … on conflict do nothing``, so two
processes starting together agree on one key) and read by all. A key given in the settings
(``GRIDMAP_SECRET_KEY``) takes precedence; rotating the stored key is deleting the row, which
logs everyone out.
"""
from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gridmap.models import ServerSecret

SESSION_KEY = "session_signing_key"


def shared_secret(session: Session, name: str = SESSION_KEY) -> str:
    """The stored secret ``name``, created (256 random bits) if there is none yet. Commits."""
    session.execute(insert(ServerSecret).values(name=name, value=secrets.token_hex(32))
                    .on_conflict_do_nothing(index_elements=["name"]))
    value = session.execute(select(ServerSecret.value)
                            .where(ServerSecret.name == name)).scalar_one()
    session.commit()
    return value
