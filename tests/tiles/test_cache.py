"""The dirty log's upkeep: spent entries go, with the cached tiles they mark stale; entries a
render in flight may still need stay; a store refuses a tile a committed change marks."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st
from sqlalchemy import text

from gridmap.tiles import TileAddress
from gridmap.tiles.cache import prune, tile
from tests.conftest import rolled_back


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


def test_trim_deletes_the_oldest_tiles_until_the_cache_fits(db):
    from gridmap.tiles.cache import trim

    db.execute(text("delete from tile_cache"))
    # ten tiles of 1,000 bytes, rendered a minute apart (x = age order: 0 oldest)
    db.execute(text("""
        insert into tile_cache (layer, z, x, y, scope, etag, body, snapshot, created_at)
        select 'test', 14, n, 0, 'all', 'e', decode(repeat('00', 1000), 'hex'),
               pg_current_snapshot(), now() - (10 - n) * interval '1 minute'
        from generate_series(0, 9) n"""))
    assert trim(db, 10_000) == 0  # it fits: nothing goes
    assert trim(db, 6_000) == 5   # down to 90 %: 5,400 bytes at most, so five tiles stay
    assert sorted(x for x, _, _ in _cache(db)) == [5, 6, 7, 8, 9]  # the newest
    assert trim(db, 500) == 5
    assert _cache(db) == set()


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(0, 5_000), min_size=1, max_size=30),
       limit=st.integers(1, 60_000))
def test_trim_keeps_the_newest_within_the_limit(engine, sizes, limit):
    from gridmap.tiles.cache import trim

    with rolled_back(engine) as session:
        session.execute(text("delete from tile_cache"))
        for age, size in enumerate(sizes):  # x = age: 0 newest
            session.execute(text("""
                insert into tile_cache (layer, z, x, y, scope, etag, body, snapshot, created_at)
                values ('test', 14, :x, 0, 'all', 'e', decode(repeat('00', :n), 'hex'),
                        pg_current_snapshot(), now() - :x * interval '1 second')"""),
                            {"x": age, "n": size})
        trim(session, limit)
        kept = sorted(x for x, _, _ in _cache(session))
        total = sum(sizes[x] for x in kept)
        if sum(sizes) <= limit:
            assert kept == list(range(len(sizes)))
        else:
            assert total <= limit * 0.9
            assert kept == list(range(len(kept)))  # the newest ones, none skipped
            # and no more went than needed: the next oldest would not have fitted
            assert len(kept) == len(sizes) or total + sizes[len(kept)] > limit * 0.9
