"""tile invalidation: log a statement's dirty ranges from the extent of its rows, and work out
exactly which cached tiles it touches only when any is cached where the rows are

Migration 0015's trigger worked out, for every row a statement wrote, the tiles it touches at
each of the 19 zooms (20,000 buildings: 380,000 ranges, made distinct) even when nothing was
cached there, as on a district's first import: 2.2 s of a 20,000-building insert's 3.6 s.
Now:

- the ``tile_dirty`` entries come from the extent of the statement's rows: for each zoom the
  range of ``tile_ranges(extent)``, the same numbers as the old minimum and maximum over the
  rows (``tile_ranges`` only grows with the box);
- if no cached tile of the layers lies in those ranges, nothing is there to delete and the
  exact per-row work is skipped; otherwise it runs as before and deletes exactly the cached
  tiles the rows touch.

A tile stored after this statement and before its commit is caught as before: by its dirty
entries, at the store and at every read (gridmap/tiles/cache.py).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 07:40:00
"""
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

_HEAD = """
create or replace function tile_cache_invalidate() returns trigger language plpgsql
set jit = off set work_mem = '64MB' as $$
declare
    layers text[] := string_to_array(TG_ARGV[0], ',');
    geometry text := TG_ARGV[1];
    sources text[];
    boxes text;
"""
_TRUNCATE_AND_BOXES = """
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
"""
_EXACT = """
    execute format($q$
        with touched as (
            select distinct t.z, t.x0, t.x1, t.y0, t.y1
            from (%s) b, lateral tile_ranges(b.box) t
            where b.box is not null)
        delete from tile_cache c using touched t
        where c.layer = any($1) and c.z = t.z and c.x between t.x0 and t.x1
              and c.y between t.y0 and t.y1
    $q$, boxes) using layers;
    return null;
end
$$;
"""
_NEW = _HEAD + """    extent box2d;
""" + _TRUNCATE_AND_BOXES + """
    execute format('select ST_MakeBox2D(ST_Point(min(ST_XMin(b.box)), min(ST_YMin(b.box))), '
                   'ST_Point(max(ST_XMax(b.box)), max(ST_YMax(b.box)))) from (%s) b', boxes)
        into extent;
    if extent is null then
        return null;  -- no row, or none with a geometry
    end if;
    insert into tile_dirty (layer, z, x0, x1, y0, y1, xid)
        select l, t.z, t.x0, t.x1, t.y0, t.y1, pg_current_xact_id()
        from tile_ranges(extent) t, unnest(layers) l;
    if not exists (
            select 1 from tile_ranges(extent) t, tile_cache c
            where c.layer = any(layers) and c.z = t.z and c.x between t.x0 and t.x1
                  and c.y between t.y0 and t.y1) then
        return null;  -- nothing cached where the rows are
    end if;
""" + _EXACT
#: 0015's function, to go back to.
_OLD = _HEAD + _TRUNCATE_AND_BOXES + """
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


def upgrade() -> None:
    op.execute(_NEW)


def downgrade() -> None:
    op.execute(_OLD)
