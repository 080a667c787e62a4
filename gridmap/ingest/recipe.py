"""Import recipes: YAML files mapping a source to a target layer.

Example (``import/wuhan_buildings.yaml``)::

    source: ../data/wuhan_guanggu/wuhan_guanggu.gpkg   # relative to the recipe file
    source_layer: buildings
    layer: buildings
    district: "420111"
    crs: null            # the file's own CRS; set it when the file has none
    encoding: null       # attribute encoding when the file does not say (.cpg), e.g. gbk
    repair: true         # make_valid() invalid polygons instead of rejecting the import
    fields: {source_id: id, name: name, address: addr_housenumber}
    households: {...}    # rule deriving households (see gridmap.ingest.households)
    unofficial: false    # streets/communities: accept codes not in the official table
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gridmap.errors import ImportFailed

TARGET_LAYERS = ("buildings", "districts", "streets", "communities", "grids", "roads", "water")
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
    where: str | None = None
    x_field: str | None = None
    y_field: str | None = None
    wkt_field: str | None = None
    source_name: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    households: dict[str, Any] | None = None
    duplicates: str = "refuse"  # footprints duplicating others: refuse | skip | keep
    allow_move: bool = False  # a known id may move its footprint far (a real move)
    unofficial: bool = False  # accept street/community codes the official table lacks

    def __post_init__(self) -> None:
        if self.layer not in TARGET_LAYERS:
            raise ImportFailed(f"layer {self.layer!r}: expected one of {', '.join(TARGET_LAYERS)}")
        unknown = set(self.fields) - set(TARGET_FIELDS[self.layer])
        if unknown:
            raise ImportFailed(f"recipe maps unknown {self.layer} fields {sorted(unknown)}; "
                               f"known: {', '.join(TARGET_FIELDS[self.layer])}")
        if self.layer in DISTRICT_LAYERS and not self.district:
            raise ImportFailed(f"a {self.layer} import needs the district code (recipe "
                               f"'district' or --district)")
        if not isinstance(self.unofficial, bool):
            raise ImportFailed(f"recipe key unofficial: {self.unofficial!r}; expected true or "
                               f"false")


def load_recipe(path: Path, **overrides: Any) -> Recipe:
    """Read a YAML recipe; ``source`` is resolved relative to the recipe's folder."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ImportFailed(f"cannot read recipe {path}: {exc}") from None
    if not isinstance(data, dict) or "source" not in data or "layer" not in data:
        raise ImportFailed(f"recipe {path}: expected a mapping with at least 'source' and "
                           f"'layer'")
    data.update({k: v for k, v in overrides.items() if v is not None})
    known = set(Recipe.__dataclass_fields__)
    extra = set(data) - known
    if extra:
        raise ImportFailed(f"recipe {path}: unknown keys {sorted(extra)}")
    data["source"] = (path.parent / data["source"]).resolve()
    if data.get("district") is not None:
        data["district"] = str(data["district"])
    return Recipe(**data)
