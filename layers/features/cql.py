"""CQL2 filters (OGC API – Features Part 3) as SQL with bound parameters.

pygeofilter parses the text or JSON encoding into an AST (with what gridmap adds to its
reading: :mod:`layers.features.cql_parse`); :class:`CqlToSql` walks it and writes
SQL over the table alias ``t``. Property names become the queryable's own SQL (from the layer
definition, never from the request); every literal becomes a bound parameter. An unknown
property, a literal of the wrong type for its property, an unsupported operator or anything
that does not parse is an :class:`~gridmap.errors.InvalidInput` naming the ``filter``
parameter, so an injection attempt can only ever be a 400.

Supported: comparison (= <> < <= > >=), LIKE, BETWEEN, IN, IS NULL, AND/OR/NOT, CASEI
(pygeofilter's ``lower``), and the spatial predicates S_INTERSECTS, S_DISJOINT, S_CONTAINS,
S_WITHIN, S_TOUCHES, S_CROSSES, S_OVERLAPS, S_EQUALS on the geometry against a geometry or
BBOX literal in ``filter-crs`` (CRS84 by default), and the fifteen temporal functions T_AFTER…
T_STARTS over instants and intervals (:mod:`layers.features.temporal`).
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pygeofilter import ast, values

from gridmap.errors import InvalidInput
from gridmap.i18n import msg
from layers.features.crs import FeatureCrs, check_area
from layers.features.cql_parse import parse_filter
from layers.features.queryables import GEOMETRY, Queryable, check_property
from layers.features.temporal import is_temporal, name_of, shown, temporal_sql

_COMPARISONS = {ast.Equal: "=", ast.NotEqual: "<>", ast.LessThan: "<", ast.LessEqual: "<=",
                ast.GreaterThan: ">", ast.GreaterEqual: ">="}
_SPATIAL = {"INTERSECTS": "ST_Intersects", "DISJOINT": "ST_Disjoint",
            "CONTAINS": "ST_Contains", "WITHIN": "ST_Within", "TOUCHES": "ST_Touches",
            "CROSSES": "ST_Crosses", "OVERLAPS": "ST_Overlaps", "EQUALS": "ST_Equals"}
PARAMETER = "filter"


class CqlToSql:
    """One filter's SQL: call :meth:`condition` with the AST; ``params`` holds the values."""

    def __init__(self, found: dict[str, Queryable], geometry_sql: str,
                 filter_crs: FeatureCrs) -> None:
        self.found = found
        self.geometry_sql = geometry_sql
        self.filter_crs = filter_crs
        self.params: dict[str, Any] = {}

    def _bind(self, value: Any) -> str:
        name = f"cql{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def condition(self, node: Any) -> str:
        """SQL for a boolean node."""
        if isinstance(node, ast.And):
            return f"({self.condition(node.lhs)} and {self.condition(node.rhs)})"
        if isinstance(node, ast.Or):
            return f"({self.condition(node.lhs)} or {self.condition(node.rhs)})"
        if isinstance(node, ast.Not):
            return f"(not {self.condition(node.sub_node)})"
        if isinstance(node, ast.Comparison):
            return self._comparison(node)
        if isinstance(node, ast.Like):
            prop, sql = self._property(node.lhs)
            self._check_type(prop, node.pattern, "LIKE")
            op = ("not " if node.not_ else "") + ("ilike" if node.nocase else "like")
            return f"({sql} {op} {self._bind(node.pattern)})"
        if isinstance(node, ast.Between):
            prop, sql = self._property(node.lhs)
            low, high = (self._literal(prop, v, "BETWEEN") for v in (node.low, node.high))
            return f"({sql} {'not ' if node.not_ else ''}between {low} and {high})"
        if isinstance(node, ast.In):
            prop, sql = self._property(node.lhs)
            items = ", ".join(self._literal(prop, v, "IN") for v in node.sub_nodes)
            return f"({sql} {'not ' if node.not_ else ''}in ({items}))"
        if isinstance(node, ast.IsNull):
            _, sql = self._property(node.lhs)
            return f"({sql} is {'not ' if node.not_ else ''}null)"
        if isinstance(node, ast.SpatialComparisonPredicate):
            return self._spatial(node)
        if is_temporal(node):
            return temporal_sql(node, self._property, self._bind)
        if isinstance(node, bool):
            return "true" if node else "false"
        raise InvalidInput(msg("filter: {what} is not supported; expected comparisons, LIKE, "
                               "BETWEEN, IN, IS NULL, AND/OR/NOT, S_* spatial and T_* "
                               "temporal functions",
                               what=name_of(node)))

    def _comparison(self, node: Any) -> str:
        op = _COMPARISONS[type(node)]
        if _is_property(node.rhs) and not _is_property(node.lhs):
            node = type(node)(node.rhs, node.lhs)  # literal first: mirror it
            op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
        prop, sql = self._property(node.lhs)
        if _is_property(node.rhs):
            other, other_sql = self._property(node.rhs)
            if other.type != prop.type:
                raise InvalidInput(msg("filter: {name} ({kind}) compared with {other} "
                                       "({other_kind})", name=prop.name, kind=prop.describe(),
                                       other=other.name, other_kind=other.describe()))
            return f"({sql} {op} {other_sql})"
        return f"({sql} {op} {self._literal(prop, node.rhs, op)})"

    def _property(self, node: Any) -> tuple[Queryable, str]:
        """A property (or CASEI of a text property) as its queryable and SQL."""
        if isinstance(node, ast.Function) and node.name == "lower" and len(node.arguments) == 1:
            prop, sql = self._property(node.arguments[0])
            if prop.type != "string" or prop.format:
                raise InvalidInput(msg("filter: CASEI({name}) needs a text property; {name} "
                                       "is {kind}", name=prop.name, kind=prop.describe()))
            return prop, f"lower({sql})"
        if not isinstance(node, ast.Attribute):
            raise InvalidInput(msg("filter: expected a property name where {what} was given",
                                   what=name_of(node)))
        if node.name == GEOMETRY:
            raise InvalidInput(msg("filter: the geometry can only be used in a spatial "
                                   "predicate (S_INTERSECTS…)"))
        prop = check_property(self.found, node.name, PARAMETER)
        return prop, f"({prop.sql})"

    def _check_type(self, prop: Queryable, value: Any, where: str) -> None:
        ok = {
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, (int, float)) and not isinstance(value, bool),
            "boolean": isinstance(value, bool),
        }.get(prop.type)
        if prop.type == "string":
            ok = (isinstance(value, dt.datetime) if prop.format == "date-time"
                  else isinstance(value, dt.date) and not isinstance(value, dt.datetime)
                  if prop.format == "date" else isinstance(value, str))
        if where == "LIKE":
            ok = prop.type == "string" and not prop.format and isinstance(value, str)
        if not ok:
            raise InvalidInput(msg("filter: {name} is {kind}; {value!r} ({where}) is not",
                                   name=prop.name, kind=prop.describe(), value=shown(value),
                                   where=where))

    def _literal(self, prop: Queryable, value: Any, where: str) -> str:
        if isinstance(value, ast.Function) and value.name == "lower" \
                and len(value.arguments) == 1 and isinstance(value.arguments[0], str):
            value = value.arguments[0].lower()  # CASEI('TEXT')
        if isinstance(value, (ast.Node, values.Geometry, values.Envelope, values.Interval)):
            raise InvalidInput(msg("filter: expected a literal value for {name} in {where}, "
                                   "not {what}", name=prop.name, where=where,
                                   what=name_of(value)))
        if isinstance(value, str) and prop.format in ("date", "date-time"):
            value = _as_time(value, prop.format)  # GDAL writes times as quoted text
        self._check_type(prop, value, where)
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        return self._bind(value)

    def _spatial(self, node: Any) -> str:
        lhs, rhs = node.lhs, node.rhs
        if not isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
            lhs, rhs = rhs, lhs
            if node.op.value in ("CONTAINS", "WITHIN"):
                node = {"CONTAINS": ast.GeometryWithin, "WITHIN": ast.GeometryContains}[
                    node.op.value](lhs, rhs)
        if not isinstance(lhs, ast.Attribute) or lhs.name != GEOMETRY:
            raise InvalidInput(msg("filter: a spatial predicate compares the property "
                                   "{geometry} with a geometry; got {what}",
                                   geometry=GEOMETRY, what=name_of(lhs)))
        geometry = self._geometry_literal(rhs)
        return f"{_SPATIAL[node.op.value]}({self.geometry_sql}, {geometry})"

    def _geometry_literal(self, node: Any) -> str:
        if isinstance(node, ast.Function) and node.name.lower() == "bbox" \
                and len(node.arguments) == 4:
            x0, y0, x1, y1 = node.arguments
            geojson = values.Envelope(x0, x1, y0, y1).geometry
        elif isinstance(node, (values.Geometry, values.Envelope)):
            geojson = node.geometry
        else:
            raise InvalidInput(msg("filter: expected a geometry literal (POINT, POLYGON…, "
                                   "BBOX) in the spatial predicate; got {what}",
                                   what=name_of(node)))
        wkb = _checked_geometry(geojson, self.filter_crs)
        geometry = f"ST_GeomFromWKB({self._bind(wkb)}, {self.filter_crs.srid})"
        if self.filter_crs.flip:
            geometry = f"ST_FlipCoordinates({geometry})"
        return f"ST_Transform({geometry}, 4490)"


