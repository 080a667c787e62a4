"""The walking network of a district (gridmap.routing): nodes, edges and what it was built
from. Replaced as a whole, in one transaction, by each ``gridmap network import``."""
from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import (BigInteger, CheckConstraint, DateTime, Float, ForeignKey, Integer,
                        SmallInteger, String, func)
from sqlalchemy.orm import Mapped, mapped_column

from gridmap.geo import STORAGE_SRID
from gridmap.models.base import Base


class WalkNetwork(Base):
    """One row per district with a walking network: its source, input digest and size."""

    __tablename__ = "walk_network"
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"), primary_key=True)
    built_from: Mapped[str] = mapped_column(String(300))
    digest: Mapped[str] = mapped_column(String(64))
    nodes: Mapped[int] = mapped_column(Integer)
    edges: Mapped[int] = mapped_column(Integer)
    components: Mapped[int] = mapped_column(Integer)
    built_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())


class WalkNode(Base):
    """A node: an end of a way or a vertex where ways of one level meet."""

    __tablename__ = "walk_node"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"), index=True)
    geom = mapped_column(Geometry("POINT", srid=STORAGE_SRID, spatial_index=True),
                         nullable=False)


class WalkEdge(Base):
    """A stretch of a way between two nodes; ``length_m`` in the district's projected CRS."""

    __tablename__ = "walk_edge"
    __table_args__ = (CheckConstraint("length_m >= 0", name="length_not_negative"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"), index=True)
    source: Mapped[int] = mapped_column(ForeignKey("walk_node.id", ondelete="CASCADE"),
                                        index=True)
    target: Mapped[int] = mapped_column(ForeignKey("walk_node.id", ondelete="CASCADE"),
                                        index=True)
    length_m: Mapped[float] = mapped_column(Float)
    level: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    road_id: Mapped[int | None] = mapped_column(Integer)
    geom = mapped_column(Geometry("LINESTRING", srid=STORAGE_SRID, spatial_index=True),
                         nullable=False)
