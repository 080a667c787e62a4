"""A layer read from one PostGIS table or view, as GeoJSON built by PostGIS.

Geometries leave as RFC 7946 asks: no ``crs`` member (coordinates are lon, lat in CGCS2000,
within a metre of WGS 84), exterior rings counter-clockwise and holes clockwise
(``ST_ForcePolygonCCW``; ``ST_ForceRHR`` is the opposite), no repeated consecutive vertex,
and coordinates of at most :data:`DECIMALS` decimals (≈1 cm). Rounding alone makes some
polygons invalid (a narrow part collapses, a ring touches itself: 4 of the demo's 234
buildings), so every geometry is snap-rounded with ``ST_ReducePrecision``, which keeps it
valid. A cheaper path (``ST_SnapToGrid``, falling back when the result is invalid) was tried
and rejected: its coordinates are ``k * 1e-7``, not the doubles nearest to the printed
decimals, so a geometry valid in PostGIS could be invalid once a client parsed the text
(found by the property test in ``tests/webapp/test_geojson.py``).
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.auth.scope import Scope
from gridmap.errors import ConfigurationError, Forbidden, InvalidInput, NotFound
from gridmap.i18n import msg
from gridmap.export import ExportSource, Selection
from layers.base import Layer, LayerQuery
from layers.labels import label_query
from layers.scoping import grid_scope, parse_scope, scope_condition

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
DECIMALS = 7
#: Filters naming a division unit: outside the caller's scope they are a 403, not an empty list.
DIVISION_FILTERS = ("community", "street", "district")
#: The keys of a field's ``lookup`` (see :class:`SqlLayer`).
LOOKUP_KEYS = ("table", "column", "key", "by")


def geojson_geometry(column: str, *, srid: int | None = None, flip: bool = False,
                     decimals: int = DECIMALS) -> str:
    """SQL for the RFC 7946 GeoJSON geometry of ``column`` (see the module docstring), as
    ``json``: :func:`geojson_text`'s arguments."""
    return f"{geojson_text(column, srid=srid, flip=flip, decimals=decimals)}::json"


def geojson_text(column: str, *, srid: int | None = None, flip: bool = False,
                 decimals: int = DECIMALS) -> str:
    """SQL for the RFC 7946 GeoJSON geometry of ``column`` as ``text`` (no ``json`` cast, which
    would parse it again: a page of features is assembled as text).

    Snap-rounding returns a one-part multi-geometry as a single part; ``ST_Multi`` keeps the
    column's type (a MultiPolygon stays one). OGC API – Features Part 2 asks for other CRSs:
    ``srid`` transforms first, ``flip`` swaps the axes last (latitude or northing first),
    ``decimals`` is the precision in the CRS's unit.
    """
    source = column if srid is None else f"ST_Transform({column}, {srid})"
    cleaned = (f"ST_ForcePolygonCCW(ST_RemoveRepeatedPoints("
               f"ST_ReducePrecision({source}, 1e-{decimals})))")
    keep_type = (f"case when starts_with(ST_GeometryType({column}), 'ST_Multi') "
                 f"then ST_Multi({cleaned}) else {cleaned} end")
    if flip:
        keep_type = f"ST_FlipCoordinates({keep_type})"
    # The last argument (options) 0: no crs member, no bbox.
    return f"ST_AsGeoJSON({keep_type}, {decimals}, 0)"


def _ident(value: str, what: str, layer: str) -> str:
    if not isinstance(value, str) or not _IDENT.match(value):
        raise ConfigurationError(msg("layer {layer}: {what} {value!r} is not a plain SQL name",
                                     layer=layer, what=what, value=value))
    return value


def _with_lookup_sql(field: dict[str, Any], layer: str) -> dict[str, Any]:
    """``field`` with the ``sql`` of its ``lookup`` (a correlated subselect, what a query of a
    few rows wants; an export joins instead, see :meth:`SqlLayer.export_source`)."""
    if "lookup" not in field:
        return field
    lookup = field["lookup"]
    if not isinstance(lookup, dict) or set(lookup) != set(LOOKUP_KEYS):
        raise ConfigurationError(msg("layer {layer}: field {name}: lookup {value!r}; expected "
                                     "{items}", layer=layer, name=field.get("name"),
                                     value=lookup, items=", ".join(LOOKUP_KEYS)))
    table, column, key, by = (_ident(lookup[k], f"lookup {k}", layer) for k in LOOKUP_KEYS)
    return {**field, "sql": f"(select l.{column} from {table} l where l.{key} = t.{by})"}


