"""Read one community's boundary, buildings and roads from PostGIS for the partitioner.

Buildings are the community's by the assignment rule: their representative point lies in it.
Roads are those within :data:`ROAD_MARGIN_DEGREES` of it, tunnels left out (a road under the
ground does not separate the blocks above it).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.errors import NotFound
from gridmap.geo import project_stored
from gridmap.i18n import msg
from gridmap.partition.plan import CommunityInput

ROAD_MARGIN_DEGREES = 0.0005  # ~50 m: roads along the boundary may lie just outside it

UNIT_USES = frozenset({
    "school", "kindergarten", "college", "university", "hospital", "clinic", "mall",
    "retail", "commercial", "supermarket", "industrial", "factory", "warehouse", "office",
    "government", "public", "civic", "hotel", "train_station", "transportation", "stadium",
    "sports_centre", "church", "temple", "mosque", "fire_station", "police"})
"""Building uses that are non-residential units (单位) whatever their size."""

UNIT_MIN_AREA_M2 = 2500.0
"""A building without households at least this large is a unit too (the campus buildings
of the demo; data/README.md draws its unit grids by the same rule)."""


@dataclass(frozen=True)
class CommunitySource:
    """A community read from the database: the partitioner's input and its context."""

    community: CommunityInput
    epsg: int
    district_code: str
    min_households: int
    max_households: int
    building_ids: np.ndarray


def is_unit(use: np.ndarray, households: np.ndarray, area_m2: np.ndarray) -> np.ndarray:
    """Whether each building is a non-residential unit (see :data:`UNIT_USES`)."""
    use = np.asarray(use, dtype=object)
    households = np.asarray(households)
    known = np.isin(use, list(UNIT_USES))
    return (households == 0) & (use != "residential") & (known | (np.asarray(area_m2)
                                                                  >= UNIT_MIN_AREA_M2))


def load_community(session: Session, code: str) -> CommunitySource:
    """The community ``code`` with its buildings and nearby roads, projected."""
    row = session.execute(text(
        "select c.code, s.district_code, d.projected_epsg, d.min_households, "
        "d.max_households, ST_AsBinary(c.geom) as wkb from community c join street s on s.code = c.street_code "
        "join district d on d.code = s.district_code where c.code = :c"), {"c": code}).first()
    if row is None:
        raise NotFound(msg("community {code!r} is not loaded; expected the 12-digit code of a "
                           "loaded community (see gridmap validate or the map)", code=code))
    buildings = session.execute(text(
        "select b.id, b.source, b.source_id, b.name, b.use, b.households, "
        "ST_AsBinary(b.footprint) as wkb from building b join community c on c.code = :c "
        "where b.district_code = :d and ST_Intersects(c.geom, ST_PointOnSurface(b.footprint)) "
        "order by b.id"), {"c": code, "d": row.district_code}).all()
    roads = session.execute(text(
        "select ST_AsBinary(r.geom) from road r join community c on c.code = :c "
        "where r.district_code = :d and not r.tunnel "
        "and ST_DWithin(r.geom, c.geom, :margin)"),
        {"c": code, "d": row.district_code, "margin": ROAD_MARGIN_DEGREES}).scalars().all()
    epsg = int(row.projected_epsg)
    boundary = project_stored([shapely.from_wkb(row.wkb)], epsg)[0]
    footprints = project_stored([shapely.from_wkb(b.wkb) for b in buildings], epsg)
    households = np.array([b.households for b in buildings], dtype=np.int64)
    labels = np.array([f"{b.source}:{b.source_id}" + (f" ({b.name})" if b.name else "")
                       for b in buildings], dtype=object)
    unit = is_unit(np.array([b.use for b in buildings], dtype=object), households,
                   shapely.area(footprints))
    lines = project_stored([shapely.from_wkb(r) for r in roads], epsg) if roads else \
        np.zeros(0, dtype=object)
    community = CommunityInput(code=code, boundary=shapely.make_valid(boundary),
                               footprints=np.asarray(footprints, dtype=object),
                               households=households, unit=unit, labels=labels,
                               roads=np.asarray(lines, dtype=object))
    return CommunitySource(community=community, epsg=epsg, district_code=row.district_code,
                           min_households=row.min_households,
                           max_households=row.max_households,
                           building_ids=np.array([b.id for b in buildings], dtype=np.int64))


def street_communities(session: Session, street_code: str) -> list[str]:
    """Codes of the communities of a street."""
    codes = session.execute(text("select code from community where street_code = :s "
                                 "order by code"), {"s": street_code}).scalars().all()
    if not codes:
        raise NotFound(msg("street {code!r} has no loaded community; expected the 9-digit "
                           "code of a loaded street", code=street_code))
    return list(codes)
