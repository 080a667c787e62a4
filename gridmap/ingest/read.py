"""Read a source file into a GeoDataFrame: GeoPackage, Shapefile, GeoJSON, CSV, OSM PBF."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from gridmap.errors import ImportFailed
from gridmap.ingest.recipe import Recipe

_OSM_SUFFIXES = (".pbf", ".osm")


def _read_csv(recipe: Recipe) -> gpd.GeoDataFrame:
    try:
        frame = pd.read_csv(recipe.source, encoding=recipe.encoding or "utf-8", dtype=str)
    except UnicodeDecodeError as exc:
        raise ImportFailed(f"{recipe.source.name} is not {recipe.encoding or 'utf-8'} text "
                           f"(byte {exc.start}); give the encoding, e.g. encoding: gbk") from None
    if recipe.wkt_field:
        if recipe.wkt_field not in frame.columns:
            raise ImportFailed(f"{recipe.source.name}: no WKT column {recipe.wkt_field!r}; "
                               f"columns are {', '.join(frame.columns)}")
        geoms = []
        for row, wkt in enumerate(frame[recipe.wkt_field]):
            try:
                geoms.append(shapely.from_wkt(wkt) if isinstance(wkt, str) else None)
            except shapely.errors.GEOSException as exc:
                raise ImportFailed(f"{recipe.source.name} row {row + 2}: unreadable WKT "
                                   f"({exc})") from None
        frame = frame.drop(columns=[recipe.wkt_field])
    elif recipe.x_field and recipe.y_field:
        missing = [c for c in (recipe.x_field, recipe.y_field) if c not in frame.columns]
        if missing:
            raise ImportFailed(f"{recipe.source.name}: no column {missing[0]!r}; columns are "
                               f"{', '.join(frame.columns)}")
        x = pd.to_numeric(frame[recipe.x_field], errors="coerce")
        y = pd.to_numeric(frame[recipe.y_field], errors="coerce")
        bad = (x.isna() | y.isna()).to_numpy().nonzero()[0]
        if bad.size:
            raise ImportFailed(f"{recipe.source.name} row {bad[0] + 2}: coordinates "
                               f"{frame[recipe.x_field].iloc[bad[0]]!r}, "
                               f"{frame[recipe.y_field].iloc[bad[0]]!r} are not numbers")
        geoms = list(shapely.points(x.to_numpy(), y.to_numpy()))
    else:
        raise ImportFailed(f"{recipe.source.name}: a CSV needs wkt_field, or x_field and y_field")
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=None)


def read_source(recipe: Recipe) -> gpd.GeoDataFrame:
    """The source's features with the CRS the file declares (``None`` when it has none)."""
    path: Path = recipe.source
    if not path.exists():
        raise ImportFailed(f"source file {path} does not exist")
    if path.suffix.lower() == ".csv":
        return _read_csv(recipe)
    layer = recipe.source_layer
    if layer is None and path.suffix.lower() in _OSM_SUFFIXES:
        layer = "multipolygons"
    options = {}
    if recipe.encoding:
        options["encoding"] = recipe.encoding
    try:
        frame = pyogrio.read_dataframe(path, layer=layer, where=recipe.where, **options)
    except (DataSourceError, DataLayerError) as exc:
        raise ImportFailed(f"cannot read {path.name}"
                           + (f" layer {layer!r}" if layer else "") + f": {exc}") from None
    _check_text(frame, recipe)
    return frame


def _check_text(frame: gpd.GeoDataFrame, recipe: Recipe) -> None:
    """Reject text that decoded to replacement characters: the encoding was wrong."""
    for column in frame.columns:
        if frame[column].dtype != object or column == frame.geometry.name:
            continue
        text = frame[column].dropna().astype(str)
        broken = text[text.str.contains("\ufffd", regex=False)]
        if len(broken):
            raise ImportFailed(f"{recipe.source.name}: field {column!r} of feature "
                               f"{broken.index[0]} does not decode as "
                               f"{recipe.encoding or 'the declared encoding'} "
                               f"({broken.iloc[0]!r}); give the right encoding "
                               f"(a .cpg file, or encoding: gbk in the recipe)")
