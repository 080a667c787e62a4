"""Staged writes of buildings: the import's rows go to a temporary table by binary COPY, are
checked there in PostgreSQL, then upserted into ``building`` chunk by chunk, each chunk
labelled with its grid in Python while PostgreSQL writes the chunk before it.

Staging. The rows go as PostgreSQL's binary COPY format: integers as integers and footprints
as the WKB that shapely writes, so nothing is rendered as text and parsed back (CSV with hex
EWKB cost four times as long, most of it in Python). The footprints are staged as they are
(polygons without an SRID): the view ``import_building`` gives them as multipolygons in
EPSG:4490, the column type of ``building.footprint``, computed by PostGIS in C rather than
by shapely in Python. Text keeps what the CSV path did: an empty text is NULL.

Writing. The checks of the staged rows and the upserts run in order on the import's own
connection, in one worker thread; the calling thread meanwhile labels the next chunk with its
grid (:func:`gridmap.grid.assign.grid_labeller`: shapely and pyproj, which release the GIL)
and never touches the session, so the labelling overlaps the upsert that PostgreSQL runs in
its own process. Everything stays in the caller's transaction: a chunk is written only after
the checks passed, and a failure anywhere stops the rest and is raised in the caller's
thread, whose rollback undoes every chunk. Writing chunk by chunk is the same as writing all
rows in one statement: each row's upsert depends only on its own key, and the keys of a file
are unique.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.progress import Progress

STAGE_CHUNK = 20_000  # rows converted at a time: bounds the memory of the Python values
TEXT = ("source_id", "name", "use", "address")
INTEGER = ("households", "floors")
STAGED = ("row", *TEXT, *INTEGER, "shape")
# psycopg's binary dumpers per staged column; "bytea" sends WKB bytes unchanged, which
# PostGIS's binary input reads as a geometry.
_TYPES = ["int4", *(["text"] * len(TEXT)), *(["int4"] * len(INTEGER)), "bytea"]

_CREATE = """
    drop view if exists pg_temp.import_building;
    drop table if exists pg_temp.import_building_raw;
    create temp table import_building_raw (
        row integer primary key, source_id text, name text, use text, households integer,
        floors integer, address text, shape geometry) on commit drop;
    -- Dropped with its table at commit (ON COMMIT DROP cascades). Simple enough to be
    -- updatable: a skipped duplicate is deleted through it.
    create temp view import_building as
        select row, source_id, name, use, households, floors, address,
               ST_Multi(ST_SetSRID(shape, 4490)) as footprint
        from import_building_raw;
