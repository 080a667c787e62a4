"""Read a source file into a GeoDataFrame: GeoPackage, Shapefile, GeoJSON, CSV, OSM PBF.

Only the columns the import uses are read (plus OSM's id and tag columns; a CSV is read
whole), so text in other columns can neither fail nor slow an import. Library warnings never reach the user as they
are: the ones that matter become errors (a file with several layers and none chosen,
undecodable text), the others one-line notes in ``frame.attrs["notes"]``.
"""
from __future__ import annotations

import re
import warnings
from collections import Counter
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from gridmap.errors import ImportFailed
from gridmap.i18n import msg
from gridmap.ingest import encoding, osm
from gridmap.ingest.recipe import Recipe
from gridmap.ingest.rowfilter import GEOMETRY_TYPE, apply_filter

_SHOWN_COLUMNS = 40
# GDAL's warning (once per process) that it dropped text it could not recode to UTF-8.
_GDAL_RECODE = "couldn't be converted correctly"


def _read_csv_text(recipe: Recipe, encoding_name: str) -> pd.DataFrame:
    return pd.read_csv(recipe.source, encoding=encoding_name, dtype=str)


def _read_csv(recipe: Recipe) -> gpd.GeoDataFrame:
    name = recipe.source.name
    declared = recipe.encoding or "utf-8"
    try:
        frame = _read_csv_text(recipe, declared)
    except UnicodeDecodeError as exc:
        raise ImportFailed(msg("{name}: text does not decode as {encoding} (byte {position}: "
                               "{data!r}); {suggestion}", name=name, encoding=declared,
                               position=exc.start,
                               data=exc.object[exc.start:exc.start + 4],
                               suggestion=encoding.suggestion(
                                   lambda e: _read_csv_text(recipe, e),
                                   list(recipe.used_columns()), declared))) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ImportFailed(msg("{name} is not a readable CSV file: {error}", name=name,
                               error=str(exc).strip().splitlines()[0])) from None
    _require_columns(recipe, frame.columns.tolist(), [])
    if recipe.wkt_field:
        wkt = frame[recipe.wkt_field]
        try:
            geoms = shapely.from_wkt(wkt.where(wkt.notna(), None).to_numpy(dtype=object))
        except shapely.errors.GEOSException:
            geoms = None
        if geoms is None:  # find the row only when something failed
            for row, value in enumerate(wkt):
                try:
                    shapely.from_wkt(value if isinstance(value, str) else None)
                except shapely.errors.GEOSException as exc:
                    raise ImportFailed(msg("{name} row {row}: unreadable WKT {wkt!r} "
                                           "({exc})", name=name, row=row + 2,
                                           wkt=value[:40], exc=exc)) from None
        frame = frame.drop(columns=[recipe.wkt_field])
    elif recipe.x_field and recipe.y_field:
        x = pd.to_numeric(frame[recipe.x_field], errors="coerce")
        y = pd.to_numeric(frame[recipe.y_field], errors="coerce")
        bad = (x.isna() | y.isna()).to_numpy().nonzero()[0]
        if bad.size:
            raise ImportFailed(msg("{name} row {row}: coordinates {x!r}, {y!r} are "
                                   "not numbers", name=name, row=bad[0] + 2,
                                   x=frame[recipe.x_field].iloc[bad[0]],
                                   y=frame[recipe.y_field].iloc[bad[0]]))
        geoms = shapely.points(x.to_numpy(), y.to_numpy())
    else:
        raise ImportFailed(msg("{name}: a CSV needs wkt_field (--wkt-field), or x_field and "
                               "y_field (--x-field, --y-field)", name=name))
    return gpd.GeoDataFrame(frame, geometry=list(geoms), crs=None)


# Formats that hold exactly one layer (not .json: TopoJSON files hold several).
_ONE_LAYER = (".geojson", ".geojsonl", ".geojsons", ".shp", ".fgb")


def _choose_layer(recipe: Recipe) -> str | None:
    """The layer to read: the recipe's, OSM's areas, or the only one; never a silent pick."""
    if recipe.source_layer:
        return recipe.source_layer
    if recipe.is_osm:
        return "multipolygons"
    if recipe.source.suffix.lower() in _ONE_LAYER:
        return None  # listing layers would parse the whole file once more
    try:
        layers = [str(n) for n in pyogrio.list_layers(recipe.source)[:, 0]]
    except (DataSourceError, DataLayerError) as exc:
        raise ImportFailed(msg("cannot read {name}: {exc}", name=recipe.source.name,
                               exc=_first_line(exc))) from None
    if len(layers) > 1:
        raise ImportFailed(msg("{name} holds {count} layers ({items}); say which with "
                               "--source-layer (source_layer: in a recipe)",
                               name=recipe.source.name, count=len(layers),
                               items=', '.join(layers)))
    return layers[0] if layers else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    if "not recognized as being in a supported file format" in text:
        return ("not a format GDAL reads (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, OSM "
                "PBF/XML…; CSV by its .csv suffix)")
    return text.splitlines()[0] if text else type(exc).__name__


