"""Context layers drawn under the grids and used by routing: roads and water.

Both come from the district's own imported data (OSM or agency files), keyed like buildings
by ``(source, source_id)``. Roads keep the OSM structure that routing needs: a bridge or a
tunnel does not meet what it crosses, and ``layer`` tells levels apart.
"""
from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gridmap.geo import STORAGE_SRID
from gridmap.models.base import Base


class Road(Base):
    """A road, path or footway (OSM ``highway=*``) as a multilinestring in CGCS2000."""

    __tablename__ = "road"
    __table_args__ = (UniqueConstraint("source", "source_id", name="road_source_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"), index=True)
    source: Mapped[str] = mapped_column(String(50))
    source_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32), default="road")
    name: Mapped[str | None] = mapped_column(String(200))
    bridge: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    tunnel: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    layer: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    geom = mapped_column(Geometry("MULTILINESTRING", srid=STORAGE_SRID, spatial_index=True),
                         nullable=False)


class Water(Base):
    """A water area (river bank, lake, pond) or a waterway line (river, canal, stream)."""

    __tablename__ = "water"
    __table_args__ = (
        UniqueConstraint("source", "source_id", name="water_source_key"),
        CheckConstraint("GeometryType(geom) in ('MULTIPOLYGON', 'MULTILINESTRING')",
                        name="area_or_line"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"), index=True)
    source: Mapped[str] = mapped_column(String(50))
    source_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32), default="water")
    name: Mapped[str | None] = mapped_column(String(200))
    geom = mapped_column(Geometry("GEOMETRY", srid=STORAGE_SRID, spatial_index=True),
                         nullable=False)
