"""Read and check a source without touching the database: features in EPSG:4490 and their
target attributes, or :class:`~gridmap.errors.ImportFailed` naming the feature and the reason."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from gridmap.errors import ImportFailed
from gridmap.ingest.households import derive_households
from gridmap.ingest.normalise import (GEOMETRY_CHECKS, assign_crs, metric_crs,
                                      polygons_only, require_geometry, to_storage_crs)
from gridmap.ingest.read import read_source
from gridmap.ingest.recipe import REQUIRED_FIELDS, Recipe


def _attributes(frame: gpd.GeoDataFrame, recipe: Recipe) -> pd.DataFrame:
    """Target fields from source fields (mapping, defaults), checking required ones."""
    out = pd.DataFrame(index=frame.index)
    for target, source in recipe.fields.items():
        if source not in frame.columns:
            raise ImportFailed(f"{recipe.source.name}: field {source!r} (mapped to {target}) "
                               f"is missing; the source has "
                               f"{', '.join(c for c in frame.columns if c != 'geometry')}")
        out[target] = frame[source]
    for target, value in recipe.defaults.items():
        out[target] = out[target].fillna(value) if target in out else value
    for required in REQUIRED_FIELDS[recipe.layer]:
        if required not in out:
            raise ImportFailed(f"recipe for {recipe.layer} must map field {required!r}")
        empty = out[required].isna().to_numpy().nonzero()[0]
        if empty.size:
            raise ImportFailed(f"{recipe.source.name} feature {empty[0] + 1}: {required} is "
                               f"empty")
    for key in ("source_id", "code"):
        if key in out:
            out[key] = out[key].map(_as_text)
            dup = out[key][out[key].duplicated()]
            if len(dup):
                raise ImportFailed(f"{recipe.source.name}: {key} {dup.iloc[0]!r} appears "
                                   f"more than once")
    return out


def _as_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def prepare(recipe: Recipe) -> tuple[gpd.GeoDataFrame, pd.DataFrame, int]:
    """Read and check a source without touching the database.

    Returns the features in EPSG:4490, their target attributes and how many were repaired.
    """
    frame = assign_crs(read_source(recipe), recipe)
    if len(frame) == 0:
        raise ImportFailed(f"{recipe.source.name} holds no features")
    require_geometry(frame, recipe)
    frame = to_storage_crs(frame, recipe)
    before = ~shapely.is_valid(frame.geometry.values)
    frame = GEOMETRY_CHECKS.get(recipe.layer, polygons_only)(frame, recipe)
    attrs = _attributes(frame, recipe)
    if recipe.layer == "buildings" and recipe.households is not None:
        derived = derive_households(frame, frame.geometry.to_crs(metric_crs(frame)),
                                    recipe.households)
        for column in derived:
            attrs[column] = attrs[column].fillna(derived[column]) if column in attrs \
                else derived[column]
    return frame, attrs, int(before.sum())
