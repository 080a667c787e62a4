"""A layer read from one PostGIS table or view, as GeoJSON built by PostGIS."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.errors import ConfigurationError, InvalidInput, NotFound
from layers.base import Layer, LayerQuery

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def _ident(value: str, what: str, layer: str) -> str:
    if not isinstance(value, str) or not _IDENT.match(value):
        raise ConfigurationError(f"layer {layer}: {what} {value!r} is not a plain SQL name")
    return value


class SqlLayer(Layer):
    """Definition keys: ``table``, ``id``, ``geometry``, ``fields`` (name, label, optional
    ``sql`` expression over the table alias ``t``), ``filters`` (parameter → column),
    ``where`` (a fixed condition, e.g. active rows only)."""

    kind = "sql"

    def __init__(self, name: str, definition: dict[str, Any]) -> None:
        super().__init__(name, definition)
        self.table = _ident(definition["table"], "table", name)
        self.id_column = _ident(definition.get("id", "id"), "id", name)
        self.geometry = _ident(definition.get("geometry", "geom"), "geometry", name)
        self.filters = {k: _ident(v, "filter column", name)
                        for k, v in definition.get("filters", {}).items()}
        self.where = definition.get("where", "true")
        columns = []
        for f in self.fields:
            expr = f.get("sql") or f"t.{_ident(f['name'], 'field', name)}"
            columns.append(f"'{_ident(f['name'], 'field', name)}', {expr}")
        self._properties = f"json_build_object({', '.join(columns)})" if columns else "'{}'"

    def _select(self, condition: str, limit: bool) -> str:
        return f"""
            select json_build_object(
                'type', 'Feature', 'id', t.{self.id_column},
                'geometry', ST_AsGeoJSON(t.{self.geometry}, 7)::json,
                'properties', {self._properties}) as feature
            from {self.table} t
            where ({self.where}) and {condition}
            order by t.{self.id_column}
            {"limit :limit" if limit else ""}
        """

    def query(self, session: Session, query: LayerQuery) -> dict[str, Any]:
        conditions, params = ["true"], {"limit": query.limit + 1}
        for key, value in query.filters.items():
            if key not in self.filters:
                raise InvalidInput(f"layer {self.name} has no filter {key!r}; it has "
                                   f"{', '.join(sorted(self.filters)) or 'none'}")
            conditions.append(f"t.{self.filters[key]} = :f_{key}")
            params[f"f_{key}"] = value
        if query.bbox:
            conditions.append(f"t.{self.geometry} && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490)")
            params.update(dict(zip(("x0", "y0", "x1", "y1"), query.bbox)))
        rows = session.execute(text(self._select(" and ".join(conditions), True)),
                               params).scalars().all()
        truncated = len(rows) > query.limit
        return {"type": "FeatureCollection", "features": rows[:query.limit],
                "numberReturned": min(len(rows), query.limit), "truncated": truncated}

    def get(self, session: Session, feature_id: str) -> dict[str, Any]:
        row = session.execute(text(self._select(f"t.{self.id_column}::text = :id", False)),
                              {"id": str(feature_id)}).scalar()
        if row is None:
            raise NotFound(f"layer {self.name} has no feature {feature_id!r}")
        return row