def _checked_geometry(geojson: dict, crs: FeatureCrs) -> bytes:
    """The literal as WKB, once shapely has read it and its coordinates are finite (and
    within −180…180, −90…90 in a geographic CRS): PostGIS is never handed a malformed one."""
    import numpy as np
    import shapely
    from shapely.geometry import shape

    try:
        geometry = shape(json.loads(json.dumps(geojson, default=list)))
        coords = shapely.get_coordinates(geometry)
    except Exception:  # noqa: BLE001 — shapely's and GEOS's error classes
        raise InvalidInput(msg("filter: the geometry literal is not a valid geometry")) from None
    if geometry.is_empty or not np.isfinite(coords).all():
        raise InvalidInput(msg("filter: the geometry literal is empty or not finite"))
    xs, ys = (coords[:, 1], coords[:, 0]) if crs.flip else (coords[:, 0], coords[:, 1])
    check_area(msg("filter: the geometry literal"), crs,
               (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())))
    return shapely.to_wkb(geometry)


def _as_time(value: str, kind: str) -> Any:
    """A quoted date or date-time as the value it names; the text itself when it names none
    (refused then as of the wrong type)."""
    try:
        if kind == "date":
            return dt.date.fromisoformat(value)
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return value


def _is_property(node: Any) -> bool:
    """A property, or CASEI of one (a literal inside CASEI is a literal)."""
    if isinstance(node, ast.Function) and node.name == "lower" and len(node.arguments) == 1:
        return _is_property(node.arguments[0])
    return isinstance(node, ast.Attribute)


def filter_sql(raw: str, language: str | None, found: dict[str, Queryable], *,
               geometry_sql: str, filter_crs: FeatureCrs) -> tuple[str, dict[str, Any]]:
    """``raw`` in ``language`` as an SQL condition over alias ``t`` and its parameters."""
    translator = CqlToSql(found, geometry_sql, filter_crs)
    tree = parse_filter(raw, language)
    try:
        return translator.condition(tree), translator.params
    except RecursionError:
        raise InvalidInput(msg("filter nests too deeply")) from None
