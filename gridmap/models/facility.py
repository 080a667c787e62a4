"""Facilities (部件): city components with a 16-digit ID, their classes and serial counters.

The component taxonomy is data loaded from ``data/taxonomy/components.csv``
(:mod:`gridmap.facilities.taxonomy`); states are the four categories of
:data:`gridmap.facilities.ids.STATES`; IDs are issued by :mod:`gridmap.facilities.serials`
and never reused.
"""
from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import (Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String,
                        UniqueConstraint, func)
from sqlalchemy.orm import Mapped, mapped_column

from gridmap.facilities.ids import STATES
from gridmap.geo import STORAGE_SRID
from gridmap.models.base import Base


class ComponentClass(Base):
    """A minor component class: 4 digits, 2 major + 2 minor (GB/T 30428.2's scheme)."""

    __tablename__ = "component_class"
    __table_args__ = (CheckConstraint("code ~ '^[0-9]{4}$'", name="code"),
                      CheckConstraint("inspection_days > 0", name="inspection_days"))
    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    major_zh: Mapped[str] = mapped_column(String(50))
    major_en: Mapped[str] = mapped_column(String(100))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    department_code: Mapped[str] = mapped_column(ForeignKey("department.code"))
    inspection_days: Mapped[int] = mapped_column(Integer)


class FacilitySerial(Base):
    """The last serial issued per district and class: only ever grows, so a serial (and the
    ID it makes) is never issued twice, retired facilities included."""

    __tablename__ = "facility_serial"
    __table_args__ = (CheckConstraint("last_serial between 1 and 999999", name="last_serial"),)
    district_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    class_code: Mapped[str] = mapped_column(String(4), primary_key=True)
    last_serial: Mapped[int] = mapped_column(Integer)


class Facility(Base):
    """One city component.

    ``grid_id`` is the active grid covering its point (None: outside every grid, flagged,
    never dropped), kept current when grids are redrawn
    (:func:`gridmap.facilities.grids.refresh_facility_grids`). ``source``/``source_id`` name
    the record it was imported from, so a re-import updates it instead of adding another.
    """

    __tablename__ = "facility"
    __table_args__ = (
        CheckConstraint("id ~ '^[0-9]{16}$'", name="id"),
        CheckConstraint(f"state in {STATES!r}", name="state"),
        CheckConstraint("in_use = (retired_at is null)", name="retired"),
        CheckConstraint("photo_sha256 ~ '^[0-9a-f]{64}$'", name="photo_sha256"),
        CheckConstraint("substr(id, 1, 6) = district_code and substr(id, 7, 4) = class_code",
                        name="id_parts"),
        UniqueConstraint("source", "source_id", name="facility_source_key"))
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"), index=True)
    class_code: Mapped[str] = mapped_column(ForeignKey("component_class.code"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    owner_department: Mapped[str | None] = mapped_column(ForeignKey("department.code"))
    maintainer_department: Mapped[str | None] = mapped_column(ForeignKey("department.code"))
    state: Mapped[str] = mapped_column(String(16), default="intact", server_default="intact",
                                       index=True)
    in_use: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    installed_on: Mapped[dt.date | None] = mapped_column(Date)
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                       server_default=func.now())
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    photo_media_type: Mapped[str | None] = mapped_column(String(64))
    geom = mapped_column(Geometry("POINT", srid=STORAGE_SRID, spatial_index=True),
                         nullable=False)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), index=True)
    source: Mapped[str | None] = mapped_column(String(64))
    source_id: Mapped[str | None] = mapped_column(String(100))
