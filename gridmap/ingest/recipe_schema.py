"""The shape of an import recipe, checked when it is loaded (a JSON Schema).

Every key of :class:`~gridmap.ingest.recipe.Recipe` has a schema entry whose ``description``
says what is expected; :func:`check_recipe` turns the first violation into one line naming
the key, the value received and that description, e.g.::

    recipe key households.dwelling_m2: got 0, expected a floor area in m² greater than 0
"""
from __future__ import annotations

import codecs
from typing import Any, Mapping

import jsonschema
from jsonschema.exceptions import ValidationError, best_match
from pyproj import CRS
from pyproj.exceptions import CRSError

from gridmap.errors import ImportFailed
from gridmap.i18n import msg

TARGET_LAYERS = ("buildings", "districts", "streets", "communities", "grids", "roads",
                 "water")
DUPLICATE_POLICIES = ("refuse", "skip", "keep")
FILTER_OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "in", "not in")

_TEXT = {"type": "string", "minLength": 1}
_COLUMN = {"type": "string", "minLength": 1, "description": "a column name of the source"}
_OPTIONAL_COLUMN = {"type": ["string", "null"], "minLength": 1,
                    "description": "a column name of the source, or null"}
_POSITIVE = {"type": "number", "exclusiveMinimum": 0}
_VALUE = {"type": ["string", "number", "null"],
          "description": "text, a number or null (quote yes/no/true/false: 'yes')"}
_VALUES = {"type": "array", "items": _VALUE, "minItems": 1,
           "description": "a non-empty list of text or numbers"}
_NUMBER = {"type": "number", "description": "a number"}

CONDITION = {
    "description": "a value (equal to), a list (one of) or a mapping of operators "
                   f"({', '.join(FILTER_OPERATORS)}) to values",
    "anyOf": [
        _VALUE, _VALUES,
        {"type": "object", "minProperties": 1, "additionalProperties": False,
         "description": f"a mapping of operators ({', '.join(FILTER_OPERATORS)}) to values",
         "properties": {"=": _VALUE, "!=": _VALUE, "<": _NUMBER, "<=": _NUMBER,
                        ">": _NUMBER, ">=": _NUMBER, "in": _VALUES, "not in": _VALUES}},
    ],
}

HOUSEHOLD_RULE = {
    "type": "object",
    "description": "a mapping of household rule parameters (see gridmap.ingest.households)",
    "additionalProperties": False,
    "properties": {
        "type_fields": {"type": "array", "items": _COLUMN,
                        "description": "a list of column names"},
        "residential_types": {"type": "array", "items": _TEXT,
                              "description": "a list of building types"},
        "residential_name": {"type": "string", "format": "regex",
                             "description": "a regular expression"},
        "landuse_field": _OPTIONAL_COLUMN,
        "height_field": _OPTIONAL_COLUMN,
        "levels_field": _OPTIONAL_COLUMN,
        "floor_height_m": {**_POSITIVE, "description": "a storey height in m greater than 0"},
        "default_floors": {"type": "integer", "minimum": 1, "maximum": 200,
                           "description": "a whole number of floors from 1 to 200"},
        "net_ratio": {**_POSITIVE, "maximum": 1,
                      "description": "a share of the floor area, greater than 0 and at most 1"},
        "dwelling_m2": {**_POSITIVE, "description": "a floor area in m² greater than 0"},
    },
}

RECIPE = {
    "type": "object",
    "description": "a mapping of recipe keys",
    "required": ["source", "layer"],
    "additionalProperties": False,
    "properties": {
        "source": {**_TEXT, "description": "a file path (relative to the recipe's folder)"},
        "layer": {"enum": list(TARGET_LAYERS),
                  "description": f"one of {', '.join(TARGET_LAYERS)}"},
        "source_layer": {"type": ["string", "null"], "minLength": 1,
                         "description": "the name of a layer inside the source file"},
        "district": {"type": ["string", "null"], "pattern": "^[0-9]{6}$",
                     "description": "a 6-digit GB/T 2260 district code, e.g. '420111'"},
        "crs": {"type": ["string", "integer", "null"], "format": "crs",
                "description": "a CRS such as EPSG:4326 (or an EPSG number)"},
        "encoding": {"type": ["string", "null"], "format": "encoding",
                     "description": "a text encoding Python knows, e.g. gbk or utf-8"},
        "repair": {"type": "boolean", "description": "true or false"},
        "allow_move": {"type": "boolean", "description": "true or false"},
        "outside_district": {"enum": ["refuse", "assign"], "description": "refuse or assign"},
        "unofficial": {"type": "boolean", "description": "true or false"},
        "duplicates": {"enum": list(DUPLICATE_POLICIES),
                       "description": f"one of {', '.join(DUPLICATE_POLICIES)}"},
        "where": {"type": ["object", "null"], "additionalProperties": CONDITION,
                  "description": "a mapping of column → condition, e.g. {building: "
                                 "[residential, apartments], 'building:levels': {'>=': 2}}"},
        "x_field": _OPTIONAL_COLUMN,
        "y_field": _OPTIONAL_COLUMN,
        "wkt_field": _OPTIONAL_COLUMN,
        "source_name": {"type": ["string", "null"], "minLength": 1,
                        "description": "a name for who issued the ids, e.g. osm"},
        "fields": {"type": "object", "additionalProperties": _COLUMN,
                   "description": "a mapping of target field → source column"},
        "defaults": {"type": "object",
                     "additionalProperties": {"type": ["string", "number", "null"]},
                     "description": "a mapping of target field → value"},
        "households": {"anyOf": [{"type": "null"}, HOUSEHOLD_RULE],
                       "description": HOUSEHOLD_RULE["description"] + ", or null"},
    },
}

_FORMATS = jsonschema.FormatChecker(formats=["regex"])


@_FORMATS.checks("encoding", raises=(LookupError, ValueError))  # NUL: ValueError
def _is_encoding(value: object) -> bool:
    return not isinstance(value, str) or bool(codecs.lookup(value))


@_FORMATS.checks("crs", raises=CRSError)
def _is_crs(value: object) -> bool:
    return isinstance(value, bool) or bool(CRS.from_user_input(value))


_VALIDATOR = jsonschema.Draft202012Validator(RECIPE, format_checker=_FORMATS)


def _expected(error: ValidationError) -> str:
    """The description of the nearest schema node that has one."""
    node: ValidationError | None = error
    while node is not None:
        if "description" in node.schema:
            return node.schema["description"]
        node = node.parent
    return error.message


def check_recipe(data: Mapping[str, Any], *, origin: str = "recipe") -> None:
    """Raise :class:`ImportFailed` naming the key, the value and what is expected."""
    error = best_match(_VALIDATOR.iter_errors(dict(data)))
    if error is None:
        return
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in error.instance][0]
        raise ImportFailed(msg("{origin}: key {missing!r} is missing; expected {description}",
                               origin=origin, missing=missing,
                               description=RECIPE['properties'][missing]['description']))
    if error.validator == "additionalProperties" and "properties" in error.schema:
        extra = sorted(set(error.instance) - set(error.schema["properties"]))
        where = f" key {'.'.join(path)}" if path else ""
        raise ImportFailed(msg("{origin}{where}: unknown keys {extra}; known: {items}",
                               origin=origin, where=where, extra=extra,
                               items=', '.join(error.schema['properties'])))
    raise ImportFailed(msg("{origin} key {items}: got {instance!r}, expected {error}",
                           origin=origin, items='.'.join(path), instance=error.instance,
                           error=_expected(error)))
