"""vector tiles: stored Web Mercator geometries of buildings and grids, the shared tile cache,
the dirty-tile log, and the triggers that invalidate exactly the tiles a change touches

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 01:30:00

How the cache stays exact (gridmap/tiles/cache.py reads it):

* ``tile_cache`` holds one rendered tile per layer, z/x/y and scope key, with the snapshot of
  the statement that rendered it.
* Every change to a table a layer draws from runs a statement-level trigger with transition
  tables: the Web Mercator bounding box of every old and new row, widened by the tile buffer,
  gives the range of tiles it touches at each zoom 0…18 (``tile_ranges``); exactly those cache
  rows are deleted, and per zoom the span of those ranges is logged in ``tile_dirty`` with the
  writer's transaction id (one row per layer and zoom: the log only decides which tiles
  rendered *during* the change are rendered again, so a span costs little and keeps a large
  import's log small).
* A cache row is served only if no logged writer of its tile is invisible to the row's
  snapshot: a tile rendered while a change was being committed (so that the delete found
  nothing yet) is never served once the change is visible.

``TG_ARGV``: the layers to invalidate (comma-separated) and the SQL of a transition row's
geometry over the alias ``r`` (``r.footprint``, or a sub-select for rows placed through another
table).
"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

MAX_ZOOM = 18
BUFFER = 64.0 / 4096.0  # the tiles' buffer, as a share of the tile

#: (table, trigger suffix, layers, geometry of a transition row ``r``)
TRIGGERS = (
    ("building", "buildings", "buildings", "r.footprint"),
    # a grid's code and hierarchy colour and scope the buildings in it; its households count
    # in its community's; its district's household bounds fill it (grids' "load"); its
    # community's name is in its popup
    ("grid", "grids", "grids,buildings", "r.geom"),
    ("grid", "communities", "communities",
     "(select c.geom from community c where c.code = r.community_code)"),
    ("district", "districts", "districts,grids", "r.geom"),
    ("street", "streets", "streets", "r.geom"),
    ("community", "communities_grids", "communities,grids", "r.geom"),
    ("road", "roads", "roads", "r.geom"),
    ("water", "water", "water", "r.geom"),
    ("facility", "facilities", "facilities", "r.geom"),
    # a component class's names are in its facilities' popups
    ("component_class", "facilities", "facilities",
     "(select ST_Collect(f.geom) from facility f where f.class_code = r.code)"),
    ("device", "devices", "devices", "r.location"),
    ("device_alarm", "devices", "devices",
     "(select d.location from device d where d.id = r.device_id)"),
)

_RANGES = f"""
create function tile_ranges(box box2d, max_zoom integer default {MAX_ZOOM})
returns table (z integer, x0 integer, x1 integer, y0 integer, y1 integer)
language sql immutable parallel safe as $$
    -- box in EPSG:3857; the tiles of zoom 0..max_zoom whose buffered square meets it
    select zz,
           greatest(0, ceil((ST_XMin(box) + 20037508.342789244) / s - 1 - {BUFFER})::integer),
           least(n - 1, floor((ST_XMax(box) + 20037508.342789244) / s + {BUFFER})::integer),
           greatest(0, ceil((20037508.342789244 - ST_YMax(box)) / s - 1 - {BUFFER})::integer),
           least(n - 1, floor((20037508.342789244 - ST_YMin(box)) / s + {BUFFER})::integer)
    from generate_series(0, max_zoom) zz,
         lateral (select 40075016.68557849 / 2 ^ zz as s, (2 ^ zz)::integer as n) k
    where box is not null
$$;
"""

_INVALIDATE = """
-- jit off: PostGIS's costs make the planner compile a large statement's ranges (~1.5 s for
-- 20,000 rows) that take a third of that to compute; work_mem: their distinct in memory
create function tile_cache_invalidate() returns trigger language plpgsql
set jit = off set work_mem = '64MB' as $$
declare
    layers text[] := string_to_array(TG_ARGV[0], ',');
    geometry text := TG_ARGV[1];
    sources text[];
    boxes text;
begin
    if TG_OP = 'TRUNCATE' then
        delete from tile_cache where layer = any(layers);
        insert into tile_dirty (layer, z, x0, x1, y0, y1, xid)
            select l, zz, 0, (2 ^ zz)::integer - 1, 0, (2 ^ zz)::integer - 1,
                   pg_current_xact_id()
            from unnest(layers) l, generate_series(0, 18) zz;
        return null;
    end if;
    sources := case TG_OP when 'INSERT' then array['tile_new']
                          when 'DELETE' then array['tile_old']
                          else array['tile_old', 'tile_new'] end;
    select string_agg(format(
        'select ST_Transform(ST_Envelope(%s), 3857)::box2d as box from %I r', geometry, s),
        ' union all ') into boxes from unnest(sources) s;
    execute format($q$
        with touched as (
            select distinct t.z, t.x0, t.x1, t.y0, t.y1
            from (%s) b, lateral tile_ranges(b.box) t
            where b.box is not null),
        logged as (
            insert into tile_dirty (layer, z, x0, x1, y0, y1, xid)
            select l, t.z, min(t.x0), max(t.x1), min(t.y0), max(t.y1), pg_current_xact_id()
            from touched t, unnest($1) l group by l, t.z)
        delete from tile_cache c using touched t
        where c.layer = any($1) and c.z = t.z and c.x between t.x0 and t.x1
              and c.y between t.y0 and t.y1
    $q$, boxes) using layers;
    return null;
