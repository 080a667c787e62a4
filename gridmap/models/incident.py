"""Incidents (事件/案件), their classes and handling departments, and each incident's steps.

The event taxonomy (classes with their time limit and default department) is data loaded
from ``data/taxonomy/`` (:mod:`gridmap.incidents.taxonomy`); stages are the few categories of
:mod:`gridmap.incidents.stages`.
"""
from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import (CheckConstraint, DateTime, Float, ForeignKey, Integer, Interval, String,
                        Text, UniqueConstraint, func)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gridmap.geo import STORAGE_SRID
from gridmap.incidents.stages import ACTIONS, Stage
from gridmap.models.base import Base

STAGES = tuple(s.value for s in Stage)
#: What a step records: the report, a note (no change of stage), or a transition's action.
STEP_ACTIONS = ("report", "note", *ACTIONS)


class Department(Base):
    """A department that handles incidents (城管执法局, 环卫, 市政, 交警 …)."""

    __tablename__ = "department"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))


class EventClass(Base):
    """A minor event class: 4 digits, 2 major + 2 minor (GB/T 30428.2's scheme)."""

    __tablename__ = "event_class"
    __table_args__ = (CheckConstraint("code ~ '^[0-9]{4}$'", name="code"),
                      CheckConstraint("time_limit_hours > 0", name="time_limit"))
    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    major_zh: Mapped[str] = mapped_column(String(50))
    major_en: Mapped[str] = mapped_column(String(100))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    time_limit_hours: Mapped[float] = mapped_column(Float)
    department_code: Mapped[str] = mapped_column(ForeignKey("department.code"))


class DispatchRule(Base):
    """One cell of the dispatch matrix (:mod:`gridmap.incidents.dispatch`): class × area →
    department."""

    __tablename__ = "dispatch_rule"
    __table_args__ = (
        UniqueConstraint("class_pattern", "area_code", name="dispatch_rule_key"),
        CheckConstraint("class_pattern ~ '^([*]|[0-9]{2}|[0-9]{4})$'", name="class_pattern"),
        CheckConstraint("area_code ~ '^([*]|[0-9]{6}|[0-9]{9}|[0-9]{12})$'", name="area_code"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_pattern: Mapped[str] = mapped_column(String(4))
    area_code: Mapped[str] = mapped_column(String(12))
    department_code: Mapped[str] = mapped_column(ForeignKey("department.code"))


class Incident(Base):
    """One reported incident and where it stands.

    ``reported_grid_id`` is the grid that held the location when it was reported, kept after
    a redraw (the grid holding it now is looked up by location). ``deadline`` is set at
    dispatch from the class's time limit in working hours; a deferral keeps the working time
    left (``time_left``) and the resumption sets a new deadline from it.
    """

    __tablename__ = "incident"
    __table_args__ = (CheckConstraint(f"stage in {STAGES!r}", name="stage"),
                      CheckConstraint("length(description) between 1 and 2000",
                                      name="description"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_code: Mapped[str] = mapped_column(ForeignKey("event_class.code"), index=True)
    stage: Mapped[str] = mapped_column(String(16), index=True)
    description: Mapped[str] = mapped_column(Text)
    location = mapped_column(Geometry("POINT", srid=STORAGE_SRID, spatial_index=True),
                             nullable=False)
    district_code: Mapped[str | None] = mapped_column(ForeignKey("district.code"), index=True)
    reported_grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), index=True)
    department_code: Mapped[str | None] = mapped_column(ForeignKey("department.code"))
    reported_by: Mapped[str] = mapped_column(String(200))
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                     server_default=func.now())
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    time_left: Mapped[dt.timedelta | None] = mapped_column(Interval)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    steps: Mapped[list["IncidentStep"]] = relationship(
        back_populates="incident", order_by="IncidentStep.id", cascade="all, delete-orphan")
    attachments: Mapped[list["IncidentAttachment"]] = relationship(
        order_by="IncidentAttachment.id", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


class IncidentStep(Base):
    """One transition of an incident: who took which action when, and why; or a ``note``
    that leaves the stage as it is (e.g. a device's alarm cleared)."""

    __tablename__ = "incident_step"
    __table_args__ = (CheckConstraint(f"action in {STEP_ACTIONS!r}", name="action"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"),
                                             index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    comment: Mapped[str | None] = mapped_column(Text)
    incident: Mapped[Incident] = relationship(back_populates="steps")


class IncidentAttachment(Base):
    """A photo (or other file) of an incident, stored under its SHA-256
    (:mod:`gridmap.incidents.attachments`)."""

    __tablename__ = "incident_attachment"
    __table_args__ = (CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256"),
                      CheckConstraint("size > 0", name="size"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"),
                                             index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(String(200))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                     server_default=func.now())
