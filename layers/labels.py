"""Label points: one point per feature, where the map writes its label, with only the fields
the label reads. A layer the map draws from vector tiles gets its polygons cut at tile edges;
a label placed from those pieces would be cut or written twice, so the map labels such a layer
from these points instead (``GET /api/layers/LAYER/labels?bbox=…``).

The point is the layer's ``label_point`` field when it has one (the grids: the pole of
inaccessibility, where a label has most room), else ``ST_PointOnSurface`` of the geometry. The
properties are the fields the label's templates and ``by`` name, and its ``priority`` field
(the map places the labels of larger features first).
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from gridmap.errors import NotFound
from gridmap.i18n import msg
from layers.scoping import grid_scope

if TYPE_CHECKING:  # pragma: no cover
    from gridmap.auth.scope import Scope
    from layers.sql import SqlLayer

_TEMPLATE_FIELD = re.compile(r"\{(\w+)\}")


def label_fields(definition: dict[str, Any]) -> list[str]:
    """The names a definition's label reads: ``by``, its templates' ``{field}``\\ s and
    ``priority`` (unchecked: the caller keeps those the layer has)."""
    label = definition.get("label")
    templates: list[str] = []
    names: list[str] = []
    if isinstance(label, str):
        templates = [label]
    elif isinstance(label, list):
        templates = label
    elif isinstance(label, dict):
        names += [label.get("by"), label.get("priority")]
        for variants in (label.get("variants") or {}).values():
            templates += variants or []
    for template in templates:
        names += _TEMPLATE_FIELD.findall(template)
    return [n for n in names if n]


def label_query(layer: "SqlLayer", condition: str,
                scope: "Scope") -> tuple[str, dict[str, Any]]:
    """The statement of the label points of ``layer``'s rows matching ``condition`` (over
    alias ``t``, with ``:limit``): one GeoJSON Feature a row; and the parameters of its fields.
    NotFound when the layer has no label."""
    if not layer.definition.get("label"):
        raise NotFound(msg("layer {name} has no labels", name=layer.name))
    fields_scope, params = grid_scope("g", scope)
    known = {f["name"] for f in layer.fields}
    names = [n for n in dict.fromkeys(label_fields(layer.definition)) if n in known]
    properties = ", ".join(f"'{n}', {layer.field_sql(n, fields_scope)}" for n in names)
    if "label_point" in known:
        point = ("json_build_object('type', 'Point', 'coordinates', "
                 f"{layer.field_sql('label_point', fields_scope)})")
    else:
        point = f"ST_AsGeoJSON(ST_PointOnSurface(t.{layer.geometry}), 7)::json"
    sql = f"""
        select json_build_object('type', 'Feature', 'id', t.{layer.id_column},
                                 'geometry', {point},
                                 'properties', json_build_object({properties})) as feature
        from {layer.table} t
        where ({layer.where}) and {condition}
        order by t.{layer.id_column}
        limit :limit
    """
    return sql, params
