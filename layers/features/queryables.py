"""The queryables of a collection: its fields that a filter may name, each with its SQL and type.

Types come from PostgreSQL itself: the fields are selected once with ``limit 0`` and the type
of each column is read from the result's description, so a computed field (a grid code looked
up through a subquery) gets its type like a plain column, and the YAML never repeats what the
schema says. A field whose SQL depends on the caller's scope (``{grid_scope}``) is not
queryable: its value differs between callers. "Simple" fields are plain columns; the items
request takes them as ``NAME=VALUE`` parameters.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.errors import InvalidInput
from gridmap.i18n import msg
from layers.sql import SqlLayer

#: PostgreSQL type OIDs → JSON Schema type (and format).
_TYPES: dict[int, tuple[str, str | None]] = {
    16: ("boolean", None), 20: ("integer", None), 21: ("integer", None),
    23: ("integer", None), 700: ("number", None), 701: ("number", None),
    1700: ("number", None), 25: ("string", None), 1043: ("string", None),
    1042: ("string", None), 19: ("string", None), 1082: ("string", "date"),
    1114: ("string", "date-time"), 1184: ("string", "date-time"),
}
_INTEGER = re.compile(r"[-+]?[0-9]{1,18}")
_NUMBER = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]{1,3})?")
GEOMETRY = "geometry"


@dataclass(frozen=True)
class Queryable:
    """A field a filter may name: ``sql`` over the alias ``t``, JSON ``type`` and ``format``,
    and whether it is a plain column (``simple``)."""

    name: str
    sql: str
    type: str
    format: str | None
    simple: bool
    title: str

    def schema(self) -> dict[str, Any]:
        """Its JSON Schema, as the queryables document lists it."""
        out: dict[str, Any] = {"title": self.title, "type": self.type}
        if self.format:
            out["format"] = self.format
        return out

    def value(self, raw: str, parameter: str) -> Any:
        """``raw`` (a query parameter's text) as a value of this field's type.

        Raises
        ------
        InvalidInput
            When ``raw`` is not one, naming ``parameter`` and the type expected.
        """
        if self.type == "integer" and _INTEGER.fullmatch(raw):
            return int(raw)
        if self.type == "number" and _NUMBER.fullmatch(raw):
            return float(raw)
        if self.type == "boolean" and raw in ("true", "false"):
            return raw == "true"
        if self.type == "string" and self.format == "date":
            try:
                return dt.date.fromisoformat(raw)
            except ValueError:
                pass
        elif self.type == "string" and self.format == "date-time":
            try:
                return dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                pass
        elif self.type == "string":
            return raw
        raise InvalidInput(msg("{parameter} {raw!r}: expected {kind}", parameter=parameter,
                               raw=raw, kind=self.describe()))

    def describe(self) -> str:
        """The type in words, for messages."""
        return self.format or self.type


_CACHE: dict[tuple[str, str], dict[str, Queryable]] = {}


def queryables(session: Session, layer: SqlLayer) -> dict[str, Queryable]:
    """The queryables of ``layer``, by name (cached per table and layer: the schema changes
    only with a migration, which restarts the server)."""
    key = (layer.table, layer.name)
    if key not in _CACHE:
        _CACHE[key] = _discover(session, layer)
    return _CACHE[key]


def _discover(session: Session, layer: SqlLayer) -> dict[str, Queryable]:
    fields = [f for f in layer.fields if "{grid_scope}" not in f.get("sql", "")]
    if not fields:
        return {}
    exprs = [f.get("sql") or f"t.{f['name']}" for f in fields]
    result = session.execute(text(f"select {', '.join(exprs)} from {layer.table} t limit 0"))
    found: dict[str, Queryable] = {}
    for f, expr, column in zip(fields, exprs, result.cursor.description):
        kind = _TYPES.get(column.type_code)
        if kind is not None:
            found[f["name"]] = Queryable(f["name"], expr, kind[0], kind[1], "sql" not in f,
                                         str(f.get("label", f["name"])))
    result.close()
    return found


def parameter_filters(layer: SqlLayer, found: dict[str, Queryable]) -> dict[str, Queryable]:
    """What ``NAME=VALUE`` parameters an items request takes: the simple fields, and the
    layer's own filters (``district`` → ``district_code``) as text."""
    out = {name: q for name, q in found.items() if q.simple}
    for name, column in layer.filters.items():
        out.setdefault(name, Queryable(name, f"t.{column}", "string", None, True, name))
    return out


def check_property(found: dict[str, Queryable], name: str, parameter: str) -> Queryable:
    """The queryable ``name``; an unknown one is a 400 naming ``parameter`` and the known."""
    if name not in found:
        raise InvalidInput(msg("{parameter}: unknown property {name!r}; the queryables are "
                               "{items}", parameter=parameter, name=name,
                               items=", ".join([GEOMETRY, *sorted(found)])))
    return found[name]
