"""Where walkable ways come from: a district's imported roads, or a file (OSM, GeoPackage…).

Walkable means any road, path or footway except those closed to people on foot: motorways,
rail, and ways under construction or only proposed (:data:`NOT_WALKABLE`), and in OSM files
ways tagged ``foot=no`` or ``access=no`` (without ``foot=yes``). One-way rules do not apply
to walking and are ignored.

Files are read with GDAL through pyogrio: GDAL's OSM driver reads ``.osm``/``.pbf`` (its
``lines`` layer: ``highway`` is a column, ``bridge``, ``tunnel``, ``layer``, ``foot`` and
``access`` come from ``other_tags``), so no second OSM parser is needed. Any other vector file
(GeoPackage, Shapefile, GeoJSON) needs a line layer with the kind in ``highway``,
``kind_detail`` or ``kind``; ``bridge``/``is_bridge``, ``tunnel``/``is_tunnel`` and ``layer``
are read when present.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.errors import InvalidInput
from gridmap.geo import STORAGE_SRID
from gridmap.i18n import msg
from gridmap.ingest.context import osm_flag
from gridmap.ingest.osm import expand_tags, is_osm
from gridmap.routing.network import Ways, level_of

NOT_WALKABLE = ("motorway", "motorway_link", "rail", "light_rail", "subway", "tram",
                "narrow_gauge", "monorail", "construction", "proposed", "abandoned",
                "raceway", "bus_guideway", "busway", "platform")
"""Kinds of way nobody walks along."""

_KIND_COLUMNS = ("highway", "kind_detail", "kind")
_FLAG_COLUMNS = {"bridge": ("bridge", "is_bridge"), "tunnel": ("tunnel", "is_tunnel")}


def ways_from_roads(session: Session, district: str) -> Ways:
    """The walkable ways among the district's imported roads (table ``road``), in EPSG:4490."""
    rows = session.execute(text("""
        select id, bridge, tunnel, layer, ST_AsBinary(geom) as wkb from road
        where district_code = :district and kind <> all(cast(:excluded as text[]))
        order by id"""), {"district": district, "excluded": list(NOT_WALKABLE)}).all()
    return Ways(geoms=shapely.from_wkb([bytes(r.wkb) for r in rows]),
                levels=level_of([r.bridge for r in rows], [r.tunnel for r in rows],
                                [r.layer for r in rows]),
                road_ids=np.array([r.id for r in rows], np.int64))


def _column(frame: pd.DataFrame, names: tuple[str, ...]) -> pd.Series | None:
    for name in names:
        if name in frame.columns:
            return frame[name]
    return None


def _layer_numbers(values: pd.Series | None, count: int) -> np.ndarray:
    if values is None:
        return np.zeros(count, np.int64)
    numbers = pd.to_numeric(values.astype("object").where(values.notna(), None),
                            errors="coerce")
    # OSM layer is -5 … 5; "1;2" or "high" are tagging mistakes, read as the ground.
    return numbers.where(numbers.abs() <= 10).fillna(0).round().astype(np.int64).to_numpy()


def _flags(values: pd.Series | None, count: int) -> np.ndarray:
    if values is None:
        return np.zeros(count, bool)
    return np.array([osm_flag(v) for v in values], bool)


def _read(path: Path, layer: str | None) -> pd.DataFrame:
    if is_osm(path):
        frame = pyogrio.read_dataframe(path, layer=layer or "lines")
        frame, _ = expand_tags(frame, ["bridge", "tunnel", "layer", "foot", "access"])
        return frame
    if layer is None:
        lines = [name for name, kind in pyogrio.list_layers(path)
                 if kind and "LineString" in kind]
        if len(lines) != 1:
            raise InvalidInput(msg("{path}: name the layer of ways with --layer (line layers "
                                   "found: {layers})", path=path,
                                   layers=", ".join(lines) or "none"))
        layer = lines[0]
    return pyogrio.read_dataframe(path, layer=layer)


def ways_from_file(path: Path, *, layer: str | None = None) -> Ways:
    """The walkable ways of a vector file, in EPSG:4490 (see the module doc).

    Raises
    ------
    InvalidInput
        No kind column, no CRS, or no line layer to choose.
    """
    try:
        frame = _read(Path(path), layer)
    except pyogrio.errors.DataSourceError as exc:
        raise InvalidInput(msg("{path}: not a readable vector file ({exc})", path=path,
                               exc=str(exc).splitlines()[0])) from None
    except pyogrio.errors.DataLayerError as exc:
        raise InvalidInput(msg("{path}: {exc}", path=path,
                               exc=str(exc).splitlines()[0])) from None
    kind = _column(frame, _KIND_COLUMNS)
    if kind is None:
        raise InvalidInput(msg("{path}: no column saying what kind of way each line is; "
                               "expected one of {columns}", path=path,
                               columns=", ".join(_KIND_COLUMNS)))
    if frame.crs is None:
        raise InvalidInput(msg("{path}: the layer has no CRS; expected one (EPSG:4326, 4490 "
                               "or a projected CRS)", path=path))
    walkable = kind.notna() & ~kind.isin(NOT_WALKABLE)
    foot, access = frame.get("foot"), frame.get("access")
    if foot is not None or access is not None:
        foot = (foot if foot is not None else pd.Series(None, index=frame.index)).astype(object)
        access = (access if access is not None
                  else pd.Series(None, index=frame.index)).astype(object)
        closed = foot.isin(["no", "private"]) | (access.isin(["no", "private"])
                                                 & ~foot.isin(["yes", "designated"]))
        walkable &= ~closed
    lines = shapely.get_type_id(frame.geometry.values) if len(frame) else np.array([], int)
    walkable &= np.isin(lines, (1, 5))  # LineString, MultiLineString
    frame = frame[walkable.to_numpy()].to_crs(STORAGE_SRID)
    count = len(frame)
    return Ways(geoms=np.asarray(frame.geometry.values, dtype=object),
                levels=level_of(_flags(_column(frame, _FLAG_COLUMNS["bridge"]), count),
                                _flags(_column(frame, _FLAG_COLUMNS["tunnel"]), count),
                                _layer_numbers(_column(frame, ("layer",)), count)),
                road_ids=np.full(count, -1, np.int64))
