"""Which part of a layer an export takes: one division unit, a bbox, or everything."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap import codes as gcodes
from gridmap.auth.scope import Scope
from gridmap.errors import Forbidden, InvalidInput, NotFound
from gridmap.i18n import msg

LEVELS = ("community", "street", "district")


@dataclass(frozen=True)
class Selection:
    """``level``/``code``: one community, street or district; ``bbox``: lon/lat (EPSG:4490)
    ``minx, miny, maxx, maxy``, already checked (``layers.LayerQuery.parse_bbox``)."""

    level: str | None = None
    code: str | None = None
    bbox: tuple[float, float, float, float] | None = None

    @classmethod
    def of(cls, *, community: str | None = None, street: str | None = None,
           district: str | None = None,
           bbox: tuple[float, float, float, float] | None = None) -> "Selection":
        """At most one of the four."""
        given = {k: v for k, v in (("community", community), ("street", street),
                                   ("district", district)) if v}
        if len(given) + (bbox is not None) > 1:
            raise InvalidInput(msg("give at most one of --community, --street, --district or "
                                   "--bbox"))
        if given:
            (level, code), = given.items()
            gcodes.check_division_code(code, level)
            return cls(level, code)
        return cls(bbox=bbox)

    def check(self, session: Session, scope: Scope) -> None:
        """The division exists and lies inside what ``scope`` sees."""
        if self.level is None:
            return
        if not scope.sees_division(self.code):
            raise Forbidden(msg("{key} {value} lies outside what {actor} may see",
                                key=self.level, value=self.code, actor=scope.actor))
        # The table name comes from LEVELS, never from the caller.
        found = session.execute(text(f"select 1 from {self.level} where code = :c"),
                                {"c": self.code}).scalar()
        if not found:
            raise NotFound(msg("{level} {code} is not loaded", level=self.level,
                               code=self.code))
