"""The code registry (a code once issued is never issued again) and grid lineage."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (CheckConstraint, DateTime, ForeignKey, Integer, String,
                        UniqueConstraint, func)
from sqlalchemy.orm import Mapped, mapped_column

from gridmap.models.base import Base


class CodeRegistryEntry(Base):
    __tablename__ = "code_registry"
    __table_args__ = (CheckConstraint("status in ('issued', 'retired')", name="status"),
                      # One sequence number is one code: a 14- and a 15-digit code of the same
                      # community and sequence can never both be issued.
                      UniqueConstraint("community_code", "sequence",
                                       name="code_registry_sequence_key"))
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="issued")
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                   server_default=func.now())
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(String(200))


class GridLineage(Base):
    """Which grid a redrawn grid came from (many-to-many across a redraw)."""

    __tablename__ = "grid_lineage"
    parent_code: Mapped[str] = mapped_column(ForeignKey("code_registry.code"), primary_key=True)
    child_code: Mapped[str] = mapped_column(ForeignKey("code_registry.code"), primary_key=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                     server_default=func.now())
