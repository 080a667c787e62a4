"""The dirty log's upkeep: spent entries go, with the cached tiles they mark stale; entries a
render in flight may still need stay; a store refuses a tile a committed change marks."""
from __future__ import annotations

from sqlalchemy import text

from gridmap.tiles import TileAddress
from gridmap.tiles.cache import prune, tile


def _cache(db) -> set[tuple]:
    return set(db.execute(text("select x, y, scope from tile_cache where layer = 'test'")).all())


def test_prune_drops_spent_entries_and_the_stale_tiles_they_mark(db):
    # xid 3 ended long ago; the snapshot '1:1:' was taken before it, the current one after.
    # The log starts empty here (rolled back after): other tests' changes leave entries in it
    db.execute(text("delete from tile_dirty"))
    db.execute(text("""
        insert into tile_dirty (layer, z, x0, x1, y0, y1, xid, logged_at) values
            ('test', 14, 10, 12, 20, 22, '3', now() - interval '10 minutes'),
            ('test', 15, 10, 12, 20, 22, '3', clock_timestamp())"""))
    db.execute(text("""
        insert into tile_cache (layer, z, x, y, scope, etag, body, snapshot) values
            ('test', 14, 11, 21, 'before', 'e', '', '1:1:'),
            ('test', 14, 11, 21, 'after', 'e', '', pg_current_snapshot()),
            ('test', 14, 30, 30, 'elsewhere', 'e', '', '1:1:')"""))
    assert prune(db) == 1
    assert _cache(db) == {(11, 21, "after"), (30, 30, "elsewhere")}
    assert db.execute(text("select z from tile_dirty where layer = 'test'")).scalars().all() \
        == [15]  # logged a moment ago: a render in flight may still need it


def test_a_store_refuses_a_tile_a_change_since_its_render_marks(db):
    db.execute(text("insert into tile_dirty (layer, z, x0, x1, y0, y1, xid) values "
                    "('test', 14, 10, 12, 20, 22, '3')"))
    render = "select '\\x1a00'::bytea as body, '1:1:' as snapshot"
    for x, y in ((11, 21), (13, 21)):
        tile(db, "test", TileAddress(14, x, y), key="all", cacheable=True, sql=render,
             params={})
    assert _cache(db) == {(13, 21, "all")}
