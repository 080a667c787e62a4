"""Facility import recipes: which source records are which component class.

Example (``import/facilities_osm.yaml``)::

    source_name: osm        # who issued the ids; a re-import updates by (source_name, id)
    source_id: null         # the id column; OSM files: n<node id> (their default)
    name: name              # the name column (optional)
    source_layer: null      # OSM files: points; other files: their only layer
    crs: null               # a file without a CRS needs one
    classes:                # the first rule whose every tag matches decides
      - {class: "0111", when: {emergency: fire_hydrant}}
      - {class: "0116", when: {man_made: surveillance, "surveillance:type": [camera, "*"]}}

A ``when`` value is one value, a list of values, or ``"*"`` (the tag is present). In an OSM
file the tags are GDAL's columns and the ``other_tags`` it packs the rest into
(:mod:`gridmap.ingest.osm`); in a GeoPackage or GeoJSON they are plain columns.
Every key is checked when the recipe is read, naming the key, the value and what is expected.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridmap.errors import ImportFailed, InvalidInput
from gridmap.facilities.ids import check_class_code
from gridmap.i18n import msg
from gridmap.ingest.recipe import read_recipe_yaml

ANY = "*"
_KEYS = ("source_name", "source_id", "name", "source_layer", "crs", "classes")


@dataclass(frozen=True)
class ClassRule:
    """Records whose every tag in ``when`` has one of its values are of ``class_code``
    (``None`` as values: the tag is present)."""

    class_code: str
    when: tuple[tuple[str, tuple[str, ...] | None], ...]


@dataclass(frozen=True)
class FacilityRecipe:
    path: Path
    rules: tuple[ClassRule, ...]
    source_name: str
    source_id: str | None = None
    name: str | None = None
    source_layer: str | None = None
    crs: str | int | None = None

    def tag_keys(self) -> list[str]:
        """Every tag (column) a rule looks at."""
        return list(dict.fromkeys(k for r in self.rules for k, _ in r.when))


def _fail(path: Path, detail: str) -> ImportFailed:
    return ImportFailed(msg("recipe {path}: {detail}", path=path.name, detail=detail))


def _text(path: Path, data: dict, key: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise _fail(path, msg("{key} {value!r}: expected text of 1 to 64 characters", key=key,
                              value=value))
    return value.strip()


def _rule(path: Path, number: int, entry: Any) -> ClassRule:
    if not isinstance(entry, dict) or set(entry) != {"class", "when"}:
        raise _fail(path, msg("classes item {number}: expected {{class: CODE, when: {{TAG: "
                              "VALUE…}}}}", number=number))
    try:
        code = check_class_code(str(entry["class"]))
    except InvalidInput as exc:
        raise _fail(path, msg("classes item {number}: {problem}", number=number,
                              problem=str(exc))) from None
    when = entry["when"]
    if not isinstance(when, dict) or not when:
        raise _fail(path, msg("classes item {number}: when {value!r}: expected a mapping of "
                              "tags to values", number=number, value=when))
    conditions = []
    for key, value in when.items():
        values = value if isinstance(value, list) else [value]
        if not isinstance(key, str) or not values or \
                not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
            raise _fail(path, msg("classes item {number}: tag {key!r}: expected a value, a list "
                                  "of values or \"*\"", number=number, key=key))
        texts = tuple(str(v) for v in values)
        conditions.append((key, None if ANY in texts else texts))
    return ClassRule(code, tuple(conditions))


def load_facility_recipe(path: Path | str) -> FacilityRecipe:
    """Read and check a facility recipe (see the module docstring).

    Raises
    ------
    ImportFailed
        Unreadable YAML, an unknown key, a bad class code or rule.
    """
    path = Path(path)
    data = read_recipe_yaml(path, msg("at least classes and source_name"))
    unknown = sorted(set(map(str, data)) - set(_KEYS))
    if unknown:
        raise _fail(path, msg("unknown keys {keys}; expected {items}", keys=", ".join(unknown),
                              items=", ".join(_KEYS)))
    classes = data.get("classes")
    if not isinstance(classes, list) or not classes:
        raise _fail(path, msg("classes: expected a list of {{class: CODE, when: {{TAG: "
                              "VALUE}}}} rules"))
    crs = data.get("crs")
    if crs is not None and not isinstance(crs, (str, int)):
        raise _fail(path, msg("crs {value!r}: expected e.g. EPSG:4326", value=crs))
    return FacilityRecipe(path=path,
                          rules=tuple(_rule(path, n, e) for n, e in enumerate(classes, 1)),
                          source_name=_text(path, data, "source_name", required=True),
                          source_id=_text(path, data, "source_id"),
                          name=_text(path, data, "name"),
                          source_layer=_text(path, data, "source_layer"), crs=crs)
