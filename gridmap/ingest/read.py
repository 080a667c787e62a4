"""Read a source file into a GeoDataFrame: GeoPackage, Shapefile, GeoJSON, CSV, OSM PBF."""
from __future__ import annotations

import re
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
        # Unreadable geometries (a ring of two points…) become missing ones, which
        # normalise.polygons_only rejects naming the feature.
        frame = pyogrio.read_dataframe(path, layer=layer, where=recipe.where,
                                       on_invalid="ignore", **options)
    except (DataSourceError, DataLayerError) as exc:
        raise ImportFailed(f"cannot read {path.name}"
                           + (f" layer {layer!r}" if layer else "") + f": {exc}") from None
    except UnicodeDecodeError as exc:
        declared = recipe.encoding or "the encoding the file declares (.cpg)"
        raise ImportFailed(f"{path.name}: attribute text does not decode as {declared} "
                           f"(byte {exc.object[exc.start:exc.start + 1]!r}); give the right "
                           f"encoding, e.g. encoding: gbk") from None
    _check_text(frame, recipe)
    return frame


_CJK = re.compile(r"[\u3400-\u9fff]")
_HIGH_LATIN1 = re.compile(r"[\u0080-\u00ff]")


def _misread_as(value: str) -> str | None:
    """The encoding a Latin-1-decoded string really was in, when it decodes to Chinese."""
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        return None
    for candidate in ("utf-8", "gbk"):
        try:
            if _CJK.search(raw.decode(candidate)):
                return candidate
        except UnicodeDecodeError:
            continue
    return None


def _check_text(frame: gpd.GeoDataFrame, recipe: Recipe) -> None:
    """Reject text that was decoded with the wrong encoding, naming the field and feature.

    Two symptoms: replacement characters (bytes invalid in the declared encoding), and
    Latin-1 mojibake (a DBF without .cpg is read as ISO-8859-1 by default) that decodes to
    Chinese in GBK or UTF-8.
    """
    for column in frame.columns:
        if column == frame.geometry.name or not (
                pd.api.types.is_object_dtype(frame[column])
                or pd.api.types.is_string_dtype(frame[column])):
            continue
        values = frame[column].dropna()
        values = values[values.map(lambda v: isinstance(v, str))]
        broken = values[values.str.contains("\ufffd", regex=False)]
        if len(broken):
            raise ImportFailed(f"{recipe.source.name}: field {column!r} of feature "
                               f"{broken.index[0] + 1} does not decode as "
                               f"{recipe.encoding or 'the declared encoding'} "
                               f"({broken.iloc[0]!r}); give the right encoding "
                               f"(a .cpg file, or encoding: gbk in the recipe)")
        if recipe.encoding:
            continue
        for row, value in values[values.str.contains(_HIGH_LATIN1)].items():
            real = _misread_as(value)
            if real:
                raise ImportFailed(f"{recipe.source.name}: field {column!r} of feature "
                                   f"{row + 1} reads as {value!r}, which is {real.upper()} "
                                   f"text read as Latin-1 (the file does not say its "
                                   f"encoding); add a .cpg file or give encoding: {real}")
