"""Draft plans: a community's grids as a planner proposes them, before they are applied.

A plan records the community's ``plan_version`` when it was drafted (``base_version``). The
version goes up each time the community's grids change (:func:`gridmap.grid.redraw.apply_grids`
is the one path), so applying a draft drafted against an older version is refused with who
changed the grids and when, and nothing is overwritten.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gridmap.models.base import Base, area_geometry
from gridmap.models.hierarchy import GRID_KINDS

PLAN_STATUSES = ("draft", "applied", "discarded")


class CommunityPlanVersion(Base):
    """How many times a community's active grids have changed, and the last change's who/when."""

    __tablename__ = "community_plan_version"
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    changed_by: Mapped[str | None] = mapped_column(String(200))
    changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Plan(Base):
    __tablename__ = "plan"
    __table_args__ = (CheckConstraint(f"status in {PLAN_STATUSES!r}", name="status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", server_default="draft")
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(200))
    base_version: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                    server_default=func.now())
    applied_by: Mapped[str | None] = mapped_column(String(200))
    applied_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(Text)
    grids: Mapped[list["PlanGrid"]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanGrid.position")


class PlanGrid(Base):
    __tablename__ = "plan_grid"
    __table_args__ = (CheckConstraint(f"kind in {GRID_KINDS!r}", name="kind"),
                      CheckConstraint("ST_IsValid(geom)", name="valid_geom"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(100))
    geom = mapped_column(area_geometry(), nullable=False)
    plan: Mapped[Plan] = relationship(back_populates="grids")
