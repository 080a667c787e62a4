"""CRS helpers: the storage CRS, Gauss–Krüger zones, transforms (always lon/lat order)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely import transform as shapely_transform
from shapely.geometry.base import BaseGeometry

from gridmap.errors import InvalidInput
from gridmap.i18n import msg

STORAGE_SRID = 4490  # CGCS2000 geographic; axis order lat, lon officially — we keep x=lon.
WGS84_SRID = 4326
GK_FIRST, GK_LAST = 4534, 4554  # CGCS2000 / 3-degree Gauss-Kruger CM 75E … CM 135E


def gauss_kruger_epsg(longitude: float) -> int:
    """The CGCS2000 3° Gauss–Krüger zone (EPSG:4534–4554, no false-easting zone prefix)
    whose central meridian is nearest to ``longitude``."""
    if not 73.5 <= longitude <= 136.5:
        raise InvalidInput(msg("longitude {longitude:.4f}: outside the CGCS2000 3° zones "
                               "(73.5°E–136.5°E)", longitude=longitude))
    return GK_FIRST + int(round((longitude - 75.0) / 3.0))


def central_meridian(epsg: int) -> float:
    if not GK_FIRST <= epsg <= GK_LAST:
        raise InvalidInput(msg("EPSG:{epsg} is not a CGCS2000 3° Gauss–Krüger zone "
                               "(EPSG:{gk_first}–{gk_last})", epsg=epsg, gk_first=GK_FIRST,
                               gk_last=GK_LAST))
    return 75.0 + 3.0 * (epsg - GK_FIRST)


def parse_crs(value: object) -> CRS:
    """A :class:`pyproj.CRS` from an EPSG code, ``"EPSG:n"``, WKT or PROJ string."""
    try:
        return CRS.from_user_input(value)
    except CRSError as exc:
        raise InvalidInput(msg("unknown CRS {value!r}: {exc}", value=value, exc=exc)) from None


@lru_cache(maxsize=64)
def transformer(source: int | str, target: int | str) -> Transformer:
    return Transformer.from_crs(parse_crs(source), parse_crs(target), always_xy=True)


def reproject(geometry: BaseGeometry, source: int | str, target: int | str) -> BaseGeometry:
    """Reproject one shapely geometry, x = easting/longitude throughout."""
    trans = transformer(source, target)

    def _apply(coords: np.ndarray) -> np.ndarray:
        x, y = trans.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely_transform(geometry, _apply)


def storage_ewkb(geometry: BaseGeometry) -> str:
    """A (multi)polygon as hex EWKB in EPSG:4490, every coordinate as given (no WKT rounding);
    PostGIS reads it wherever it reads EWKT (GeoAlchemy2 columns, ``ST_GeomFromEWKT``)."""
    multi = shapely.multipolygons(shapely.get_parts(geometry))
    return shapely.to_wkb(shapely.set_srid(multi, STORAGE_SRID), hex=True, include_srid=True)


DENSIFY_DEGREES = 0.001
"""Longest edge (degrees, ~100 m) kept when stored geometries are projected for metric work."""


def project_stored(geometries, epsg: int) -> np.ndarray:
    """Stored (EPSG:4490) geometries in a projected CRS, edges kept where they are.

    A stored edge is straight in longitude/latitude; projecting only its two vertices would
    make it straight in the projected CRS instead, a different line: a 16 km edge along a
    parallel moves by about 3 m at 30°N, enough to put a street "outside" its own district.
    Edges are first cut to at most :data:`DENSIFY_DEGREES`, which brings that error under a
    millimetre; the vertices that define the geometry are unchanged.
    """
    geoms = np.asarray(geometries, dtype=object)
    bounds = shapely.bounds(geoms)
    if geoms.size and np.nanmax(np.maximum(bounds[:, 2] - bounds[:, 0],
                                           bounds[:, 3] - bounds[:, 1])) > DENSIFY_DEGREES:
        geoms = shapely.segmentize(geoms, DENSIFY_DEGREES)  # (small shapes have no long edge)
    trans = transformer(STORAGE_SRID, epsg)
    return shapely.transform(geoms, lambda xy: np.column_stack(trans.transform(xy[:, 0],
                                                                               xy[:, 1])))
