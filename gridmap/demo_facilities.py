"""Facilities for the demo, derived from the demo's real roads (the OSM data of Optics Valley
holds no street furniture): a street lamp every 40 m and a fire hydrant every 120 m along
every major and minor road (tunnels left out), and a waste bin every 100 m along paths.

Deterministic (the same roads give the same points, measured in the district's Gauss–Krüger
zone) and idempotent: the points are upserted by their source id (``<road id>:<class>:<n>``,
source ``demo-derived``), so running the demo again changes nothing. Documented in
data/README.md as derived, not surveyed.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from sqlalchemy.orm import Session

from gridmap.audit import SYSTEM, acting_as
from gridmap.config import REPO_ROOT
from gridmap.facilities.importing import CLASS, NAME, SOURCE_ID, FacilityImport, store_records
from gridmap.geo import STORAGE_SRID, gauss_kruger_epsg

ROADS = REPO_ROOT / "data" / "wuhan_guanggu" / "wuhan_guanggu.gpkg"
SOURCE = "demo-derived"
#: (component class, road kinds, spacing in metres, offset of the first one)
PLACEMENTS = (("0114", ("major_road", "minor_road"), 40.0, 20.0),   # 路灯
              ("0111", ("major_road", "minor_road"), 120.0, 60.0),  # 消火栓
              ("0302", ("path",), 100.0, 50.0))                     # 果皮箱


def derive_demo_points() -> gpd.GeoDataFrame:
    """The derived facilities as records for :func:`store_records` (EPSG:4490)."""
    roads = pyogrio.read_dataframe(ROADS, layer="roads", columns=["id", "kind", "name",
                                                                   "is_tunnel"])
    roads = roads[roads["is_tunnel"].isna() | ~roads["is_tunnel"].astype(bool)]
    epsg = gauss_kruger_epsg(float(roads.geometry.union_all().centroid.x))
    roads = roads.to_crs(epsg).sort_values("id")
    parts = []
    for code, kinds, spacing, offset in PLACEMENTS:
        chosen = roads[roads["kind"].isin(kinds)]
        for road_id, name, line in zip(chosen["id"], chosen["name"], chosen.geometry):
            line = shapely.line_merge(line) if line.geom_type == "MultiLineString" else line
            distances = np.arange(offset, shapely.length(line), spacing)
            if not len(distances):
                continue
            points = shapely.line_interpolate_point(line, distances)
            parts.append(gpd.GeoDataFrame({
                SOURCE_ID: [f"{road_id}:{code}:{n}" for n in range(len(distances))],
                NAME: [None if not isinstance(name, str) else name] * len(distances),
                CLASS: code}, geometry=points, crs=epsg))
    frame = gpd.GeoDataFrame(gpd.pd.concat(parts, ignore_index=True), crs=epsg)
    return frame.to_crs(STORAGE_SRID)


def ensure_demo_facilities(session: Session, district: str) -> FacilityImport:
    """Upsert the derived facilities into ``district`` (the caller commits)."""
    with acting_as(SYSTEM):
        return store_records(session, derive_demo_points(), source=SOURCE, district=district,
                             label="demo roads")