def _notes(caught: list[warnings.WarningMessage]) -> list[str]:
    # GDAL's advice to set one of its configuration options is not the user's to follow.
    counts = Counter(re.sub(r"\s*To avoid accepting it, set the \S+ configuration option "
                            r"to \S+", "", " ".join(str(w.message).split()))
                     for w in caught)
    return [f"GDAL: {message}" + (f" ({n} times)" if n > 1 else "")
            for message, n in counts.items()]


def _require_columns(recipe: Recipe, columns: list[str], tag_keys: list[str]) -> None:
    """Every column the recipe maps or filters on exists; else list what does."""
    needed = list(recipe.fields.values()) + [c for c in recipe.where or {}
                                              if c != GEOMETRY_TYPE]
    needed += [c for c in (recipe.x_field, recipe.y_field, recipe.wkt_field) if c]
    available = set(columns) | set(tag_keys)
    missing = [c for c in dict.fromkeys(needed) if c not in available]
    if not missing:
        return
    targets = [t for t, s in recipe.fields.items() if s == missing[0]]
    role = (msg("mapped to {target}", target=targets[0]) if targets
            else msg("named by the filter (where: or --where)")
            if missing[0] in (recipe.where or {}) else msg("named by the recipe"))
    shown = [c for c in columns if c != "geometry"]
    text = ", ".join(shown)
    if tag_keys:
        more = len(tag_keys) - _SHOWN_COLUMNS
        tags = ", ".join(tag_keys[:_SHOWN_COLUMNS])
        text = msg("{columns}; OSM tags: {tags} … and {count} more", columns=text, tags=tags,
                   count=more) if more > 0 else \
            msg("{columns}; OSM tags: {tags}", columns=text, tags=tags)
    hint = ""
    if recipe.is_osm and "source_id" in targets:
        hint = msg("; {hint}", hint=osm.id_hint(missing[0]))
    raise ImportFailed(msg("{name}: field {field!r} ({role}) is missing; the source has "
                           "{text}{hint}", name=recipe.source.name, field=missing[0], role=role,
                           text=text, hint=hint))


def _declared_encoding(recipe: Recipe, info: dict) -> tuple[str | None, bool]:
    """The encoding to read text with (``None``: GDAL's own), and whether it is a guess.

    The recipe's encoding wins; a Shapefile's ``.cpg`` is read as GDAL reads it; a Shapefile
    with neither is Latin-1 by GDAL's default — a guess, so its text is checked for Chinese
    read as Latin-1.
    """
    if recipe.encoding:
        return encoding.codec_name(recipe.encoding), False
    if info["driver"] != "ESRI Shapefile":
        return None, False
    for suffix in (".cpg", ".CPG"):
        cpg = recipe.source.with_suffix(suffix)
        if cpg.exists():
            text = cpg.read_text(encoding="ascii", errors="replace")
            try:
                return encoding.cpg_encoding(text), False
            except LookupError:
                raise ImportFailed(msg("{name} names the encoding {encoding!r}, which is not one "
                                       "Python knows; give the encoding (--encoding gbk, "
                                       "encoding: gbk)", name=cpg.name,
                                   encoding=text.strip())) from None
    if str(info["encoding"]).upper() in ("ISO-8859-1", "LATIN1"):
        return encoding.codec_name("latin-1"), True
    return None, False  # the .dbf's language driver id says it, and GDAL decodes


