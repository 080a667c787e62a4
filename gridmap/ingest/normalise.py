"""Validate features and bring them to CGCS2000 (EPSG:4490) polygons."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gridmap.errors import ImportFailed
from gridmap.i18n import msg
from gridmap.geo import STORAGE_SRID, gauss_kruger_epsg, parse_crs, transformer
from gridmap.ingest.recipe import Recipe
from gridmap.ingest.values import shown

# Where CGCS2000 coordinates can be: the bounding box of China's territory with a margin.
_CHINA = (73.0, 3.0, 136.0, 54.0)


def _feature(frame: gpd.GeoDataFrame, row: int, recipe: Recipe) -> str:
    key = recipe.fields.get("source_id") or recipe.fields.get("code")
    label = f"feature {row + 1}"
    if key and key in frame.columns:
        label += f" ({key}={shown(frame[key].iloc[row])})"
    return label


def assign_crs(frame: gpd.GeoDataFrame, recipe: Recipe) -> gpd.GeoDataFrame:
    """Use the file's CRS, or the recipe's when the file has none; they must agree."""
    declared = parse_crs(recipe.crs) if recipe.crs is not None else None
    if frame.crs is None:
        if declared is None:
            raise ImportFailed(msg("{name} has no CRS; say which it is (--crs EPSG:4326, or "
                                   "crs: in the recipe)", name=recipe.source.name))
        return frame.set_crs(declared)
    if declared is not None and not frame.crs.equals(declared):
        raise ImportFailed(msg("{name} declares {declared} but the recipe says {recipe_crs}; "
                               "fix the recipe or the file", name=recipe.source.name,
                               declared=frame.crs.to_string(), recipe_crs=declared.to_string()))
    return frame


def to_storage_crs(frame: gpd.GeoDataFrame, recipe: Recipe) -> gpd.GeoDataFrame:
    """Reproject to EPSG:4490 and check every feature lands inside China."""
    if frame.crs.is_geographic:
        b = frame.total_bounds
        if not (-180 <= b[0] <= 180 and -180 <= b[2] <= 180 and -90 <= b[1] <= 90
                and -90 <= b[3] <= 90):
            raise ImportFailed(msg("{name}: coordinates {x:.1f}, {y:.1f} are not "
                                   "degrees, yet the CRS is {crs}; the declared CRS is wrong",
                                   name=recipe.source.name, x=b[0], y=b[1],
                                   crs=frame.crs.to_string()))
    # WGS 84 → CGCS2000 is a no-op in PROJ (they agree to well under a metre): skip copying
    # every coordinate through it (a tenth of the import's memory at 170,000 buildings).
    if transformer(frame.crs.to_wkt(), STORAGE_SRID).definition.startswith("proj=noop"):
        out = frame.set_crs(STORAGE_SRID, allow_override=True)
    else:
        out = frame.to_crs(STORAGE_SRID)
    bounds = out.geometry.bounds.to_numpy()
    outside = ~((bounds[:, 0] >= _CHINA[0]) & (bounds[:, 2] <= _CHINA[2])
                & (bounds[:, 1] >= _CHINA[1]) & (bounds[:, 3] <= _CHINA[3]))
    if outside.any():
        row = int(np.nonzero(outside)[0][0])
        raise ImportFailed(msg("{name} {frame} lies at {lon:.4f}, {lat:.4f} (lon, lat in "
                               "CGCS2000), outside China; is the CRS {crs} right?",
                               name=recipe.source.name, frame=_feature(frame, row, recipe),
                               lon=bounds[row, 0], lat=bounds[row, 1],
                               crs=frame.crs.to_string()))
    return out


_LISTED = 5


def _leave_out(frame: gpd.GeoDataFrame, rows: np.ndarray, recipe: Recipe) -> str:
    """How to leave ``rows`` out with a filter, when they have ids to name."""
    key = recipe.fields.get("source_id") or recipe.fields.get("code")
    if not key or key not in frame.columns or rows.size > _LISTED:
        return ""
    ids = frame[key].iloc[rows]
    if ids.isna().any():
        return ""
    text = ",".join(str(v) for v in ids)
    return f"; fix them, or leave them out with --where '{key}!={text}'"


def require_geometry(frame: gpd.GeoDataFrame, recipe: Recipe) -> None:
    """Every feature has a readable, non-empty geometry with finite coordinates."""
    geoms = frame.geometry.values
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        rows = np.nonzero(missing)[0]
        raise ImportFailed(msg("{name}: {count} feature(s) without a readable geometry, first "
                               "{frame} (empty, or e.g. a ring of fewer than 3 points){leave_out}",
                               name=recipe.source.name, count=rows.size,
                               frame=_feature(frame, int(rows[0]), recipe),
                               leave_out=_leave_out(frame, rows, recipe)))
    coords, rows = shapely.get_coordinates(geoms, return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():
        row = int(rows[np.nonzero(bad)[0][0]])
        point = coords[np.nonzero(bad)[0][0]]
        count = np.unique(rows[bad]).size
        raise ImportFailed(msg("{name}: {count} feature(s) with coordinates that are not finite "
                               "numbers, first {frame} at {x}, {y}; expected numbers "
                               "(repair cannot invent coordinates){leave_out}",
                               name=recipe.source.name, count=count,
                               frame=_feature(frame, row, recipe), x=point[0],
                               y=point[1],
                               leave_out=_leave_out(frame, np.unique(rows[bad]), recipe)))


def polygons_only(frame: gpd.GeoDataFrame, recipe: Recipe) -> gpd.GeoDataFrame:
    """Check every geometry is a valid (multi)polygon; repair when the recipe allows it."""
    geoms = frame.geometry.values
    kinds = shapely.get_type_id(geoms)
    not_area = ~np.isin(kinds, (3, 6))
    if not_area.any():
        row = int(np.nonzero(not_area)[0][0])
        raise ImportFailed(msg("{name} {frame} is a {geom_type}; the {layer} layer takes "
                               "polygons", name=recipe.source.name,
                               frame=_feature(frame, row, recipe),
                               geom_type=geoms[row].geom_type, layer=recipe.layer))
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        if not recipe.repair:
            row = int(np.nonzero(invalid)[0][0])
            raise ImportFailed(msg("{name}: {count} invalid polygon(s), first {frame}: "
                                   "{reason}; set repair: true to fix them with make_valid",
                                   name=recipe.source.name, count=int(invalid.sum()),
                                   frame=_feature(frame, row, recipe),
                                   reason=shapely.is_valid_reason(geoms[row])))
        fixed = shapely.make_valid(geoms[invalid])
        # make_valid may return collections with lines or points: keep the areal parts.
        fixed = np.array([shapely.union_all([p for p in shapely.get_parts(g)
                                             if p.geom_type in ("Polygon", "MultiPolygon")])
                          for g in fixed], dtype=object)
        empty = shapely.is_empty(fixed)
        if empty.any():
            row = int(np.nonzero(invalid)[0][np.nonzero(empty)[0][0]])
            raise ImportFailed(msg("{name} {frame} has no area left after repair: {reason}",
                                   name=recipe.source.name, frame=_feature(frame, row, recipe),
                                   reason=shapely.is_valid_reason(geoms[row])))
        geoms = geoms.copy()
        geoms[invalid] = fixed
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
    return frame.set_geometry(geoms, crs=frame.crs)


def metric_crs(frame: gpd.GeoDataFrame) -> int:
    """The Gauss–Krüger zone of the features' centre (frame in EPSG:4490)."""
    b = frame.total_bounds
    return gauss_kruger_epsg((b[0] + b[2]) / 2)


