"""Derive household counts for buildings that carry none (OSM-like sources).

Rule (documented in data/README.md):

* a building is residential when its type (``kind_detail``/``building``) is one of
  ``residential_types``, or its name matches ``residential_name`` (宿舍, 公寓, 住宅, 小区 …),
  or it stands on residential land use with no other type;
* floors = ``height`` ÷ ``floor_height_m`` (rounded, at least 1), else ``building:levels``
  (rounded), else ``default_floors``; values that are not positive numbers ("3;4", "12 m")
  count as unknown;
* households = ⌊footprint area (m²) × floors × ``net_ratio`` ÷ ``dwelling_m2``⌋, at least 1;
  non-residential buildings hold 0 households.
"""
from __future__ import annotations

from typing import Any, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

DEFAULT_RULE: dict[str, Any] = {
    "type_fields": ["kind_detail", "building"],
    "residential_types": ["residential", "apartments", "house", "dormitory", "detached",
                          "terrace", "semidetached_house"],
    "residential_name": "宿舍|公寓|住宅|小区|家属|单身楼",
    "landuse_field": "landuse_kind",
    "height_field": "height",
    "levels_field": "building:levels",
    "floor_height_m": 3.0,
    "default_floors": 6,
    "net_ratio": 0.75,
    "dwelling_m2": 90.0,
}


def _column(frame: pd.DataFrame, name: str | None) -> pd.Series:
    if name and name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def derive_households(frame: gpd.GeoDataFrame, metric: gpd.GeoSeries,
                      rule: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """``use``, ``floors`` and ``households`` for each row of ``frame``.

    ``metric`` is the footprints in a projected CRS (areas in m²).
    """
    r = {**DEFAULT_RULE, **(rule or {})}
    kind = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    for name in r["type_fields"]:
        kind = kind.fillna(_column(frame, name))
    names = _column(frame, "name").fillna("").astype(str)
    landuse = _column(frame, r["landuse_field"])
    residential = (kind.isin(r["residential_types"])
                   | names.str.contains(r["residential_name"], regex=True)
                   | (landuse.eq("residential") & kind.isna()))
    height = pd.to_numeric(_column(frame, r["height_field"]), errors="coerce")
    levels = pd.to_numeric(_column(frame, r["levels_field"]), errors="coerce")
    # OSM levels may be fractional (2.5: an attic storey): whole floors, like heights.
    floors = np.where(height > 0, np.maximum(1, np.round(height / r["floor_height_m"])),
                      np.where(levels > 0, np.maximum(1, np.round(levels)), np.nan))
    known = ~np.isnan(floors)
    use = np.where(residential, "residential",
                   kind.fillna("other").astype(str).str.slice(0, 32))
    floors_for_count = np.where(known, floors, r["default_floors"])
    area = metric.area.to_numpy()
    households = np.where(residential,
                          np.maximum(1, np.floor(area * floors_for_count * r["net_ratio"]
                                                 / r["dwelling_m2"])), 0).astype(int)
    return pd.DataFrame({"use": use,
                         "floors": pd.array(np.where(known, floors, np.nan), dtype="Int64"),
                         "households": households}, index=frame.index)
