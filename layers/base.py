"""The layer contract: fields, ``query(bbox, filters, limit)`` and ``get(id)``."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from gridmap.errors import InvalidInput


@dataclass(frozen=True)
class LayerQuery:
    """A feature request parsed at the edge: bbox in lon/lat (EPSG:4490), filters, limit."""

    bbox: tuple[float, float, float, float] | None = None
    filters: dict[str, str] = field(default_factory=dict)
    limit: int = 1000

    @staticmethod
    def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
        if not raw:
            return None
        try:
            values = tuple(float(v) for v in raw.split(","))
        except ValueError:
            raise InvalidInput(f"bbox {raw!r}: expected four numbers "
                               f"minlon,minlat,maxlon,maxlat") from None
        if len(values) != 4 or values[0] > values[2] or values[1] > values[3]:
            raise InvalidInput(f"bbox {raw!r}: expected minlon,minlat,maxlon,maxlat with "
                               f"min ≤ max")
        if not (-180 <= values[0] <= 180 and -180 <= values[2] <= 180
                and -90 <= values[1] <= 90 and -90 <= values[3] <= 90):
            raise InvalidInput(f"bbox {raw!r}: longitudes −180…180, latitudes −90…90")
        return values  # type: ignore[return-value]


class Layer:
    """Base of every layer; subclasses implement :meth:`query` and :meth:`get`."""

    kind = "base"

    def __init__(self, name: str, definition: dict[str, Any]) -> None:
        self.name = name
        self.definition = definition
        self.title: str = definition.get("title", name)
        self.fields: list[dict[str, str]] = definition.get("fields", [])

    def describe(self) -> dict[str, Any]:
        """What the map needs to draw the layer (no SQL, no table names)."""
        keys = ("title", "style", "popup", "label", "min_zoom", "visible", "order", "filters")
        out = {k: self.definition[k] for k in keys if k in self.definition}
        out["name"] = self.name
        out["fields"] = self.fields
        if "filters" in out:
            out["filters"] = sorted(out["filters"])
        return out

    def query(self, session: Session, query: LayerQuery) -> dict[str, Any]:
        raise NotImplementedError

    def get(self, session: Session, feature_id: str) -> dict[str, Any]:
        raise NotImplementedError