class SqlLayer(Layer):
    """Definition keys: ``table``, ``id``, ``geometry``, ``fields`` (name, label, optional
    ``sql`` expression over the table alias ``t``, or ``lookup``: ``{table, column, key, by}``,
    the ``column`` of the row of ``table`` whose unique ``key`` equals this row's ``by``),
    ``filters`` (parameter → column),
    ``where`` (a fixed condition, e.g. active rows only), ``scope`` (how rows relate to the
    grid hierarchy, see :mod:`layers.scoping`), ``tiles`` (vector tiles: ``geometry_3857``, a
    stored Web Mercator column; ``fields``, more fields in the tiles; ``map: true``, the web
    map draws the layer from tiles — see :mod:`layers.tiles`), ``geojson`` (a stored text
    column holding :func:`geojson_geometry` of the geometry, e.g. a generated column, read
    instead of computing it whenever the CRS84 GeoJSON is asked for)."""

    kind = "sql"

    def __init__(self, name: str, definition: dict[str, Any]) -> None:
        super().__init__(name, definition)
        self.table = _ident(definition["table"], "table", name)
        self.id_column = _ident(definition.get("id", "id"), "id", name)
        self.id_type = definition.get("id_type", "text")
        if self.id_type not in ("text", "integer"):
            raise ConfigurationError(msg("layer {name}: id_type {id_type!r}; expected text or "
                                         "integer", name=name, id_type=self.id_type))
        self.geometry = _ident(definition.get("geometry", "geom"), "geometry", name)
        self.geojson_column = (_ident(definition["geojson"], "geojson", name)
                               if definition.get("geojson") else None)
        self.filters = {k: _ident(v, "filter column", name)
                        for k, v in definition.get("filters", {}).items()}
        self.where = definition.get("where", "true")
        if "scope" not in definition:
            raise ConfigurationError(msg("layer {name}: no scope; expected scope: grid, "
                                         "division, public or {{grid_id: COLUMN}} (see "
                                         "layers/scoping.py)", name=name))
        self.scope_kind, self.scope_column = parse_scope(definition["scope"], name, _ident)
        self.fields = [_with_lookup_sql(f, name) for f in self.fields]
        columns = []
        for f in self.fields:
            expr = f.get("sql") or f"t.{_ident(f['name'], 'field', name)}"
            columns.append(f"'{_ident(f['name'], 'field', name)}', {expr}")
        self._properties = f"json_build_object({', '.join(columns)})" if columns else "'{}'"

    def _select(self, condition: str, limit: bool, scope: Scope) -> tuple[str, dict[str, Any]]:
        """The query, with every field's ``{grid_scope}`` (grids of alias ``g``) filled in."""
        fields_scope, params = grid_scope("g", scope)
        properties = self._properties.replace("{grid_scope}", f"({fields_scope})")
        return f"""
            select json_build_object(
                'type', 'Feature', 'id', t.{self.id_column},
                'geometry', {self.geojson_sql()},
                'properties', {properties}) as feature
            from {self.table} t
            where ({self.where}) and {condition}
            order by t.{self.id_column}
            {"limit :limit" if limit else ""}
        """, params

    def geojson_sql(self, *, srid: int | None = None, flip: bool = False,
                    decimals: int = DECIMALS) -> str:
        """SQL over alias ``t`` for the GeoJSON geometry as ``json`` (:meth:`geojson_text_sql`)."""
        return f"({self.geojson_text_sql(srid=srid, flip=flip, decimals=decimals)})::json"

    def geojson_text_sql(self, *, srid: int | None = None, flip: bool = False,
                         decimals: int = DECIMALS) -> str:
        """SQL over alias ``t`` for the GeoJSON geometry as text (:func:`geojson_text`'s
        arguments): the stored column (definition key ``geojson``) when it holds what is asked
        for — the stored CRS, x first, :data:`DECIMALS` decimals — else computed."""
        if self.geojson_column and srid is None and not flip and decimals == DECIMALS:
            return f"t.{self.geojson_column}"
        return geojson_text(f"t.{self.geometry}", srid=srid, flip=flip, decimals=decimals)

    def _scoped(self, scope: Scope) -> tuple[str, dict[str, Any]]:
        self.check_collection(scope)
        return scope_condition(self.scope_kind, self.scope_column, self.id_column, scope)

    def scoped_condition(self, scope: Scope) -> tuple[str, dict[str, Any]]:
        """SQL over alias ``t`` keeping the rows ``scope`` reaches, with the layer's own
        ``where``; Forbidden when the collection is not the caller's."""
        condition, params = self._scoped(scope)
        return f"({self.where}) and {condition}", params

    def properties_sql(self, scope: Scope) -> tuple[str, dict[str, Any]]:
        """The ``json_build_object`` of the fields over alias ``t``, totals over grids cut to
        ``scope`` (``{grid_scope}``), and its parameters."""
        fields_scope, params = grid_scope("g", scope)
        return self._properties.replace("{grid_scope}", f"({fields_scope})"), params

    def properties_text_sql(self, scope: Scope, bare: frozenset[str] = frozenset()
                            ) -> tuple[str, dict[str, Any]]:
        """The properties object of :meth:`properties_sql` as ``text``, assembled field by
        field: a ``json_build_object`` works out each argument's type again on every call,
        which was a sixth of an items page's time. ``bare`` names the fields whose text is
        already their JSON (whole numbers, booleans); the others go through ``to_json``."""
        fields_scope, params = grid_scope("g", scope)
        if not self.fields:
            return "'{}'", params
        parts = []
        for i, f in enumerate(self.fields):
            expr = self.field_sql(f["name"], fields_scope)
            value = f"({expr})::text" if f["name"] in bare else f"to_json({expr})::text"
            parts.append(f"""'{"," if i else "{"}"{f["name"]}":' || coalesce({value}, 'null')""")
        return " || ".join(parts) + " || '}'", params

    def tile_query(self, address: Any, scope: Scope) -> tuple[str, dict[str, Any]]:
        """The statement of this layer's vector tile at ``address`` (:mod:`layers.tiles`)."""
        from layers.tiles import tile_query

        return tile_query(self, address, scope)

    def field_sql(self, name: str, fields_scope: str) -> str:
        """The SQL of field ``name`` over alias ``t``, totals over the grids of
        ``fields_scope`` (the SQL of :func:`layers.scoping.grid_scope`)."""
        field = next(f for f in self.fields if f["name"] == name)
        return (field.get("sql") or f"t.{name}").replace("{grid_scope}", f"({fields_scope})")

    def _matching(self, query: LayerQuery, scope: Scope) -> tuple[str, dict[str, Any]]:
        """The condition over alias ``t`` of the rows ``scope`` reaches that match ``query``'s
        filters and bbox (``:limit`` bound to one more than its limit)."""
        condition, params = self._scoped(scope)
        conditions = [condition]
        params["limit"] = query.limit + 1
        for key, value in query.filters.items():
            if key not in self.filters:
                raise InvalidInput(msg("layer {name} has no filter {key!r}; it has {value}",
                                       name=self.name, key=key,
                                       value=', '.join(sorted(self.filters)) or 'none'))
            if key in DIVISION_FILTERS and not scope.sees_division(value):
                raise Forbidden(msg("{key} {value} lies outside what {actor} may see", key=key,
                                    value=value, actor=scope.actor))
            conditions.append(f"t.{self.filters[key]} = :f_{key}")
            params[f"f_{key}"] = value
        if query.bbox:
            conditions.append(f"t.{self.geometry} && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490)")
            params.update(dict(zip(("x0", "y0", "x1", "y1"), query.bbox)))
        return " and ".join(conditions), params

    @staticmethod
    def _collection(session: Session, sql: str, params: dict[str, Any],
                    limit: int) -> dict[str, Any]:
        rows = session.execute(text(sql), params).scalars().all()
        return {"type": "FeatureCollection", "features": rows[:limit],
                "numberReturned": min(len(rows), limit), "truncated": len(rows) > limit}

    def query(self, session: Session, query: LayerQuery, *, scope: Scope) -> dict[str, Any]:
        condition, params = self._matching(query, scope)
        sql, field_params = self._select(condition, True, scope)
        return self._collection(session, sql, {**params, **field_params}, query.limit)

    def labels(self, session: Session, query: LayerQuery, *, scope: Scope) -> dict[str, Any]:
        """The label points of the features matching ``query`` (:mod:`layers.labels`)."""
        condition, params = self._matching(query, scope)
        sql, field_params = label_query(self, condition, scope)
        return self._collection(session, sql, {**params, **field_params}, query.limit)

    def get(self, session: Session, feature_id: str, *, scope: Scope) -> dict[str, Any]:
        """One feature by id: 404 when no such feature exists, 403 when it lies outside
        ``scope``."""
        condition, params = self._scoped(scope)
        # Compared in the column's own type, so the primary key's index finds the row.
        if self.id_type == "integer":
            if not (str(feature_id).isascii() and str(feature_id).isdigit()
                    and int(feature_id) < 2 ** 63):
                raise NotFound(msg("layer {name} has no feature {feature_id!r}", name=self.name,
                                   feature_id=feature_id))
            by_id, value = f"t.{self.id_column} = cast(:id as bigint)", int(feature_id)
        else:
            by_id, value = f"t.{self.id_column} = :id", str(feature_id)
        params["id"] = value
        sql, field_params = self._select(f"{by_id} and {condition}", False, scope)
        row = session.execute(text(sql), {**params, **field_params}).scalar()
        if row is not None:
            return row
        exists = session.execute(text(f"select 1 from {self.table} t where ({self.where}) "
                                      f"and {by_id}"), {"id": value}).scalar()
        if exists:
            raise Forbidden(msg("layer {name}: feature {feature_id!r} lies outside what {actor} "
                                "may see", name=self.name, feature_id=feature_id,
                                actor=scope.actor))
        raise NotFound(msg("layer {name} has no feature {feature_id!r}", name=self.name,
                           feature_id=feature_id))

    def _selection_condition(self, selection: Selection) -> tuple[str, dict[str, Any]]:
        """SQL keeping the rows of ``selection``'s division unit or bbox."""
        if selection.bbox is not None:
            return (f"ST_Intersects(t.{self.geometry}, "
                    f"ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, 4490))",
                    dict(zip(("bx0", "by0", "bx1", "by1"), selection.bbox)))
        if selection.level is None:
            return "true", {}
        level, params = selection.level, {"sel_code": selection.code}
        if level in self.filters:
            return f"t.{self.filters[level]} = :sel_code", params
        if self.scope_kind == "grid":
            return f"t.{level}_code = :sel_code", params
        if self.scope_kind == "grid_id":
            return (f"t.{self.scope_column} in (select g.id from grid g "
                    f"where g.{level}_code = :sel_code)", params)
        if self.scope_kind == "division":  # the units inside it, and those containing it
            return (f"(starts_with(t.{self.id_column}, :sel_code) "
                    f"or starts_with(:sel_code, t.{self.id_column}))", params)
        # public context (roads, water): what crosses the unit's area; the table name comes
        # from Selection's fixed levels
        return (f"ST_Intersects(t.{self.geometry}, "
                f"(select u.geom from {level} u where u.code = :sel_code))", params)

    def export_source(self, scope: Scope, selection: Selection) -> ExportSource:
        """The rows of this layer that ``scope`` reaches inside ``selection``, as an export
        reads them (:mod:`gridmap.export`): every field whose definition does not say
        ``export: false``, each in its own column."""
        condition, params = self._scoped(scope)
        chosen, chosen_params = self._selection_condition(selection)
        fields_scope, field_params = grid_scope("g", scope)
        fields = [f for f in self.fields if f.get("export", True)]
        # A lookup is a left join here: PostgreSQL runs a correlated subselect once a row,
        # but hashes or memoizes a join (200,000 buildings: 0.27 s instead of 0.56 s).
        joins, columns = [], []
        for f in fields:
            if "lookup" in f:
                lookup, alias = f["lookup"], f"l{len(joins)}"
                joins.append(f"left join {lookup['table']} {alias} "
                             f"on {alias}.{lookup['key']} = t.{lookup['by']}")
                columns.append(f"{alias}.{lookup['column']} as {f['name']}")
            else:
                columns.append(f"{self.field_sql(f['name'], fields_scope)} as {f['name']}")
        select = (f"select {{geometry}}, {', '.join(columns)} from {self.table} t "
                  f"{' '.join(joins)} where ({self.where}) and {condition} and {chosen} "
                  f"order by t.{self.id_column}")
        return ExportSource(self.name, self.table, self.geometry, select,
                            {**params, **chosen_params, **field_params},
                            tuple(f["name"] for f in fields),
                            {f["name"]: str(f.get("label", f["name"])) for f in fields})
