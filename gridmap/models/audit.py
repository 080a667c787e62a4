"""The audit trail: one row per write, append-only in the database itself."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, DateTime, String, func
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gridmap.models.base import Base
from gridmap.roles import ACTOR_KINDS


class AuditEvent(Base):
    """Who (a person, an API key, a command-line user, the system) did what to which row,
    when, from where, with the values before and after. Rows are never updated or deleted:
    a trigger refuses it, for the table's owner and superusers too."""

    __tablename__ = "audit_event"
    __table_args__ = (CheckConstraint(f"actor_kind in {ACTOR_KINDS!r}", name="actor_kind"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                            index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200), index=True)
    address: Mapped[str | None] = mapped_column(INET)
    request_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    table_name: Mapped[str] = mapped_column(String(64), index=True)
    row_key: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[dict | None] = mapped_column(JSONB)
    after: Mapped[dict | None] = mapped_column(JSONB)
