"""Output formats: a name → :class:`Writer` registry, each writing an Arrow stream with GDAL.

A writer puts its file(s) into a folder it is given (the caller makes the result appear
atomically, see :mod:`gridmap.export.run`). Sidecars: the CSV's ``.prj``; the Shapefile is
one ``.zip`` holding ``.shp/.shx/.dbf/.prj/.cpg`` and ``fields.csv`` (see
:mod:`gridmap.export.shapefile`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pyarrow as pa

from gridmap.errors import InvalidInput
from gridmap.export.crs import ExportCrs
from gridmap.export.source import GEOMETRY
from gridmap.geo import STORAGE_SRID, WGS84_SRID
from gridmap.i18n import msg


@dataclass(frozen=True)
class Layer:
    """One layer to write: its name, its rows, their geometry type (None: no geometry)."""

    name: str
    reader: pa.RecordBatchReader
    geometry_type: str | None
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Writer:
    """A format: the GDAL driver and its options, the file suffix and media type, the CRSs it
    takes and the one it uses by default."""

    name: str
    driver: str
    suffix: str
    media_type: str
    default_srid: int = STORAGE_SRID
    srids: frozenset[int] | None = None  # None: every allowed export CRS
    layer_options: Callable[[ExportCrs], dict[str, str]] = lambda crs: {}
    dataset_options: dict[str, str] = field(default_factory=dict)
    multi_layer: bool = False
    #: Files written beside the output (same name, these suffixes): the CSV's .prj.
    sidecars: tuple[str, ...] = ()

    def check_crs(self, crs: ExportCrs) -> None:
        if self.srids is not None and crs.srid not in self.srids:
            raise InvalidInput(msg("format {name} is written in {items} only, not {value}",
                                   name=self.name, value=crs.name,
                                   items=', '.join(f'EPSG:{s}' for s in sorted(self.srids))))

    def write(self, folder: Path, stem: str, layer: Layer, crs: ExportCrs, *,
              append: bool = False) -> Path:
        """Write ``layer`` into ``folder``/``stem``+suffix; returns the file written."""
        path = folder / f"{stem}{self.suffix}"
        write_layer(path, self.driver, layer, crs, append=append,
                    layer_options=self.layer_options(crs),
                    dataset_options=None if append else self.dataset_options)
        return path


def write_layer(path: Path, driver: str, layer: Layer, crs: ExportCrs, *, append: bool = False,
                layer_options: dict[str, str] | None = None,
                dataset_options: dict[str, str] | None = None,
                encoding: str | None = None) -> None:
    """One layer through :func:`pyogrio.write_arrow` (``append``: into an existing file).

    pyogrio is imported here, not with the module: its import (geopandas and pandas with it,
    ~0.3 s) then runs while the rows' producer has already started (see
    :func:`gridmap.export.source.stream_batches`)."""
    import pyogrio

    spatial = layer.geometry_type is not None
    pyogrio.write_arrow(layer.reader, str(path), layer=layer.name, driver=driver,
                        geometry_name=GEOMETRY if spatial else None,
                        geometry_type=layer.geometry_type if spatial else None,
                        crs=crs.wkt() if spatial else None, append=append,
                        encoding=encoding, layer_options=layer_options or None,
                        dataset_options=dataset_options or None)


def _geojson_options(crs: ExportCrs) -> dict[str, str]:
    # RFC 7946 in WGS 84: counter-clockwise exterior rings, 7 decimals, no crs member. In any
    # other CRS (asked for explicitly) GDAL writes the old-style crs member naming it.
    if crs.srid == WGS84_SRID:
        return {"RFC7946": "YES", "WRITE_NAME": "NO"}
    return {"WRITE_NAME": "NO"}


WRITERS: dict[str, Writer] = {}


def register(writer: Writer) -> None:
    WRITERS[writer.name] = writer


def get_writer(name: str) -> Writer:
    try:
        return WRITERS[name]
    except KeyError:
        raise InvalidInput(msg("format {value!r}: expected one of {items}", value=name,
                               items=', '.join(WRITERS))) from None


register(Writer("geojson", "GeoJSON", ".geojson", "application/geo+json",
                default_srid=WGS84_SRID, layer_options=_geojson_options))
register(Writer("gpkg", "GPKG", ".gpkg", "application/geopackage+sqlite3", multi_layer=True))
register(Writer("kml", "KML", ".kml", "application/vnd.google-earth.kml+xml",
                default_srid=WGS84_SRID, srids=frozenset({WGS84_SRID}),
                layer_options=lambda crs: {}))
register(Writer("fgb", "FlatGeobuf", ".fgb", "application/vnd.flatgeobuf"))
