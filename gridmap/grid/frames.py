"""Load the hierarchy and buildings from PostGIS into GeoDataFrames (one query each)."""
from __future__ import annotations

import geopandas as gpd
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.errors import NotFound
from gridmap.i18n import msg
from gridmap.geo import STORAGE_SRID, project_stored

_QUERIES = {
    "grid": """select g.id, g.code, g.kind, g.name, g.sequence, g.community_code,
                      g.street_code, g.district_code, g.households, g.building_count,
                      g.valid_from,
                      g.geom from grid g
               where g.district_code = :district and g.valid_to is null order by g.code""",
    "building": """select b.id, b.source, b.source_id, b.name, b.use, b.households, b.floors, b.grid_id,
                          b.footprint as geom from building b
                   where b.district_code = :district order by b.id""",
    "community": """select c.code, c.name, c.street_code, c.geom from community c
                    join street s on s.code = c.street_code
                    where s.district_code = :district order by c.code""",
    "street": """select s.code, s.name, s.district_code, s.geom from street s
                 where s.district_code = :district order by s.code""",
    "district": "select d.code, d.name, d.geom from district d where d.code = :district",
}


def projected_epsg(session: Session, district_code: str) -> int:
    """The district's metric CRS (a CGCS2000 3° Gauss–Krüger zone)."""
    epsg = session.execute(text("select projected_epsg from district where code = :c"),
                           {"c": district_code}).scalar()
    if epsg is None:
        raise NotFound(msg("district {district_code!r} is not loaded",
                           district_code=district_code))
    return int(epsg)


def _load(session: Session, table: str, district_code: str,
          epsg: int | None) -> gpd.GeoDataFrame:
    frame = gpd.read_postgis(text(_QUERIES[table]), session.connection(), geom_col="geom",
                             params={"district": district_code}, crs=STORAGE_SRID)
    frame = frame.rename_geometry("geometry")
    if epsg is None:
        return frame
    return gpd.GeoDataFrame(frame.drop(columns="geometry"),
                            geometry=project_stored(frame.geometry.values, epsg), crs=epsg)


def _loader(table: str):
    def load(session: Session, *, district_code: str, projected: bool = False,
             epsg: int | None = None) -> gpd.GeoDataFrame:
        """Rows of one district; ``projected`` reprojects to its Gauss–Krüger zone (pass
        ``epsg`` when it is already known, to skip that look-up)."""
        if projected and epsg is None:
            epsg = projected_epsg(session, district_code)
        return _load(session, table, district_code, epsg)
    load.__name__ = f"load_{table}s"
    return load


load_grids = _loader("grid")
load_buildings = _loader("building")
load_communities = _loader("community")
load_streets = _loader("street")
load_district = _loader("district")
