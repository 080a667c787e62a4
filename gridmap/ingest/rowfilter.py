"""Row filters: which features of a source an import takes, as data, never as SQL text.

A filter maps a column to a condition; a feature is kept when every condition holds::

    where:
      building: [residential, apartments]    # one of
      "building:levels": {">=": 2}           # operators: = != < <= > >= in, not in
      kind: {"!=": building_part}
      name: null                             # missing (null or empty text)
      height: {"!=": null}                   # present
      geometry_type: [Polygon, MultiPolygon] # the feature's geometry type (not a column)

On the command line each ``--where`` is one condition: ``FIELD=VALUE``, ``FIELD=A,B`` (one
of), ``FIELD!=VALUE``, ``FIELD>=N`` (also ``<``, ``<=``, ``>``), ``FIELD=`` (missing) and
``FIELD!=`` (present).

Semantics: ``<``, ``<=``, ``>``, ``>=`` compare numbers, and a value that is not a number
fails them. ``=``/``in`` compare numbers when the condition's values are numbers, else text
(an integral number reads as its digits: 2.0 is ``2``). A missing value equals only null;
it is unequal to everything else, so ``!=`` and ``not in`` keep it.

Filters are applied with pandas after reading: nothing from the recipe or the command line is
ever handed to GDAL as an SQL expression.
"""
from __future__ import annotations

import operator
import re
from typing import Any, Mapping

import numpy as np
import pandas as pd

from gridmap.errors import ImportFailed
from gridmap.i18n import msg
from gridmap.ingest.recipe_schema import FILTER_OPERATORS

GEOMETRY_TYPE = "geometry_type"
"""Filter key for the geometry type of each feature, when the source has no such column:
a layer that mixes a lake's area, its label point and its outline keeps only the area."""

_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_CLI = re.compile(r"^(?P<field>[^<>=!]+?)\s*(?P<op>!=|<=|>=|=|<|>)\s*(?P<value>.*)$",
                  re.DOTALL)


def parse_condition(text: str) -> tuple[str, dict[str, Any]]:
    """One ``--where`` option as ``(column, {operator: value})``.

    Raises
    ------
    ImportFailed
        When ``text`` is not ``FIELD`` followed by an operator and a value.
    """
    match = _CLI.match(text.strip())
    if match is None:
        raise ImportFailed(msg("--where {text!r}: expected FIELD=VALUE, FIELD=A,B, "
                               "FIELD!=VALUE, FIELD>=N (or <, <=, >), FIELD= (missing) or "
                               "FIELD!= (present)", text=text))
    field, op, value = match["field"].strip(), match["op"], match["value"].strip()
    if op in _ORDER:
        try:
            return field, {op: float(value) if "." in value or "e" in value.lower()
                           else int(value)}
        except ValueError:
            raise ImportFailed(msg("--where {text!r}: {op} compares numbers, got {value!r}",
                                   text=text, op=op, value=value)
                               ) from None
    if value == "":
        return field, {op: None}
    values = [v.strip() for v in value.split(",")]
    if len(values) > 1:
        return field, {"in" if op == "=" else "not in": values}
    return field, {op: values[0]}


def combine(conditions: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Conditions from several ``--where`` options as one filter (all must hold)."""
    where: dict[str, dict[str, Any]] = {}
    for field, condition in conditions:
        merged = where.setdefault(field, {})
        for op, value in condition.items():
            if op in merged:
                raise ImportFailed(msg("--where: {field} {op} given twice ({first!r} and "
                                       "{second!r}); give one condition per operator",
                                       field=field, op=op, first=merged[op], second=value))
            merged[op] = value
    return where


def _operators(condition: Any) -> dict[str, Any]:
    if isinstance(condition, Mapping):
        return dict(condition)
    if isinstance(condition, list):
        return {"in": condition}
    return {"=": condition}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() or None


def _matches(column: pd.Series, op: str, value: Any) -> np.ndarray:
    text = column.map(_text)
    missing = text.isna().to_numpy()
    if op in _ORDER:
        numbers = pd.to_numeric(column, errors="coerce").astype("float64").to_numpy()
        with np.errstate(invalid="ignore"):
            return ~np.isnan(numbers) & _ORDER[op](numbers, float(value))
    values = value if op in ("in", "not in") else [value]
    if any(v is None for v in values):
        hit = missing.copy()
        values = [v for v in values if v is not None]
    else:
        hit = np.zeros(len(column), dtype=bool)
    if values and all(_is_number(v) for v in values):
        numbers = pd.to_numeric(column, errors="coerce").astype("float64").to_numpy()
        hit |= np.isin(numbers, np.asarray(values, dtype="float64"))
    elif values:
        hit |= text.isin([_text(v) for v in values]).to_numpy() & ~missing
    return ~hit if op in ("!=", "not in") else hit


def apply_filter(frame: pd.DataFrame, where: Mapping[str, Any] | None,
                 source: str) -> pd.DataFrame:
    """The rows of ``frame`` meeting every condition, re-numbered from 0."""
    if not where:
        return frame
    keep = np.ones(len(frame), dtype=bool)
    for field, condition in where.items():
        if field == GEOMETRY_TYPE and field not in frame.columns and hasattr(frame, "geom_type"):
            column = frame.geom_type.fillna("")
        elif field not in frame.columns:
            raise ImportFailed(msg("{source}: the filter names column {field!r}, which the "
                                   "source does not have", source=source, field=field))
        else:
            column = frame[field]
        for op, value in _operators(condition).items():
            if op not in FILTER_OPERATORS:
                raise ImportFailed(msg("filter on {field}: operator {op!r}; expected one of "
                                       "{items}", field=field, op=op,
                                       items=', '.join(FILTER_OPERATORS)))
            keep &= _matches(column, op, value)
    return frame[keep].reset_index(drop=True)
