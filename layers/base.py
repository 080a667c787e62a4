"""The layer contract: fields, ``query(bbox, filters, limit)`` and ``get(id)``, each within a
caller's :class:`~gridmap.auth.scope.Scope`."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from gridmap.auth.scope import Scope
from gridmap.errors import Forbidden, InvalidInput, NotFound
from gridmap.i18n import msg
from layers.catalogue import translated

_DECIMAL = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]{1,3})?")


@dataclass(frozen=True)
class LayerQuery:
    """A feature request parsed at the edge: bbox in lon/lat (EPSG:4490), filters, limit."""

    bbox: tuple[float, float, float, float] | None = None
    filters: dict[str, str] = field(default_factory=dict)
    limit: int = 1000

    @staticmethod
    def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
        """``minlon,minlat,maxlon,maxlat`` as four floats; decimal numbers in ASCII only
        (``float`` also takes '١٢', 'nan', 'inf' and '1_0')."""
        if not raw:
            return None
        parts = raw.split(",")
        if not all(_DECIMAL.fullmatch(p.strip()) for p in parts):
            raise InvalidInput(msg("bbox {raw!r}: expected four numbers "
                                   "minlon,minlat,maxlon,maxlat", raw=raw)) from None
        values = tuple(float(p) for p in parts)
        if len(values) != 4 or values[0] > values[2] or values[1] > values[3]:
            raise InvalidInput(msg("bbox {raw!r}: expected minlon,minlat,maxlon,maxlat with "
                                   "min ≤ max", raw=raw))
        if not (-180 <= values[0] <= 180 and -180 <= values[2] <= 180
                and -90 <= values[1] <= 90 and -90 <= values[3] <= 90):
            raise InvalidInput(msg("bbox {raw!r}: longitudes −180…180, latitudes −90…90",
                                   raw=raw))
        return values  # type: ignore[return-value]


class Layer:
    """Base of every layer; subclasses implement :meth:`query` and :meth:`get`."""

    kind = "base"

    def __init__(self, name: str, definition: dict[str, Any]) -> None:
        self.name = name
        self.definition = definition
        self.title: str = definition.get("title", name)
        self.fields: list[dict[str, str]] = definition.get("fields", [])

    #: What the map may learn of a definition: names, labels and styles. Everything else
    #: (table, where, the SQL of computed fields) stays on the server.
    PUBLIC_KEYS = ("title", "style", "popup", "label", "legend", "min_zoom", "visible",
                   "order")

    def describe(self, locale: str | None = None) -> dict[str, Any]:
        """What the map needs to draw the layer: names, labels, styles; no SQL, no tables.
        Titles and labels are in ``locale`` (default: the locale in force)."""
        definition = translated(self.definition, locale)
        out = {k: definition[k] for k in self.PUBLIC_KEYS if k in definition}
        out["name"] = self.name
        out["fields"] = [{"name": f["name"], "label": f.get("label", f["name"])}
                         for f in definition.get("fields", [])]
        out["filters"] = sorted(self.definition.get("filters") or {})
        if (self.definition.get("tiles") or {}).get("map"):  # drawn from vector tiles
            out["tiles"] = f"/tiles/{self.name}/{{z}}/{{x}}/{{y}}.mvt"
        return out

    def check_collection(self, scope: Scope) -> None:
        """Refuse a caller whose scope does not include this collection."""
        if not scope.allows_collection(self.name):
            raise Forbidden(msg("collection {name} is not among those {actor} may read",
                                name=self.name, actor=scope.actor))

    def query(self, session: Session, query: LayerQuery, *, scope: Scope) -> dict[str, Any]:
        """Features matching ``query`` that ``scope`` reaches, as a FeatureCollection."""
        raise NotImplementedError

    def get(self, session: Session, feature_id: str, *, scope: Scope) -> dict[str, Any]:
        """One feature; NotFound if it does not exist, Forbidden if outside ``scope``."""
        raise NotImplementedError

    def labels(self, session: Session, query: LayerQuery, *, scope: Scope) -> dict[str, Any]:
        """The label points of the features matching ``query`` (:mod:`layers.labels`)."""
        raise NotFound(msg("layer {name} has no labels", name=self.name))

    def tile_query(self, address: Any, scope: Scope) -> tuple[str, dict[str, Any]]:
        """The SQL of this layer's vector tile at ``address`` as ``scope`` sees it
        (:mod:`layers.tiles`); :class:`layers.sql.SqlLayer` implements it."""
        raise NotImplementedError(f"layer kind {self.kind} has no vector tiles")

    def export_source(self, scope: Scope, selection: Any) -> Any:
        """The rows ``scope`` reaches inside ``selection`` (a :class:`gridmap.export.Selection`)
        as a :class:`gridmap.export.ExportSource`; every layer kind that can be exported
        implements it (:class:`layers.sql.SqlLayer` does)."""
        raise NotImplementedError(f"layer kind {self.kind} cannot be exported")
