"""The coordinate reference systems an export may be written in, and the axis order it uses.

Every export writes x = longitude/easting and y = latitude/northing (the "traditional GIS
order" GDAL, QGIS and ArcGIS use), whatever the CRS's official axis order: EPSG:4490 and
EPSG:4326 officially list latitude first, the Gauss–Krüger zones list northing first. The
files say which CRS they are in (GeoPackage srs, .prj, FlatGeobuf header, GeoJSON ``crs``
member where one is allowed), and GDAL reads them back in this order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from gridmap.errors import InvalidInput
from gridmap.geo import GK_FIRST, GK_LAST, STORAGE_SRID, WGS84_SRID
from gridmap.i18n import msg

WEB_MERCATOR_SRID = 3857
#: Every SRID an export may be written in: WGS 84, CGCS2000, Web Mercator and the CGCS2000
#: 3° Gauss–Krüger zones.
ALLOWED_SRIDS: tuple[int, ...] = (WGS84_SRID, STORAGE_SRID, WEB_MERCATOR_SRID,
                                  *range(GK_FIRST, GK_LAST + 1))
ALLOWED_TEXT = f"EPSG:4326, EPSG:4490, EPSG:3857, EPSG:{GK_FIRST}…EPSG:{GK_LAST}"
AXIS_ORDER = "x = longitude/easting, y = latitude/northing"
_FORM = re.compile(r"^(?:epsg:)?([0-9]{1,6})$", re.IGNORECASE)


@dataclass(frozen=True)
class ExportCrs:
    """An allowed CRS: its EPSG code, and whether it is geographic (degrees)."""

    srid: int

    @property
    def name(self) -> str:
        return f"EPSG:{self.srid}"

    @property
    def geographic(self) -> bool:
        return self.srid in (WGS84_SRID, STORAGE_SRID)

    @property
    def tolerance(self) -> float:
        """What a coordinate may move on a round trip through a file: 1e-7° (≈1 cm, the
        precision of RFC 7946 files) or 1 cm."""
        return 1e-7 if self.geographic else 0.01

    def wkt(self) -> str:
        """The CRS as WKT, for GDAL."""
        from pyproj import CRS

        return CRS.from_epsg(self.srid).to_wkt()


def parse_export_crs(value: str | int | None, *, default: int = STORAGE_SRID) -> ExportCrs:
    """``EPSG:n`` (or ``n``) as an :class:`ExportCrs`; None is ``default``.

    Raises
    ------
    InvalidInput
        Anything but one of :data:`ALLOWED_SRIDS`.
    """
    if value is None or value == "":
        return ExportCrs(default)
    match = _FORM.match(str(value).strip())
    if not match or int(match.group(1)) not in ALLOWED_SRIDS:
        raise InvalidInput(msg("CRS {value!r}: expected one of {items}", value=str(value),
                               items=ALLOWED_TEXT))
    return ExportCrs(int(match.group(1)))
