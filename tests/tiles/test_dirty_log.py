"""What a write logs and deletes (migration 0018): the dirty ranges of a statement are, at
each zoom, the smallest and largest tile any of its rows touches — whether or not anything is
cached; the cached tiles its rows touch go, and a cached tile inside the rows' extent that no
row touches stays."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st
from sqlalchemy import text

from gridmap.tiles.tilemath import MAX_ZOOM, tile_range
from tests.conftest import rolled_back

_COPY = text("""
    insert into building (district_code, source, source_id, name, use, households, floors,
                          address, grid_id, footprint)
    select district_code, 'dirty-test', source_id || '-copy', name, use, households, floors,
           address, grid_id, footprint
    from building where id = any(:ids)
    returning ST_XMin(footprint_3857), ST_YMin(footprint_3857), ST_XMax(footprint_3857),
              ST_YMax(footprint_3857)
""")
_LOGGED = text("""
    select z, x0, x1, y0, y1 from tile_dirty
    where xid = pg_current_xact_id() and layer = 'buildings' order by z
""")


def _expected(boxes: list[tuple[float, float, float, float]]) -> list[tuple[int, ...]]:
    """Per zoom, the smallest and largest tile numbers of any row's range (Python's
    arithmetic, gridmap/tiles/tilemath.py)."""
    out = []
    for z in range(MAX_ZOOM + 1):
        ranges = [tile_range(box, z) for box in boxes]
        out.append((z, min(r[0] for r in ranges), max(r[1] for r in ranges),
                    min(r[2] for r in ranges), max(r[3] for r in ranges)))
    return out


def _cache(session, z: int, x: int, y: int) -> None:
    session.execute(text(
        "insert into tile_cache (layer, z, x, y, scope, etag, body, snapshot) "
        "values ('buildings', :z, :x, :y, 'all', 'e', '', pg_current_snapshot())"),
        {"z": z, "x": x, "y": y})


def _cached(session) -> set[tuple[int, int, int]]:
    return {tuple(r) for r in session.execute(text(
        "select z, x, y from tile_cache where layer = 'buildings'"))}


def test_the_dirty_log_is_the_rows_ranges_with_and_without_cached_tiles(engine):
    with rolled_back(engine) as session:
        ids = list(session.execute(text("select id from building order by id")).scalars())
    assert len(ids) > 20

    @settings(max_examples=25, deadline=None)
    @given(st.lists(st.sampled_from(ids), min_size=1, max_size=12, unique=True),
           st.booleans())
    def check(chosen, something_cached):
        with rolled_back(engine) as session:
            session.execute(text("delete from tile_cache where layer = 'buildings'"))
            if something_cached:  # a tile far from every building: the exact path runs
                _cache(session, 14, 0, 0)
            boxes = [tuple(r) for r in session.execute(_COPY, {"ids": chosen})]
            assert [tuple(r) for r in session.execute(_LOGGED)] == _expected(boxes)
    check()


def test_only_the_cached_tiles_a_row_touches_go(engine):
    """Two buildings far apart: a cached tile over each goes, a cached tile between them
    (inside their extent, touched by neither) stays, and one far outside stays."""
    with rolled_back(engine) as session:
        rows = session.execute(text(
            "select id, ST_XMin(footprint_3857), ST_YMin(footprint_3857), "
            "ST_XMax(footprint_3857), ST_YMax(footprint_3857) from building")).all()
        z = MAX_ZOOM
        first = rows[0]
        second = max(rows, key=lambda r: abs(r[1] - first[1]) + abs(r[2] - first[2]))
        touched = {}
        for row in (first, second):
            x0, x1, y0, y1 = tile_range(tuple(row[1:]), z)
            touched[row[0]] = (z, x0, y0)
        (_, ax, ay), (_, bx, by) = touched.values()
        assert abs(ax - bx) > 4 or abs(ay - by) > 4  # far apart at z18
        between = (z, (ax + bx) // 2, (ay + by) // 2)
        copied = [tile_range(tuple(r[1:]), z) for r in (first, second)]
        assert not any(x0 <= between[1] <= x1 and y0 <= between[2] <= y1
                       for x0, x1, y0, y1 in copied)  # neither copy touches the middle
        outside = (z, 0, 0)
        session.execute(text("delete from tile_cache where layer = 'buildings'"))
        for tile in (*touched.values(), between, outside):
            _cache(session, *tile)
        session.execute(_COPY, {"ids": [first[0], second[0]]})
        assert _cached(session) == {between, outside}


def test_a_write_where_nothing_is_cached_deletes_nothing_and_still_logs(engine):
    with rolled_back(engine) as session:
        session.execute(text("delete from tile_cache where layer = 'buildings'"))
        _cache(session, 14, 0, 0)
        ident = session.execute(text("select min(id) from building")).scalar()
        boxes = [tuple(r) for r in session.execute(_COPY, {"ids": [ident]})]
        assert _cached(session) == {(14, 0, 0)}
        assert [tuple(r) for r in session.execute(_LOGGED)] == _expected(boxes)
