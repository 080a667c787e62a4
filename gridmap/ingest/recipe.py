"""Import recipes: YAML files mapping a source to a target layer.

Example (``import/wuhan_buildings.yaml``)::

    source: ../data/wuhan_guanggu/wuhan_guanggu.gpkg   # relative to the recipe file
    source_layer: buildings   # needed when the file holds several layers
    layer: buildings
    district: "420111"
    crs: null            # the file's own CRS; set it when the file has none
    encoding: null       # attribute encoding when the file does not say (.cpg), e.g. gbk
    repair: true         # make_valid() invalid polygons instead of rejecting the import
    where: {kind: {"!=": building_part}}   # row filter, see gridmap.ingest.rowfilter
    fields: {source_id: id, name: name, address: addr_housenumber}
    households: {...}    # rule deriving households (see gridmap.ingest.households)
    unofficial: false    # streets/communities: accept codes not in the official table

Every key is checked when the recipe is made (:mod:`gridmap.ingest.recipe_schema`), so a
wrong value is refused before anything is read, naming the key, the value and what is expected.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields as dataclass_fields
from pathlib import Path
from typing import Any

import yaml

from gridmap.errors import ImportFailed
from gridmap.i18n import msg
from gridmap.ingest import osm
from gridmap.ingest.households import DEFAULT_RULE
from gridmap.ingest.recipe_schema import TARGET_LAYERS, check_recipe
from gridmap.ingest.values import column_length
from gridmap.models import Building

__all__ = ["Recipe", "load_recipe", "TARGET_LAYERS", "TARGET_FIELDS", "REQUIRED_FIELDS"]

TARGET_FIELDS = {
    "buildings": ("source_id", "name", "use", "households", "floors", "address"),
    "districts": ("code", "name"),
    "streets": ("code", "name"),
    "communities": ("code", "name"),
    "grids": ("code", "kind", "name", "community_code"),
    "roads": ("source_id", "kind", "name", "bridge", "tunnel", "layer"),
    "water": ("source_id", "kind", "name"),
}
REQUIRED_FIELDS = {
    "buildings": ("source_id",),
    "districts": ("code",),  # an empty name is taken from the official table
    "streets": ("code",),
    "communities": ("code",),
    "grids": (),  # without code: codes are issued; without kind: residential
    "roads": ("source_id",),
    "water": ("source_id",),
}
# Keys whose mapping values add to (rather than replace) the recipe's when overridden.
_MERGED_KEYS = ("fields", "where", "households", "defaults")
DISTRICT_LAYERS = ("buildings", "roads", "water")  # layers whose rows belong to one district


@dataclass
class Recipe:
    """One import: where from, into which layer, how fields map, how to treat bad input."""

    source: Path
    layer: str
    source_layer: str | None = None
    district: str | None = None
    crs: str | int | None = None
    encoding: str | None = None
    repair: bool = False
    where: dict[str, Any] | None = None
    x_field: str | None = None
    y_field: str | None = None
    wkt_field: str | None = None
    source_name: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    households: dict[str, Any] | None = None
    duplicates: str = "refuse"  # footprints duplicating others: refuse | skip | keep
    allow_move: bool = False  # a known id may move its footprint far (a real move)
    outside_district: str = "refuse"  # buildings in another loaded district: refuse | assign
    unofficial: bool = False  # accept street/community codes the official table lacks

    def __post_init__(self) -> None:
        if isinstance(self.district, int) and not isinstance(self.district, bool):
            self.district = str(self.district)
        check_recipe({f.name: str(v) if isinstance(v, Path) else v
                      for f in dataclass_fields(self) if (v := getattr(self, f.name)) is not None})
        self.source = Path(self.source)
        unknown = set(self.fields) - set(TARGET_FIELDS[self.layer])
        if unknown:
            raise ImportFailed(msg("recipe maps unknown {layer} fields {unknown}; known: {items}",
                                   layer=self.layer, unknown=sorted(unknown),
                                   items=', '.join(TARGET_FIELDS[self.layer])))
        if self.layer in DISTRICT_LAYERS and not self.district:
            raise ImportFailed(msg("a {layer} import needs the district code (recipe 'district' "
                                   "or --district)", layer=self.layer))
        if not isinstance(self.unofficial, bool):
            raise ImportFailed(msg("recipe key unofficial: {unofficial!r}; expected true or "
                                   "false", unofficial=self.unofficial))
        if self.is_osm and self.layer == "buildings":
            self.fields = {**osm.DEFAULT_FIELDS, **self.fields}
            if self.source_name is None:
                self.source_name = osm.SOURCE_NAME
        limit = column_length(Building, "source")
        if self.source_name is not None and len(self.source_name) > limit:
            raise ImportFailed(msg("source name {source_name!r} has {count} characters; "
                                   "expected at most {limit}", source_name=self.source_name,
                                   count=len(self.source_name), limit=limit))

    @property
    def is_osm(self) -> bool:
        """Whether the source is an OpenStreetMap file (.osm or .pbf)."""
        return osm.is_osm(self.source)

    def used_columns(self) -> list[str]:
        """The source columns this import reads: mapped, filtered on, or used by the rule."""
        used = list(self.fields.values()) + [c for c in self.where or {}
                                             if c != "geometry_type"]
        used += [c for c in (self.x_field, self.y_field, self.wkt_field) if c]
        if self.households is not None and self.layer == "buildings":
            rule = {**DEFAULT_RULE, **self.households}
            used += list(rule["type_fields"]) + ["name"]
            used += [rule[k] for k in ("landuse_field", "height_field", "levels_field")
                     if rule[k]]
        return list(dict.fromkeys(used))


def _merge(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(data)
    for key, value in overrides.items():
        if value is None:
            continue
        if key in _MERGED_KEYS and isinstance(value, dict) and isinstance(data.get(key), dict):
            merged[key] = {**data[key], **value}
        else:
            merged[key] = value
    return merged


def read_recipe_yaml(path: Path, expected: str) -> dict[str, Any]:
    """The mapping a YAML recipe file holds; ``expected`` says which keys it must have."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportFailed(msg("cannot read recipe {path}: {error}", path=path,
                               error=first)) from None
    if not isinstance(data, dict):
        raise ImportFailed(msg("recipe {path}: got {type} {data!r:.60}, expected a mapping with "
                               "{expected}", path=path, type=type(data).__name__, data=data,
                               expected=expected))
    return data


def load_recipe(path: Path, **overrides: Any) -> Recipe:
    """Read a YAML recipe; ``source`` is resolved relative to the recipe's folder.

    ``overrides`` (e.g. from command-line options) replace the recipe's values, except
    ``fields``, ``where``, ``households`` and ``defaults``, whose entries are added to the
    recipe's. ``None`` overrides nothing.
    """
    data = _merge(read_recipe_yaml(path, msg("at least 'source' and 'layer'")), overrides)
    if isinstance(data.get("district"), int) and not isinstance(data["district"], bool):
        data["district"] = str(data["district"])  # YAML reads 420111 unquoted as a number
    check_recipe(data, origin=f"recipe {path.name}")
    data["source"] = (path.parent / data["source"]).resolve()
    return Recipe(**data)
