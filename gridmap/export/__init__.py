"""Exports: every layer of the registry in GeoJSON, GeoPackage, Shapefile, KML, CSV and
FlatGeobuf, in an allowed CRS, streamed from PostGIS through Arrow into GDAL.

A layer turns a caller's :class:`~gridmap.auth.scope.Scope` and a :class:`Selection` into an
:class:`ExportSource` (``layers.sql.SqlLayer.export_source``); :func:`export_layer` writes
it; :func:`gridmap.export.package.export_package` writes a whole district.
"""
from gridmap.export.crs import ALLOWED_SRIDS, AXIS_ORDER, ExportCrs, parse_export_crs
from gridmap.export.selection import Selection
from gridmap.export.source import ExportSource, stream_batches
from gridmap.export import tabular as _tabular  # noqa: F401 — registers shp and csv
from gridmap.export.writers import WRITERS, Writer, get_writer
from gridmap.export.run import ExportResult, export_layer

__all__ = ["ALLOWED_SRIDS", "AXIS_ORDER", "ExportCrs", "ExportResult", "ExportSource",
           "Selection", "WRITERS", "Writer", "export_layer", "get_writer", "parse_export_crs",
           "stream_batches"]
