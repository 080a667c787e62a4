"""District → street → community → responsibility grid."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gridmap.models.base import Base, area_geometry

GRID_KINDS = ("residential", "unit")


class District(Base):
    """A county-level division (区/县) with its GB/T 2260 code and metric CRS."""

    __tablename__ = "district"
    __table_args__ = (
        CheckConstraint("projected_epsg between 4534 and 4554", name="gk_zone"),
        CheckConstraint("min_households > 0 and max_households >= min_households",
                        name="household_bounds"),
    )
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    projected_epsg: Mapped[int] = mapped_column(Integer)
    code_profile: Mapped[str] = mapped_column(String(16), default="gbt30428")
    min_households: Mapped[int] = mapped_column(Integer, default=250)
    max_households: Mapped[int] = mapped_column(Integer, default=500)
    geom = mapped_column(area_geometry(), nullable=False)
    streets: Mapped[list["Street"]] = relationship(back_populates="district")


class Street(Base):
    """A street (街道), town (镇) or township (乡); ``code`` is district + 3 digits."""

    __tablename__ = "street"
    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    geom = mapped_column(area_geometry(), nullable=False)
    district: Mapped[District] = relationship(back_populates="streets")
    communities: Mapped[list["Community"]] = relationship(back_populates="street")


class Community(Base):
    """A community (社区) or village (村); ``code`` is the street code + 3 digits."""

    __tablename__ = "community"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    street_code: Mapped[str] = mapped_column(ForeignKey("street.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    geom = mapped_column(area_geometry(), nullable=False)
    street: Mapped[Street] = relationship(back_populates="communities")
    grids: Mapped[list["Grid"]] = relationship(back_populates="community")


class Grid(Base):
    """A responsibility grid (责任网格). Retired grids keep their row with ``valid_to`` set."""

    __tablename__ = "grid"
    __table_args__ = (
        CheckConstraint(f"kind in {GRID_KINDS!r}", name="kind"),
        CheckConstraint("ST_IsValid(geom)", name="valid_geom"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"), index=True)
    street_code: Mapped[str] = mapped_column(ForeignKey("street.code"), index=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(100))
    households: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    building_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    valid_from: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                    server_default=func.now())
    valid_to: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    geom = mapped_column(area_geometry(), nullable=False)
    community: Mapped[Community] = relationship(back_populates="grids")

    __mapper_args__ = {"version_id_col": version}
