"""Buildings: atomic household containers assigned to exactly one grid."""
from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gridmap.models.base import Base, area_geometry


class Building(Base):
    __tablename__ = "building"
    __table_args__ = (UniqueConstraint("source", "source_id", name="source_key"),
                      CheckConstraint("ST_IsValid(footprint)", name="valid_footprint"),
                      CheckConstraint("households >= 0", name="households"))
    id: Mapped[int] = mapped_column(primary_key=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"), index=True)
    source: Mapped[str] = mapped_column(String(50), default="manual")
    source_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    use: Mapped[str] = mapped_column(String(32), default="other")
    households: Mapped[int] = mapped_column(Integer, default=0)
    floors: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str | None] = mapped_column(String(200))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id", ondelete="SET NULL"),
                                                index=True)
    footprint = mapped_column(area_geometry(), nullable=False)
