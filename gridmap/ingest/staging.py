"""Stage an import's buildings in a temporary table by binary COPY, for the checks and the
upsert of :mod:`gridmap.ingest.buildings` to read in PostgreSQL.

The rows go as PostgreSQL's binary COPY format: integers as integers and footprints as the
WKB that shapely writes, so nothing is rendered as text and parsed back (CSV with hex EWKB
cost four times as long, most of it in Python). The footprints are staged as they are
(polygons without an SRID): the view ``import_building`` gives them as multipolygons in
EPSG:4490, the column type of ``building.footprint``, computed by PostGIS in C rather than
by shapely in Python. Text keeps what the CSV path did: an empty text is NULL.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from gridmap.progress import Progress

CHUNK = 20_000  # rows converted at a time: bounds the memory of the Python row values
TEXT = ("source_id", "name", "use", "address")
INTEGER = ("households", "floors")
STAGED = ("row", *TEXT, *INTEGER, "grid_id", "shape")
# psycopg's binary dumpers per staged column; "bytea" sends WKB bytes unchanged, which
# PostGIS's binary input reads as a geometry.
_TYPES = ["int4", *(["text"] * len(TEXT)), *(["int4"] * len(INTEGER)), "int4", "bytea"]

_CREATE = """
    drop view if exists pg_temp.import_building;
    drop table if exists pg_temp.import_building_raw;
    create temp table import_building_raw (
        row integer primary key, source_id text, name text, use text, households integer,
        floors integer, address text, grid_id integer, shape geometry) on commit drop;
    -- Dropped with its table at commit (ON COMMIT DROP cascades). Simple enough to be
    -- updatable: a skipped duplicate is deleted through it.
    create temp view import_building as
        select row, source_id, name, use, households, floors, address, grid_id,
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


def _chunk_columns(attrs: pd.DataFrame, geoms: np.ndarray, grid_ids: np.ndarray,
                   rows: np.ndarray) -> list[list]:
    """The staged columns of ``rows``, each a list of Python values (column-wise, no loop
    over rows but the conversion to Python values)."""
    columns: list[list] = [rows.tolist()]
    for name in TEXT:
        columns.append(_texts(attrs[name].to_numpy()[rows]) if name in attrs
                       else [None] * rows.size)
    for name in INTEGER:
        columns.append(_integers(attrs[name].to_numpy()[rows]) if name in attrs
                       else [None] * rows.size)
    columns.append([g if g >= 0 else None for g in grid_ids[rows].tolist()])
    columns.append(shapely.to_wkb(geoms[rows]).tolist())
    return columns


def stage_buildings(cursor, attrs: pd.DataFrame, geoms: np.ndarray, grid_ids: np.ndarray,
                    keep: np.ndarray, progress: Progress) -> None:
    """COPY the rows ``keep`` of ``attrs``/``geoms`` (EPSG:4490), each with its grid id
    (``-1``: none), into ``import_building`` (a temporary table, dropped at commit).

    ``cursor`` is a psycopg cursor on the session's connection, so the staged rows belong
    to the import's transaction.
    """
    cursor.execute(_CREATE)
    with cursor.copy(f"copy import_building_raw ({', '.join(STAGED)}) from stdin "
                     f"(format binary)") as copy:
        copy.set_types(_TYPES)
        for lo in range(0, keep.size, CHUNK):
            rows = keep[lo:lo + CHUNK]
            for row in zip(*_chunk_columns(attrs, geoms, grid_ids, rows)):
                copy.write_row(row)
            progress.advance(rows.size)
    cursor.execute("analyze import_building_raw")
