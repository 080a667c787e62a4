"""The tile cache every server process shares: a PostgreSQL table (migration 0015).

Entries are keyed by layer, z/x/y and the caller's *scope key*: one key for everyone who
reaches everything (administrators, agency keys) and for public layers, and one per distinct
set of reached units otherwise, so a tile never leaks from one scope to another.

Freshness: every write to a table a layer draws from deletes the cache entries of the tiles it
touches, at every zoom, and logs them in ``tile_dirty`` with its transaction id (the triggers
of migration 0015). A tile is rendered and its statement's snapshot taken in one statement; an
entry is stored only if no committed writer logged for its tile is invisible to that snapshot,
and served only while every logged writer of its tile is visible in it, so a tile rendered
during a concurrent change is never served after the change commits. Spent log entries are
pruned now and then (:func:`prune`).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import random
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from gridmap.auth.scope import Scope
from gridmap.tiles.tilemath import TileAddress

#: Every this many renders (on average) spent dirty-log entries are deleted
#: (``tile_dirty_prune``, migration 0015).
PRUNE_EVERY = 200
#: gzip level of stored tiles (MVT shrinks to about a third; level 6 costs twice the time for
#: a few per cent less).
GZIP_LEVEL = 4
#: How long a cache write waits for a row a writer holds before giving up (the tile is then
#: served uncached).
STORE_LOCK_MS = 200

_READ = text("""
    select c.etag, c.body from tile_cache c
    where c.layer = :layer and c.z = :z and c.x = :x and c.y = :y and c.scope = :scope
      and not exists (
          select 1 from tile_dirty d
          where d.layer = c.layer and d.z = c.z and d.x0 <= c.x and d.x1 >= c.x
            and d.y0 <= c.y and d.y1 >= c.y
            and not pg_visible_in_snapshot(d.xid, c.snapshot))
""")
_STORE = text("""
    insert into tile_cache (layer, z, x, y, scope, etag, body, snapshot)
    select :layer, :z, :x, :y, :scope, :etag, :body, cast(:snapshot as pg_snapshot)
    where not exists (  -- a change committed since the render: the tile is stale already
        select 1 from tile_dirty d
        where d.layer = :layer and d.z = :z and d.x0 <= :x and d.x1 >= :x
          and d.y0 <= :y and d.y1 >= :y
          and not pg_visible_in_snapshot(d.xid, cast(:snapshot as pg_snapshot)))
    on conflict (layer, z, x, y, scope) do update
    set etag = excluded.etag, body = excluded.body, snapshot = excluded.snapshot,
        created_at = now()
""")
_CACHED_LAYERS = text("""
    select distinct l from pg_trigger t,
        unnest(string_to_array(split_part(encode(t.tgargs, 'escape'), '\\000', 1), ',')) l
    where t.tgfoid = 'tile_cache_invalidate'::regproc
""")


@dataclass(frozen=True)
class Tile:
    """A rendered tile: its MVT bytes gzipped (as stored and as most clients take them), its
    entity tag and whether it came from the cache."""

    gzipped: bytes
    etag: str
    cached: bool

    @property
    def body(self) -> bytes:
        """The MVT bytes as they are."""
        return gzip.decompress(self.gzipped) if self.gzipped else b""


def scope_key(scope: Scope, *, public: bool) -> str:
    """The cache key of what ``scope`` sees of a layer (``public``: the same for all)."""
    if public or scope.reaches_everything:
        return "all"
    reached = {"units": scope.unit_lists(), "divisions": sorted(scope.divisions or ())}
    return hashlib.sha256(json.dumps(reached, sort_keys=True).encode()).hexdigest()[:32]


def cached_layers(session: Session) -> frozenset[str]:
    """The layers whose tables carry the invalidation triggers: only their tiles are cached
    (a layer without them, or with fields that change with the clock, is always rendered)."""
    return frozenset(session.execute(_CACHED_LAYERS).scalars())


def _etag(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=12).hexdigest()


def _store(session: Session, values: dict[str, Any]) -> None:
    """Write the entry, unless a writer holds its row (then leave it: the next request
    renders again)."""
    try:
        with session.begin_nested():
            session.execute(text("select set_config('lock_timeout', :ms, true)"),
                            {"ms": f"{STORE_LOCK_MS}ms"})
            session.execute(_STORE, values)
    except OperationalError:
        pass


def tile(session: Session, layer: str, address: TileAddress, *, key: str, cacheable: bool,
         sql: str, params: dict[str, Any], max_bytes: int | None = None) -> Tile:
    """The tile of ``layer`` at ``address`` for scope key ``key``, gzipped: from the cache when
    a fresh entry is there, else rendered by ``sql`` (one row: ``body`` bytea and ``snapshot``, the
    statement's ``pg_current_snapshot()`` as text) and stored when ``cacheable``; now and then
    the cache is pruned and trimmed to ``max_bytes`` (:func:`trim`). The caller commits."""
    where = {"layer": layer, "z": address.z, "x": address.x, "y": address.y, "scope": key}
    if cacheable:
        hit = session.execute(_READ, where).first()
        if hit is not None:
            return Tile(bytes(hit.body), hit.etag, True)
    row = session.execute(text(sql), params).one()
    body = gzip.compress(bytes(row.body), GZIP_LEVEL, mtime=0) if row.body else b""
    etag = _etag(body)
    if cacheable:
        _store(session, {**where, "etag": etag, "body": body, "snapshot": row.snapshot})
        if random.randrange(PRUNE_EVERY) == 0:
            prune(session)
            if max_bytes is not None:
                trim(session, max_bytes)
    return Tile(body, etag, False)


def prune(session: Session) -> int:
    """Delete spent dirty-log entries (their writer ended five minutes or more after logging
    them) with the cached tiles they mark stale; the number of entries deleted."""
    return int(session.execute(text("select tile_dirty_prune()")).scalar() or 0)


#: A trim leaves the cache at this share of its limit, so that it does not run again at once.
TRIM_TO = 0.9
_TRIM = text("""
    with ranked as (
        select layer, z, x, y, scope, octet_length(body) as size,
               sum(octet_length(body)) over (order by created_at, layer, z, x, y, scope)
                   as running
        from tile_cache)
    delete from tile_cache c using ranked r
    where (c.layer, c.z, c.x, c.y, c.scope) = (r.layer, r.z, r.x, r.y, r.scope)
      and r.running - r.size < :excess
""")


def trim(session: Session, max_bytes: int) -> int:
    """When the cached tiles pass ``max_bytes`` (the ``tile_cache_max_mb`` setting), delete
    the oldest rendered until they take at most 90 % of it; the number deleted. A tile trimmed
    is rendered again when next asked for."""
    total = int(session.execute(text(
        "select coalesce(sum(octet_length(body)), 0) from tile_cache")).scalar_one())
    if total <= max_bytes:
        return 0
    return int(session.execute(_TRIM, {"excess": total - int(max_bytes * TRIM_TO)})
               .rowcount or 0)


def clear(session: Session, layer: str | None = None) -> int:
    """Empty the cache (of one layer); the number of entries deleted."""
    result = session.execute(text("delete from tile_cache where cast(:layer as text) is null "
                                  "or layer = :layer"), {"layer": layer})
    return int(result.rowcount or 0)
