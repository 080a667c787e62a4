"""Read and check a source without touching the database: features in EPSG:4490 and their
target attributes, or :class:`~gridmap.errors.ImportFailed` naming the feature and the reason.

Warnings raised by the libraries on the way (GDAL, shapely, pyproj) never reach the user with
their internal paths: they are kept, one line each, in ``frame.attrs["notes"]``.
"""
from __future__ import annotations

import warnings

import geopandas as gpd
import pandas as pd
import shapely

from gridmap.errors import ImportFailed
from gridmap.i18n import msg
from gridmap.ingest import osm
from gridmap.ingest.households import derive_households
from gridmap.ingest.normalise import (GEOMETRY_CHECKS, assign_crs, metric_crs,
                                      polygons_only, require_geometry, to_storage_crs)
from gridmap.ingest.read import read_source
from gridmap.ingest.recipe import REQUIRED_FIELDS, Recipe
from gridmap.ingest.values import check_values


def _osm_hint(recipe: Recipe, target: str, column: str) -> str:
    return msg("; {hint}", hint=osm.id_hint(column)) \
        if recipe.is_osm and target == "source_id" else ""


def _attributes(frame: gpd.GeoDataFrame, recipe: Recipe) -> pd.DataFrame:
    """Target fields from source fields (mapping, defaults), checking required ones."""
    name = recipe.source.name
    out = pd.DataFrame(index=frame.index)
    for target, source in recipe.fields.items():
        if source not in frame.columns:
            raise ImportFailed(msg("{name}: field {source!r} (mapped to {target}) is missing; "
                                   "the source has {items}{recipe}", name=name, source=source,
                                   target=target,
                                   items=', '.join(c for c in frame.columns if c != 'geometry'),
                                   recipe=_osm_hint(recipe, target, source)))
        out[target] = frame[source].astype(object).where(frame[source].notna(), None)
    for target, value in recipe.defaults.items():
        out[target] = out[target].fillna(value) if target in out else value
    for required in REQUIRED_FIELDS[recipe.layer]:
        if required not in out:
            raise ImportFailed(msg("recipe for {layer} must map field {required!r}",
                                   layer=recipe.layer, required=required))
        empty = out[required].isna().to_numpy().nonzero()[0]
        if empty.size:
            values = dict(name=name, number=empty[0] + 1, field=required,
                          source=recipe.fields.get(required, msg("default")),
                          hint=_osm_hint(recipe, required, recipe.fields.get(required, "")))
            if empty.size > 1:
                raise ImportFailed(msg("{name} feature {number}: {field} ({source}) is empty in "
                                       "{count} features{hint}", count=empty.size, **values))
            raise ImportFailed(msg("{name} feature {number}: {field} ({source}) is empty{hint}",
                                   **values))
    for key in ("source_id", "code"):
        if key in out:
            out[key] = out[key].map(_as_text)
            dup = out[key][out[key].duplicated()]
            if len(dup):
                raise ImportFailed(msg("{name}: {key} {value!r} appears more than once",
                                       name=name, key=key, value=dup.iloc[0]))
    return check_values(name, out, recipe.layer)


def _as_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _prepare(recipe: Recipe) -> tuple[gpd.GeoDataFrame, pd.DataFrame, int, list[str]]:
    frame = read_source(recipe)
    notes = list(frame.attrs.get("notes", []))
    frame = assign_crs(frame, recipe)
    if len(frame) == 0:
        raise ImportFailed(msg("{name} holds no features", name=recipe.source.name))
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
        attrs = check_values(recipe.source.name, attrs, recipe.layer)
    return frame, attrs, int(before.sum()), notes


def prepare(recipe: Recipe) -> tuple[gpd.GeoDataFrame, pd.DataFrame, int]:
    """Read and check a source without touching the database.

    Returns the features in EPSG:4490 (with ``attrs["notes"]``: what the libraries warned
    about, one line each), their target attributes and how many were repaired.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame, attrs, repaired, notes = _prepare(recipe)
    notes += [f"{w.category.__name__}: {' '.join(str(w.message).split())}" for w in caught]
    frame.attrs["notes"] = list(dict.fromkeys(notes))
    return frame, attrs, repaired