def lines_only(frame: gpd.GeoDataFrame, recipe: Recipe) -> gpd.GeoDataFrame:
    """Check every geometry is a (multi)linestring with length; make them multilinestrings.

    A line cannot be repaired the way a polygon can: one without length (all its points in one
    place) is rejected, naming the feature.

    Parameters
    ----------
    frame
        The features, in any CRS.
    recipe
        The recipe, for the messages (source name, layer, id field).

    Returns
    -------
    geopandas.GeoDataFrame
        ``frame`` with 2-D multilinestrings.

    Raises
    ------
    ImportFailed
        A feature is not a line, or has no length.
    """
    geoms = frame.geometry.values
    not_line = ~np.isin(shapely.get_type_id(geoms), (1, 5))
    if not_line.any():
        row = int(np.nonzero(not_line)[0][0])
        raise ImportFailed(msg("{name} {frame} is a {geom_type}; the {layer} layer takes lines",
                               name=recipe.source.name, frame=_feature(frame, row, recipe),
                               geom_type=geoms[row].geom_type, layer=recipe.layer))
    flat = shapely.force_2d(geoms)
    degenerate = ~shapely.is_valid(flat) | (shapely.length(flat) == 0)
    if degenerate.any():
        row = int(np.nonzero(degenerate)[0][0])
        raise ImportFailed(msg("{name}: {count} line(s) without length, first {frame}: {reason}",
                               name=recipe.source.name, count=int(degenerate.sum()),
                               frame=_feature(frame, row, recipe),
                               reason=shapely.is_valid_reason(flat[row])))
    parts, index = shapely.get_parts(flat, return_index=True)
    return frame.set_geometry(shapely.multilinestrings(parts, indices=index), crs=frame.crs)


def areas_or_lines(frame: gpd.GeoDataFrame, recipe: Recipe) -> gpd.GeoDataFrame:
    """Water: areas (lakes, river banks) through :func:`polygons_only`, lines (rivers,
    canals) through :func:`lines_only`; anything else (a label point) is rejected."""
    kinds = shapely.get_type_id(frame.geometry.values)
    lines = np.isin(kinds, (1, 5))
    other = ~lines & ~np.isin(kinds, (3, 6))
    if other.any():
        row = int(np.nonzero(other)[0][0])
        raise ImportFailed(msg("{name} {frame} is a {geom_type}; the {layer} layer takes areas "
                               "or lines (leave other features out with where:)",
                               name=recipe.source.name, frame=_feature(frame, row, recipe),
                               geom_type=frame.geometry.values[row].geom_type,
                               layer=recipe.layer))
    geoms = frame.geometry.values.copy()
    if (~lines).any():
        areas = polygons_only(frame[~lines], recipe).geometry.values
        parts, index = shapely.get_parts(areas, return_index=True)
        geoms[~lines] = shapely.multipolygons(parts, indices=index)
    if lines.any():
        geoms[lines] = lines_only(frame[lines], recipe).geometry.values
    return frame.set_geometry(geoms, crs=frame.crs)


GEOMETRY_CHECKS = {"roads": lines_only, "water": areas_or_lines}
"""Layers whose features are not polygons, and their check (:func:`polygons_only` otherwise)."""