def _read_ogr(recipe: Recipe, layer: str | None) -> gpd.GeoDataFrame:
    """Read with every GDAL warning caught: the ones that matter raise, the rest are notes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = _read_ogr_checked(recipe, layer, caught)
    frame.attrs["notes"] = _notes(caught) + frame.attrs.get("notes", [])
    return frame


def _read_ogr_checked(recipe: Recipe, layer: str | None,
                      caught: list[warnings.WarningMessage]) -> gpd.GeoDataFrame:
    path, name = recipe.source, recipe.source.name
    known = _SINGLE_LAYER_UTF8.get(path.suffix.lower())
    if known and not recipe.is_osm:
        # One layer, UTF-8 by specification: no need to open the file once more just to
        # learn that (a 100 MB GeoJSON is parsed whole at every open, 0.8 s). Columns the
        # recipe names but the file lacks are found after reading.
        info = {"driver": known, "encoding": "UTF-8", "fields": None}
    else:
        info = _info(path, layer, name)
    fields = ([str(f) for f in info["fields"]] if info["fields"] is not None
              else recipe.used_columns())
    buildings = recipe.is_osm and layer == "multipolygons" and recipe.layer == "buildings"
    used = recipe.used_columns()
    if recipe.is_osm:
        used += ["osm_id", "osm_way_id", "building", osm.TAGS_COLUMN]
    elif info["fields"] is not None:
        _require_columns(recipe, fields, [])
    columns = [c for c in dict.fromkeys(used) if c in fields]
    where = osm.BUILDINGS_WHERE if buildings else None
    return _read_columns(recipe, layer, info, columns, where, buildings, used, caught)


_SINGLE_LAYER_UTF8 = {".geojson": "GeoJSON", ".fgb": "FlatGeobuf"}


def _info(path: Path, layer: str | None, name: str) -> dict:
    try:
        return pyogrio.read_info(path, layer=layer)
    except DataLayerError:
        layers = ", ".join(str(n) for n in pyogrio.list_layers(path)[:, 0])
        raise ImportFailed(msg("{name} has no layer {layer!r}; its layers are {layers}",
                               name=name, layer=layer, layers=layers)) from None
    except DataSourceError as exc:
        raise ImportFailed(msg("cannot read {name}: {exc}", name=name,
                               exc=_first_line(exc))) from None


def _read_columns(recipe: Recipe, layer: str | None, info: dict, columns: list[str],
                  where: str | None, buildings: bool, used: list[str],
                  caught: list[warnings.WarningMessage]) -> gpd.GeoDataFrame:
    path, name = recipe.source, recipe.source.name
    driver = info["driver"]
    shapefile = driver == "ESRI Shapefile"

    def read(encoding_name: str | None, geometry: bool = False) -> pd.DataFrame:
        # GDAL recodes Shapefile text itself, silently dropping bytes that are not text in
        # the encoding (and says so once per process): read the raw bytes and decode them
        # here, strictly. Other drivers are decoded strictly by pyogrio.
        raw = shapefile and encoding_name is not None
        frame = pyogrio.read_dataframe(
            path, layer=layer, columns=columns, where=where, read_geometry=geometry,
            on_invalid="ignore", encoding=encoding.RAW if raw else encoding_name)
        return encoding.decode_columns(frame, columns, encoding_name) if raw else frame

    def reread(encoding_name: str) -> pd.DataFrame:
        return read(encoding_name)

    declared, guessed = _declared_encoding(recipe, info)
    context = dict(reread=reread, columns=columns, driver=driver)
    encoding.refuse_needless_encoding(name, recipe_encoding=recipe.encoding, **context)
    try:
        # Unreadable geometries (a ring of two points…) become missing ones, which
        # normalise.require_geometry rejects naming the feature.
        frame = read(declared, geometry=True)
    except (DataSourceError, DataLayerError) as exc:
        raise ImportFailed(msg("cannot read {name} layer {layer!r}: {error}", name=name,
                               layer=layer, error=_first_line(exc)) if layer else
                           msg("cannot read {name}: {error}", name=name,
                               error=_first_line(exc))) from None
    except (UnicodeDecodeError, encoding.Undecodable) as exc:
        found = exc if isinstance(exc, encoding.Undecodable) else None
        raise encoding.explain_decode_error(
            name, recipe_encoding=recipe.encoding, file_encoding=declared or info["encoding"],
            found=found, **context) from None
    if info["fields"] is None and not set(columns) <= set(frame.columns):
        _require_columns(recipe, [str(f) for f in _info(path, layer, name)["fields"]], [])
    if any(_GDAL_RECODE in str(w.message) for w in caught):
        raise encoding.explain_decode_error(name, recipe_encoding=recipe.encoding,
                                            file_encoding=info["encoding"], **context)
    notes: list[str] = []
    tag_keys: list[str] = []
    if recipe.is_osm:
        frame, tag_keys = osm.expand_tags(frame, used)
        frame = osm.add_address(osm.add_ids(frame, layer))
        if buildings:
            frame, parts = osm.buildings_only(frame)
            if parts:
                notes.append(msg("{count} OSM building:part area(s) left out: they lie over "
                                 "their building", count=parts))
        frame = frame.drop(columns=[osm.TAGS_COLUMN], errors="ignore").reset_index(drop=True)
        _require_columns(recipe, frame.columns.tolist(), tag_keys)
    encoding.check_text(frame, name, columns=columns, driver=driver, guessed=guessed,
                        declared=declared or info["encoding"], reread=reread)
    frame.attrs["notes"] = notes
    return frame


def read_source(recipe: Recipe) -> gpd.GeoDataFrame:
    """The source's features (filtered by ``recipe.where``), in the CRS the file declares
    (``None`` when it has none), numbered from 0 in the order read."""
    path: Path = recipe.source
    if not path.exists():
        raise ImportFailed(msg("source file {path} does not exist", path=path))
    if path.suffix.lower() == ".csv":
        frame = _read_csv(recipe)
    else:
        frame = _read_ogr(recipe, _choose_layer(recipe))
    notes = frame.attrs.get("notes", [])
    frame = apply_filter(frame, recipe.where, path.name)
    if recipe.where and len(frame) == 0:
        raise ImportFailed(msg("{name}: no feature meets the filter {where}", name=path.name,
                               where=recipe.where))
    frame.attrs["notes"] = notes
    return frame
