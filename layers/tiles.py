"""A layer's vector tile as one SQL statement: ``ST_AsMVT`` over the rows its caller's scope
reaches, clipped to the tile (with a buffer), generalised below :data:`GENERALISE_BELOW`.

Tiles carry the id, the fields a definition's style and label name (``style.by``,
``fill_by``, ``color_by``, ``flags``; the label's ``{field}``\\ s), its popup fields and any
named in ``tiles: {fields: [...]}``: what the map draws and shows on a tap. Fields computed
from other tables are kept fresh by the invalidation triggers of those tables (migration
0015). ``label_point`` travels as ``label_x``/``label_y`` (MVT values are scalars).

A definition may name a stored EPSG:3857 geometry (``tiles: {geometry_3857: COLUMN}``, a
generated column with a GiST index, migration 0015): the tile's rows are then found and clipped
without transforming each geometry; otherwise the tile's envelope is transformed to EPSG:4490
once and the table's own index finds the rows.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridmap.auth.scope import Scope
from gridmap.tiles.tilemath import BUFFER, BUFFER_PX, EXTENT, TileAddress, tile_size
from layers.labels import label_fields
from layers.scoping import grid_scope

if TYPE_CHECKING:  # pragma: no cover
    from layers.sql import SqlLayer

#: Below this zoom geometries are simplified to about a pixel before clipping.
GENERALISE_BELOW = 14


def drawn_fields(definition: dict[str, Any]) -> list[str]:
    """The field names a layer's tiles carry, besides the id (see the module docstring)."""
    style = definition.get("style") or {}
    names = [style.get("by"), style.get("fill_by"), style.get("color_by"),
             *(style.get("flags") or {}), *label_fields(definition)]
    if definition.get("label"):
        names.append("label_point")
    names += definition.get("popup") or []
    names += (definition.get("tiles") or {}).get("fields") or []
    known = {f["name"] for f in definition.get("fields") or []}
    out: list[str] = []
    for name in names:
        if name and name in known and name not in out:
            out.append(name)
    return out


def _columns(layer: "SqlLayer", fields_scope: str) -> list[str]:
    columns = [f"t.{layer.id_column} as id"]
    for name in drawn_fields(layer.definition):
        if name == layer.id_column == "id":
            continue
        expr = layer.field_sql(name, fields_scope)
        if name == "label_point":  # a JSON [lon, lat]
            columns += [f"(({expr}) ->> 0)::float8 as label_x",
                        f"(({expr}) ->> 1)::float8 as label_y"]
        else:
            columns.append(f"{expr} as {name}")
    return columns


def tile_query(layer: "SqlLayer", address: TileAddress,
               scope: Scope) -> tuple[str, dict[str, Any]]:
    """The statement giving the tile of ``layer`` at ``address`` as ``scope`` sees it: one row
    of ``body`` (MVT bytes, empty when nothing is there) and ``snapshot`` (the statement's
    snapshot, text), with its bound parameters."""
    condition, params = layer.scoped_condition(scope)
    fields_scope, field_params = grid_scope("g", scope)
    stored = (layer.definition.get("tiles") or {}).get("geometry_3857")
    envelope = "ST_TileEnvelope(:z, :x, :y)"
    margin = f"ST_TileEnvelope(:z, :x, :y, margin => {BUFFER})"
    if stored:
        geometry = f"t.{stored}"
        found = f"t.{stored} && {margin}"
    else:
        geometry = f"ST_Transform(t.{layer.geometry}, 3857)"
        found = f"t.{layer.geometry} && ST_Transform({margin}, 4490)"
    if address.z < GENERALISE_BELOW:
        geometry = f"ST_Simplify({geometry}, :tolerance, true)"
        params["tolerance"] = tile_size(address.z) / EXTENT
    sql = f"""
        select coalesce(ST_AsMVT(q, :layer_name, {EXTENT}, 'geom'), ''::bytea) as body,
               pg_current_snapshot()::text as snapshot
        from (
            select ST_AsMVTGeom({geometry}, {envelope}, {EXTENT}, {BUFFER_PX}, true) as geom,
                   {', '.join(_columns(layer, fields_scope))}
            from {layer.table} t
            where {condition} and {found}
        ) q
        where q.geom is not null
    """
    return sql, {**params, **field_params, "layer_name": layer.name, "z": address.z,
                 "x": address.x, "y": address.y}


def tile_fields(layer: "SqlLayer") -> dict[str, str]:
    """TileJSON's ``fields`` of the layer's tiles: name → label."""
    labels = {f["name"]: str(f.get("label", f["name"])) for f in layer.fields}
    out = {"id": labels.get(layer.id_column, "id")}
    for name in drawn_fields(layer.definition):
        if name == "label_point":
            out["label_x"] = out["label_y"] = labels[name]
        else:
            out[name] = labels[name]
    return out