"""


def _texts(values: np.ndarray) -> list[str | None]:
    """Text values for COPY: missing and empty ones as NULL, anything else as ``str``."""
    missing = pd.isna(values)
    return [None if gone or value == "" else str(value)
            for value, gone in zip(values.tolist(), missing.tolist())]


def _integers(values: np.ndarray) -> list[int | None]:
    return pd.array(values, dtype="Int64").to_numpy(dtype=object, na_value=None).tolist()


def _chunk_columns(attrs: pd.DataFrame, geoms: np.ndarray, rows: np.ndarray) -> list[list]:
    """The staged columns of ``rows``, each a list of Python values (column-wise, no loop
    over rows but the conversion to Python values)."""
    columns: list[list] = [rows.tolist()]
    for name in TEXT:
        columns.append(_texts(attrs[name].to_numpy()[rows]) if name in attrs
                       else [None] * rows.size)
    for name in INTEGER:
        columns.append(_integers(attrs[name].to_numpy()[rows]) if name in attrs
                       else [None] * rows.size)
    columns.append(shapely.to_wkb(geoms[rows]).tolist())
    return columns


def stage_buildings(cursor, attrs: pd.DataFrame, geoms: np.ndarray, keep: np.ndarray,
                    progress: Progress) -> None:
    """COPY the rows ``keep`` of ``attrs``/``geoms`` (EPSG:4490) into ``import_building``
    (a temporary table, dropped at commit; the grids are joined when the rows are written).

    ``cursor`` is a psycopg cursor on the session's connection, so the staged rows belong
    to the import's transaction.
    """
    cursor.execute(_CREATE)
    with cursor.copy(f"copy import_building_raw ({', '.join(STAGED)}) from stdin "
                     f"(format binary)") as copy:
        copy.set_types(_TYPES)
        for lo in range(0, keep.size, STAGE_CHUNK):
            rows = keep[lo:lo + STAGE_CHUNK]
            for row in zip(*_chunk_columns(attrs, geoms, rows)):
                copy.write_row(row)
            progress.advance(rows.size)
    cursor.execute("analyze import_building_raw")


WRITE_CHUNK = 20_000  # rows labelled and upserted at a time

_UPSERT = text("""
    with written as (
        insert into building (district_code, source, source_id, name, use, households, floors,
                              address, grid_id, footprint)
        select :district, :source, t.source_id, t.name, coalesce(t.use, 'other'),
               coalesce(t.households, 0), t.floors, t.address, g.grid_id, t.footprint
        from unnest(cast(:rows as integer[]), cast(:grid_ids as integer[])) as g(row, grid_id)
        join import_building t on t.row = g.row
        order by g.row
        on conflict (source, source_id) do update
           set name = excluded.name, use = excluded.use, households = excluded.households,
               floors = excluded.floors, address = excluded.address,
               grid_id = excluded.grid_id, footprint = excluded.footprint
           where (building.name, building.use, building.households, building.floors,
                  building.address, building.grid_id)
                 is distinct from (excluded.name, excluded.use, excluded.households,
                                   excluded.floors, excluded.address, excluded.grid_id)
              or not ST_Equals(building.footprint, excluded.footprint)
        returning (xmax = 0) as inserted)
    select count(*) filter (where inserted) as inserted,
           count(*) filter (where not inserted) as updated
    from written
""")


def _upsert(session: Session, district: str, source: str, rows: NDArray[np.int64],
            grid_ids: NDArray[np.int64]) -> tuple[int, int]:
    """Upsert the staged ``rows`` (those still staged: a skipped duplicate is not) with their
    grid (``-1``: none); return how many were inserted and updated."""
    counts = session.execute(_UPSERT, {
        "district": district, "source": source, "rows": rows.tolist(),
        "grid_ids": [g if g >= 0 else None for g in grid_ids.tolist()]}).one()
    return int(counts.inserted), int(counts.updated)


def write_staged(session: Session, *, district: str, source: str,
                 footprints: NDArray[np.object_], keep: NDArray[np.int64],
                 checks: Callable[[], None], label: Callable[[NDArray[np.object_]],
                                                             NDArray[np.int64]],
                 progress: Progress) -> tuple[int, int]:
    """Run ``checks`` (which read the staged rows and may remove some), then upsert the
    staged rows ``keep`` chunk by chunk, each with the grid ``label`` gives its footprint
    (``footprints`` indexed by row). Returns how many rows were inserted and updated.

    ``checks`` and the upserts run in a worker thread, in that order, on ``session``;
    ``label`` runs in the calling thread and must not use the session.
    """
    totals = [0, 0]
    pending: list[tuple[Future, int]] = []

    def collect() -> None:
        future, size = pending.pop(0)
        counts = future.result()  # raises here what the worker raised
        if counts is not None:
            totals[0] += counts[0]
            totals[1] += counts[1]
        progress.advance(size)

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridmap-upsert")
    try:
        pending.append((pool.submit(checks), 0))
        for lo in range(0, keep.size, WRITE_CHUNK):
            rows = keep[lo:lo + WRITE_CHUNK]
            grid_ids = label(footprints[rows])
            # At most one chunk waits behind the one being written: bounded memory, and an
            # error from the worker stops the labelling at once.
            while len(pending) > 1:
                collect()
            pending.append((pool.submit(_upsert, session, district, source, rows, grid_ids),
                            rows.size))
        while pending:
            collect()
    finally:
        # On an error, drop what has not started and wait for what has: the caller's
        # rollback must not meet a statement still running on the connection.
        pool.shutdown(wait=True, cancel_futures=True)
    inserted, updated = totals
    return inserted, updated
