"""The facility tests' people, grids and places: the incident tests' two grids of one demo
community (A, B) with a scope for each role, and Helsinki's real street furniture moved into
the demo district."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import text

from gridmap.audit import Actor, acting_as
from gridmap.facilities.service import create_facility
from gridmap.models import Grid
from tests.conftest import TEST_DATA
from tests.incidents.conftest import grids, person, roles  # noqa: F401  (fixtures)

HELSINKI = TEST_DATA / "helsinki"
HELSINKI_OSM = HELSINKI / "helsinki_facilities.osm"
HELSINKI_GPKG = HELSINKI / "helsinki_pois_subset.gpkg"
# Helsinki's centre (24.944 E, 60.1715 N) onto the demo's (Optics Valley, 114.395 E,
# 30.5078 N): a plain shift in degrees. Shapes stretch a little east–west (a degree of
# longitude is 55 km at 60° N, 96 km at 30° N) but every point keeps its tags and its id.
SHIFT = (114.395 - 24.944, 30.5078 - 60.1715)
_COORD = re.compile(r'lat="([-0-9.]+)" lon="([-0-9.]+)"')


def shifted_osm(folder: Path) -> Path:
    """The Helsinki OSM subset with every node moved by :data:`SHIFT`."""
    def move(match: re.Match) -> str:
        lat, lon = float(match.group(1)) + SHIFT[1], float(match.group(2)) + SHIFT[0]
        return f'lat="{lat:.7f}" lon="{lon:.7f}"'

    out = folder / "helsinki_shifted.osm"
    out.write_text(_COORD.sub(move, HELSINKI_OSM.read_text(encoding="utf-8")),
                   encoding="utf-8")
    return out


def inside(grid: Grid) -> tuple[float, float]:
    p = shapely.point_on_surface(to_shape(grid.geom))
    return p.x, p.y


def grid_point(session, code: str) -> tuple[float, float]:
    """A point inside the grid with this code."""
    return session.execute(text(
        "select ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) from grid "
        "where code = :c"), {"c": code}).one()


def make(db, scope, grid_or_place, cls="0114", **kw):
    """A facility of class ``cls`` inside a grid (or at a (lon, lat) place)."""
    lon, lat = inside(grid_or_place) if isinstance(grid_or_place, Grid) else grid_or_place
    with acting_as(Actor("person", scope.actor)):
        return create_facility(db, scope, class_code=cls, lon=lon, lat=lat, **kw)


@pytest.fixture()
def admin(roles):
    return roles["admin"]
