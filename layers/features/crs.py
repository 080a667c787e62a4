"""Coordinate reference systems of OGC API – Features Part 2: CRS URIs, axis order, bboxes.

The CRSs offered are those an export may be written in (:mod:`gridmap.export.crs`), named by
their OGC URIs, plus ``CRS84`` (WGS 84 in lon/lat order, the default of Part 1). Part 2 asks
for each CRS's *official* axis order: EPSG:4326 and EPSG:4490 are latitude first, the
CGCS2000 Gauss–Krüger zones northing first, EPSG:3857 easting first. PostGIS and pyproj work
in x = east order (``always_xy``), so a CRS whose first axis points north is flipped
(``ST_FlipCoordinates``) on the way out, and its bbox numbers swapped on the way in.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from gridmap.errors import InvalidInput
from gridmap.export.crs import ALLOWED_SRIDS, ALLOWED_TEXT
from gridmap.geo import STORAGE_SRID, WGS84_SRID
from gridmap.i18n import msg

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{srid}"
_URI = re.compile(r"^(?:http://www\.opengis\.net/def/crs/EPSG/0/|\[?EPSG:)([0-9]{1,6})\]?$",
                  re.IGNORECASE)
_CRS84 = (CRS84_URI, "CRS84", "[OGC:CRS84]", "OGC:CRS84")
_DECIMAL = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]{1,3})?")


@lru_cache(maxsize=None)
def _north_first(srid: int) -> bool:
    from pyproj import CRS

    return CRS.from_epsg(srid).axis_info[0].direction.lower() == "north"


@lru_cache(maxsize=None)
def _area_of_use(srid: int) -> tuple[float, float, float, float]:
    from pyproj import CRS

    bounds = CRS.from_epsg(srid).area_of_use.bounds
    return bounds[0], bounds[1], bounds[2], bounds[3]


@dataclass(frozen=True)
class FeatureCrs:
    """A CRS a response or a bbox may be in: its EPSG code and whether it is CRS84."""

    srid: int
    crs84: bool = False

    @property
    def uri(self) -> str:
        return CRS84_URI if self.crs84 else EPSG_URI.format(srid=self.srid)

    @property
    def flip(self) -> bool:
        """Whether the official axis order puts north (latitude, northing) first."""
        return not self.crs84 and _north_first(self.srid)

    @property
    def geographic(self) -> bool:
        return self.srid in (WGS84_SRID, STORAGE_SRID)

    @property
    def decimals(self) -> int:
        """Decimals written: 1e-7° ≈ 1 cm, or 1 mm in metres."""
        return 7 if self.geographic else 3

    @property
    def area_of_use(self) -> tuple[float, float, float, float]:
        """West, south, east, north in degrees where the CRS is defined."""
        return _area_of_use(self.srid)


CRS84 = FeatureCrs(WGS84_SRID, crs84=True)
STORAGE = FeatureCrs(STORAGE_SRID)


def offered(district_zones: list[int]) -> list[FeatureCrs]:
    """The CRSs a collection lists: CRS84, EPSG:4326, EPSG:4490, EPSG:3857 and the
    Gauss–Krüger zones of the districts loaded (every other zone is accepted too)."""
    zones = sorted({z for z in district_zones if z in ALLOWED_SRIDS})
    return [CRS84, FeatureCrs(WGS84_SRID), STORAGE, FeatureCrs(3857),
            *(FeatureCrs(z) for z in zones)]


def parse_crs(value: str | None, parameter: str) -> FeatureCrs:
    """``parameter``'s CRS URI (``…/OGC/1.3/CRS84``, ``…/EPSG/0/4490``; ``EPSG:4490`` is
    taken too); absent is CRS84.

    Raises
    ------
    InvalidInput
        Any other CRS, naming ``parameter`` and the CRSs offered.
    """
    if value is None or value.strip() in _CRS84:
        return CRS84
    match = _URI.match(value.strip())
    if not match or int(match.group(1)) not in ALLOWED_SRIDS:
        raise InvalidInput(msg("{parameter} {value!r}: expected {crs84} or "
                               "http://www.opengis.net/def/crs/EPSG/0/CODE for one of {items}",
                               parameter=parameter, value=value, crs84=CRS84_URI,
                               items=ALLOWED_TEXT))
    return FeatureCrs(int(match.group(1)))


def parse_bbox(raw: str | None, crs: FeatureCrs) -> tuple[float, float, float, float] | None:
    """``bbox`` in ``crs`` (its official axis order) as x = east order ``(x0, y0, x1, y1)`` in
    that CRS; checked for four finite numbers, min ≤ max and the CRS's area of use.

    Raises
    ------
    InvalidInput
        Naming ``bbox`` and what is expected.
    """
    if raw is None:
        return None
    order = "minlat,minlon,maxlat,maxlon" if crs.flip and crs.geographic else (
        "minnorthing,mineasting,maxnorthing,maxeasting" if crs.flip
        else "minlon,minlat,maxlon,maxlat" if crs.geographic
        else "mineasting,minnorthing,maxeasting,maxnorthing")
    parts = [p.strip() for p in raw.split(",")]
    if len(parts) != 4 or not all(_DECIMAL.fullmatch(p) for p in parts):
        raise InvalidInput(msg("bbox {raw!r}: expected four numbers {order} in {crs} (a 3D "
                               "bbox is not supported)", raw=raw, order=order, crs=crs.uri))
    a, b, c, d = (float(p) for p in parts)
    if not all(math.isfinite(v) for v in (a, b, c, d)):
        raise InvalidInput(msg("bbox {raw!r}: expected finite numbers", raw=raw))
    x0, y0, x1, y1 = (b, a, d, c) if crs.flip else (a, b, c, d)
    if x0 > x1 or y0 > y1:
        raise InvalidInput(msg("bbox {raw!r}: expected {order} with min ≤ max", raw=raw,
                               order=order))
    check_area(msg("bbox {raw!r}", raw=raw), crs, (x0, y0, x1, y1))
    return x0, y0, x1, y1


def check_area(what: object, crs: FeatureCrs,
               box: tuple[float, float, float, float]) -> None:
    """Refuse a box (x = east order, in ``crs``) lying in part outside where ``crs`` is
    defined; ``what`` names it in the message."""
    from pyproj import Transformer

    west, south, east, north = (-180.0, -90.0, 180.0, 90.0) if crs.geographic \
        else crs.area_of_use
    if crs.geographic:
        lons, lats = (box[0], box[2]), (box[1], box[3])
    else:
        to_lonlat = Transformer.from_crs(crs.srid, WGS84_SRID, always_xy=True)
        lons, lats = to_lonlat.transform([box[0], box[2], box[0], box[2]],
                                         [box[1], box[1], box[3], box[3]])
    margin = 0.0 if crs.geographic else 1.0  # a zone's map reaches a little past its strip
    inside = all(math.isfinite(v) for v in (*lons, *lats)) and \
        all(west - margin <= v <= east + margin for v in lons) and \
        all(south - margin <= v <= north + margin for v in lats)
    if not inside:
        raise InvalidInput(msg("{what} lies outside the area of {crs} (longitudes "
                               "{west:g}…{east:g}, latitudes {south:g}…{north:g})", what=what,
                               crs=crs.uri, west=west, east=east, south=south, north=north))
