"""Daily inspection routes (gridmap.inspection): each community's service station and working
day, the visits grid workers record, and the last plan made for each grid (kept so that the
next plan changes as little as it can)."""
from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import (BigInteger, CheckConstraint, Date, DateTime, Float, ForeignKey, Index,
                        Integer,
                        String, Text, Time, func)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gridmap.geo import STORAGE_SRID
from gridmap.models.base import Base


class RouteStation(Base):
    """A community's service station (where every route starts and ends) and its working day;
    a column left empty takes the setting of the same meaning."""

    __tablename__ = "route_station"
    __table_args__ = (
        CheckConstraint("day_minutes is null or day_minutes between 10 and 1440",
                        name="day_minutes"),
        CheckConstraint("building_days is null or building_days between 1 and 366",
                        name="building_days"),
    )
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), primary_key=True)
    geom = mapped_column(Geometry("POINT", srid=STORAGE_SRID, spatial_index=False),
                         nullable=False)
    day_minutes: Mapped[int | None] = mapped_column(Integer)
    day_start: Mapped[dt.time | None] = mapped_column(Time)
    building_days: Mapped[int | None] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                    server_default=func.now())


class RouteVisit(Base):
    """A stop a grid worker marked done: what (``stop`` = ``building:ID``, ``facility:ID`` or
    ``incident:ID``), in which grid, when, where the tablet was, and who."""

    __tablename__ = "route_visit"
    __table_args__ = (
        CheckConstraint("accuracy_m is null or accuracy_m >= 0", name="accuracy_m"),
        Index("ix_route_visit_stop_done_at", "stop", "done_at"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grid.id"), index=True)
    stop: Mapped[str] = mapped_column(String(40))
    done_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    position = mapped_column(Geometry("POINT", srid=STORAGE_SRID, spatial_index=False))
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    visited_by: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                     server_default=func.now())


class RoutePlan(Base):
    """The last plan made for a grid: from ``planned_on``, each day's stops in visiting order
    (``days``: a list of lists of stop keys); ``started_on`` is the grid's first plan (a stop
    never visited is due within its cycle from then)."""

    __tablename__ = "route_plan"
    grid_id: Mapped[int] = mapped_column(ForeignKey("grid.id"), primary_key=True)
    started_on: Mapped[dt.date] = mapped_column(Date)
    planned_on: Mapped[dt.date] = mapped_column(Date)
    days = mapped_column(JSONB, nullable=False)
    planned_by: Mapped[str] = mapped_column(String(200))
    planned_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                    server_default=func.now())
