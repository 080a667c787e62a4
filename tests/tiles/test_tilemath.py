"""Tile arithmetic: the tiles computed for a box contain every point of it, only tiles that
meet it, and the SQL the invalidation triggers use agrees with the Python."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st
from sqlalchemy import text

from gridmap.errors import InvalidInput
from gridmap.tiles.tilemath import (BUFFER, HALF_WORLD, MAX_ZOOM, TileAddress, lonlat_to_mercator,
                                    tile_of, tile_range, tile_size)
from tests.conftest import rolled_back

coordinate = st.floats(-HALF_WORLD, HALF_WORLD, allow_nan=False)
zooms = st.integers(0, MAX_ZOOM)


@st.composite
def boxes(draw):
    """Boxes from a point to the whole world, most of them small (a building, a grid)."""
    x, y = draw(coordinate), draw(coordinate)
    w = draw(st.one_of(st.floats(0, 500), st.floats(0, 2 * HALF_WORLD)))
    h = draw(st.one_of(st.floats(0, 500), st.floats(0, 2 * HALF_WORLD)))
    return (x, y, min(HALF_WORLD, x + w), min(HALF_WORLD, y + h))


def _tile_holding(x: float, y: float, z: int) -> tuple[int, int]:
    size, n = tile_size(z), 2 ** z
    return (min(n - 1, math.floor((x + HALF_WORLD) / size)),
            min(n - 1, math.floor((HALF_WORLD - y) / size)))


@given(boxes(), zooms, st.floats(0, 1), st.floats(0, 1))
def test_every_point_of_a_box_lies_in_a_tile_of_its_range(box, z, fx, fy):
    x = box[0] + (box[2] - box[0]) * fx
    y = box[1] + (box[3] - box[1]) * fy
    tx, ty = _tile_holding(min(x, box[2]), min(y, box[3]), z)
    x0, x1, y0, y1 = tile_range(box, z)
    assert x0 <= tx <= x1 and y0 <= ty <= y1


@given(boxes(), zooms)
def test_the_range_holds_only_tiles_whose_buffered_square_meets_the_box(box, z):
    x0, x1, y0, y1 = tile_range(box, z)
    margin = tile_size(z) * BUFFER * 1.0000001 + 1e-6
    for tx, ty in ((x0, y0), (x1, y1)):
        bx0, by0, bx1, by1 = TileAddress(z, tx, ty).bounds()
        assert bx0 - margin <= box[2] and box[0] <= bx1 + margin
        assert by0 - margin <= box[3] and box[1] <= by1 + margin


@given(st.floats(-180, 180), st.floats(-85, 85), zooms)
def test_a_point_lies_inside_the_bounds_of_its_tile(lon, lat, z):
    x, y = lonlat_to_mercator(lon, lat)
    tx, ty = tile_of(lon, lat, z)
    x0, y0, x1, y1 = TileAddress(z, tx, ty).bounds()
    assert x0 - 1e-6 <= x <= x1 + 1e-6 and y0 - 1e-6 <= y <= y1 + 1e-6


def test_the_sql_ranges_agree_with_the_python(engine):
    """tile_ranges (migration 0015, what the triggers invalidate) against tile_range."""
    @given(st.lists(boxes(), min_size=1, max_size=20))
    def check(found):
        with rolled_back(engine) as session:
            for box in found:
                rows = session.execute(text(
                    "select z, x0, x1, y0, y1 from tile_ranges("
                    "ST_MakeEnvelope(:a, :b, :c, :d, 3857)::box2d) order by z"),
                    dict(zip("abcd", box))).all()
                assert [tuple(r[1:]) for r in rows] == [tile_range(box, z)
                                                        for z in range(MAX_ZOOM + 1)]
    check()


@pytest.mark.parametrize("z, x, y", [("19", "0", "0"), ("2", "4", "0"), ("2", "0", "4"),
                                     ("a", "0", "0"), ("1", "-1", "0"), ("１", "0", "0"),
                                     ("", "0", "0"), ("1", "0", "99999999")])
def test_a_bad_address_is_refused_naming_the_part(z, x, y):
    with pytest.raises(InvalidInput):
        TileAddress.parse(z, x, y)