end
$$;
"""

#: Spent dirty entries: their writer ended (below every running transaction's horizon) five
#: minutes or more after it logged them — far longer than a request takes from its render to
#: its store, so no tile rendered before the change can still be stored (a store refuses a
#: tile its own dirty entries mark, cache.py). Cache rows they mark stale go first, then they.
_PRUNE = """
create function tile_dirty_prune() returns bigint language sql as $$
    with spent as (
        select d.ctid as row, d.* from tile_dirty d
        where d.xid < pg_snapshot_xmin(pg_current_snapshot())
          and d.logged_at < clock_timestamp() - interval '5 minutes'),
    stale as (
        delete from tile_cache c using spent d
        where c.layer = d.layer and c.z = d.z and c.x between d.x0 and d.x1
          and c.y between d.y0 and d.y1 and not pg_visible_in_snapshot(d.xid, c.snapshot)),
    gone as (delete from tile_dirty d using spent s where d.ctid = s.row returning 1)
    select count(*) from gone
$$;
"""


def _triggers(table: str, suffix: str, layers: str, geometry: str) -> list[str]:
    name = f"tile_cache_{suffix}"
    args = f"'{layers}', '{geometry.replace(chr(39), chr(39) * 2)}'"
    return [
        f"create trigger {name}_ins after insert on {table} referencing new table as tile_new "
        f"for each statement execute function tile_cache_invalidate({args})",
        f"create trigger {name}_upd after update on {table} referencing old table as tile_old "
        f"new table as tile_new for each statement execute function "
        f"tile_cache_invalidate({args})",
        f"create trigger {name}_del after delete on {table} referencing old table as tile_old "
        f"for each statement execute function tile_cache_invalidate({args})",
        f"create trigger {name}_trunc after truncate on {table} "
        f"for each statement execute function tile_cache_invalidate({args})",
    ]


def upgrade() -> None:
    op.execute("alter table building add column footprint_3857 geometry(MultiPolygon, 3857) "
               "generated always as (ST_Transform(footprint, 3857)) stored")
    op.execute("create index building_footprint_3857 on building using gist (footprint_3857)")
    op.execute("alter table grid add column geom_3857 geometry(MultiPolygon, 3857) "
               "generated always as (ST_Transform(geom, 3857)) stored")
    op.execute("create index grid_geom_3857 on grid using gist (geom_3857)")
    # A cache: unlogged (not written to the WAL; emptied after a crash, which is correct).
    op.execute("""
        create unlogged table tile_cache (
            layer text not null,
            z smallint not null,
            x integer not null,
            y integer not null,
            scope text not null,
            etag text not null,
            body bytea not null,
            snapshot pg_snapshot not null,
            created_at timestamptz not null default now(),
            primary key (layer, z, x, y, scope))
    """)
    op.execute("""
        create unlogged table tile_dirty (
            layer text not null,
            z smallint not null,
            x0 integer not null,
            x1 integer not null,
            y0 integer not null,
            y1 integer not null,
            xid xid8 not null,
            logged_at timestamptz not null default clock_timestamp())
    """)
    op.execute("create index tile_dirty_tile on tile_dirty (layer, z, x0, y0)")
    op.execute(_RANGES)
    op.execute(_INVALIDATE)
    op.execute(_PRUNE)
    for table, suffix, layers, geometry in TRIGGERS:
        for statement in _triggers(table, suffix, layers, geometry):
            op.execute(statement)


def downgrade() -> None:
    for table, suffix, _layers, _geometry in TRIGGERS:
        for event in ("ins", "upd", "del", "trunc"):
            op.execute(f"drop trigger tile_cache_{suffix}_{event} on {table}")
    op.execute("drop function tile_dirty_prune()")
    op.execute("drop function tile_cache_invalidate()")
    op.execute("drop function tile_ranges(box2d, integer)")
    op.execute("drop table tile_dirty")
    op.execute("drop table tile_cache")
    op.execute("drop index grid_geom_3857")
    op.execute("alter table grid drop column geom_3857")
    op.execute("drop index building_footprint_3857")
    op.execute("alter table building drop column footprint_3857")
