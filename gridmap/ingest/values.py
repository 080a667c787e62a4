"""Target attribute values that the database can hold, checked before anything is written.

Lengths come from the SQLAlchemy models (``String(n)``), so the checks never drift from the
schema; counts must be whole numbers in a plausible range. A bad value is refused naming the
feature, the field, the value and what is expected — never truncated, rounded or left to the
database to reject.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import String

from gridmap.errors import ImportFailed
from gridmap.i18n import msg
from gridmap.models import Building, Community, District, Grid, Road, Street, Water

TARGET_MODELS = {"buildings": Building, "districts": District, "streets": Street,
                 "communities": Community, "grids": Grid, "roads": Road, "water": Water}
# Whole-number targets and the values they may take. 100,000 households is far beyond any
# real building (the largest housing blocks hold a few thousand), yet well inside int32.
INTEGER_RANGES = {"households": (0, 100_000), "floors": (0, 300)}
ID_FIELDS = ("source_id", "code")


def column_length(model: type, name: str) -> int | None:
    """The ``String(n)`` length of ``model.name``, or ``None`` when unbounded or not text."""
    column = model.__table__.columns.get(name)
    if column is None or not isinstance(column.type, String):
        return None
    return column.type.length


def shown(value: object, limit: int = 40) -> str:
    """A value as it goes into a one-line message: cut after ``limit`` characters."""
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def feature_label(attrs: pd.DataFrame, row: int) -> str:
    """``feature N`` (1-based position) with the feature's id when it has one."""
    for key in ID_FIELDS:
        if key in attrs.columns and pd.notna(attrs[key].iloc[row]):
            return msg("feature {number} ({key}={value})", number=row + 1, key=key,
                       value=shown(attrs[key].iloc[row]))
    return msg("feature {number}", number=row + 1)


def _refuse(source: str, attrs: pd.DataFrame, rows: np.ndarray, target: str, value: object,
            expected: str) -> None:
    more = f" ({rows.size} features in all)" if rows.size > 1 else ""
    if isinstance(value, np.generic):
        value = value.item()
    raise ImportFailed(msg("{source} {attrs}: {target} is {value!r}, expected {expected}{more}",
                           source=source, attrs=feature_label(attrs, int(rows[0])),
                           target=target, value=value, expected=expected, more=more))


def whole_numbers(source: str, attrs: pd.DataFrame, target: str) -> pd.Series:
    """``attrs[target]`` as nullable integers, refusing text, fractions and absurd values."""
    low, high = INTEGER_RANGES[target]
    values = attrs[target]
    present = values.notna().to_numpy()
    numbers = pd.to_numeric(values.map(lambda v: v.strip() if isinstance(v, str) else v),
                            errors="coerce").astype("float64").to_numpy()
    expected = f"a whole number from {low:,} to {high:,}"
    finite = np.isfinite(numbers)
    whole = np.mod(np.where(finite, numbers, 0.0), 1) == 0
    for bad in (present & ~finite,                     # text, nan or infinite
                present & finite & ~whole,
                present & finite & ((numbers < low) | (numbers > high))):
        rows = np.nonzero(bad)[0]
        if rows.size:
            _refuse(source, attrs, rows, target, values.iloc[rows[0]], expected)
    return pd.Series(pd.array(np.where(present, numbers, np.nan), dtype="Float64"),
                     index=attrs.index).astype("Int64")


def text_lengths(source: str, attrs: pd.DataFrame, layer: str) -> None:
    """Every text target fits its database column."""
    model = TARGET_MODELS[layer]
    for target in attrs.columns:
        limit = column_length(model, target)
        if limit is None:
            continue
        # .str.len() is NaN for what is not text (numbers, missing values): those fit.
        lengths = attrs[target].astype(object).str.len().fillna(0).to_numpy()
        rows = np.nonzero(lengths > limit)[0]
        if rows.size:
            value = attrs[target].iloc[rows[0]]
            _refuse(source, attrs, rows, target, f"{value[:40]}…" if len(value) > 40 else value,
                    f"at most {limit} characters (it has {lengths[rows[0]]})")


def check_values(source: str, attrs: pd.DataFrame, layer: str) -> pd.DataFrame:
    """Whole-number targets converted, text lengths checked; ``attrs`` itself is not changed."""
    out = attrs.copy()
    for target in INTEGER_RANGES:
        if target in out.columns:
            out[target] = whole_numbers(source, out, target)
    text_lengths(source, out, layer)
    return out
