"""The official divisions (province → city → district → street → community) and their names.

Reference data, loaded by ``gridmap reference load`` (:mod:`gridmap.divisions`) from the
statistical division codes of the National Bureau of Statistics; not the managed hierarchy
(``district``, ``street``, ``community``), which carries geometry and may hold local names.
"""
from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gridmap.models.base import Base

DIVISION_LEVELS = ("province", "city", "district", "street", "community")
CODE_DIGITS = {"province": 2, "city": 4, "district": 6, "street": 9, "community": 12}


class Division(Base):
    """One official division: ``code`` (ASCII digits), ``level``, ``name``, ``parent_code``."""

    __tablename__ = "division"
    __table_args__ = (
        CheckConstraint(f"level in {DIVISION_LEVELS!r}", name="level"),
        CheckConstraint("code ~ '^[0-9]+$' and length(code) = case level "
                        + " ".join(f"when '{k}' then {v}" for k, v in CODE_DIGITS.items())
                        + " end", name="code_form"),
        CheckConstraint("(level = 'province') = (parent_code is null)", name="parent"),
    )
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    level: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("division.code"), index=True)
