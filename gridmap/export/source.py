"""What an export reads: one SQL query (built by a layer) streamed as Arrow record batches.

The rows never exist as Python objects all at once: PostgreSQL sends them with the geometry
already in the target CRS (``ST_Transform``) and as WKB (``ST_AsBinary``), by binary COPY
decoded into Arrow (:mod:`gridmap.export.copy_reader`) or streamed ``chunk_rows`` at a time;
each batch goes to GDAL (through :func:`pyogrio.write_arrow`), which appends it to the file
and drops it. Peak memory is a few batches, whatever the size of the export
(``bench/export_buildings.py``).
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import queue
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator

import psycopg
import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gridmap.export.copy_reader import COPY_OIDS, copy_batches, copy_snapshot
from gridmap.export.crs import ExportCrs
from gridmap.geo import STORAGE_SRID

#: The column of the query holding the WKB geometry.
GEOMETRY = "geometry"
_GEOMETRY_TYPES = {"POINT": "Point", "LINESTRING": "LineString", "POLYGON": "Polygon",
                   "MULTIPOINT": "MultiPoint", "MULTILINESTRING": "MultiLineString",
                   "MULTIPOLYGON": "MultiPolygon"}
# PostgreSQL type OIDs → Arrow types; anything else is written as text.
_ARROW_TYPES = {16: pa.bool_(), 20: pa.int64(), 21: pa.int32(), 23: pa.int32(),
                700: pa.float64(), 701: pa.float64(), 1700: pa.float64(), 25: pa.string(),
                1043: pa.string(), 1042: pa.string(), 1082: pa.date32(),
                1114: pa.timestamp("us"), 1184: pa.timestamp("us", tz="UTC")}


@dataclass(frozen=True)
class ExportSource:
    """One layer's rows for an export.

    Attributes
    ----------
    name
        The layer name (the file's layer name).
    table, geometry_column
        Where the geometry lives, to learn its type from ``geometry_columns``; None for an
        attribute table.
    select
        SQL over the alias ``t``: ``select {columns} from … where …``; ``{geometry}`` in it is
        replaced with the WKB geometry expression in the target CRS, aliased ``geometry``.
    params
        Its bound parameters.
    fields
        The field names, in order (the columns of the query besides the geometry).
    labels
        Field name → label, for the Shapefile field mapping.
    """

    name: str
    table: str | None
    geometry_column: str | None
    select: str
    params: dict[str, Any] = field(default_factory=dict)
    fields: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def spatial(self) -> bool:
        return self.geometry_column is not None

    def sql(self, crs: ExportCrs) -> str:
        """The query with its geometry in ``crs`` as WKB."""
        if not self.spatial:
            return self.select
        column = f"t.{self.geometry_column}"
        if crs.srid != STORAGE_SRID:
            column = f"ST_Transform({column}, {crs.srid})"
        return self.select.replace("{geometry}", f"ST_AsBinary({column}) as {GEOMETRY}")

    def count(self, session: Session) -> int:
        """How many rows the export will hold."""
        sql = self.select.replace("{geometry}", "1 as one")
        return session.execute(text(f"select count(*) from ({sql}) counted"),
                               self.params).scalar_one()

    def geometry_type(self, session: Session) -> str:
        """The OGR geometry type of the column ("Unknown" for a mixed column)."""
        found = session.execute(text(
            "select type from geometry_columns where f_table_name = :t "
            "and f_geometry_column = :c"), {"t": self.table, "c": self.geometry_column}
        ).scalar()
        return _GEOMETRY_TYPES.get(str(found).upper(), "Unknown")


_TEXT_OIDS = (25, 1043, 1042)
_NUMERIC = 1700


def _to_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _to_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _compiled(session: Session, sql: str, params: dict[str, Any]) -> tuple[str, dict]:
    """``sql`` with SQLAlchemy's ``:name`` parameters in the driver's own style."""
    compiled = text(sql).compile(dialect=session.get_bind().dialect)
    # only the parameters the statement names (a scope's grid lists go unused by some layers)
    return compiled.string, compiled.construct_params(params)


def stream_batches(session: Session, source: ExportSource, crs: ExportCrs, *,
                   chunk_rows: int = 5_000, copy: bool | None = None) -> pa.RecordBatchReader:
    """The rows of ``source`` as an Arrow stream of record batches.

    The schema comes from the column types PostgreSQL reports: codes stored as text stay
    text (never numbers), integers keep 64 bits. The rows come one of two ways, with the same
    schema and values:

    - by binary COPY decoded into Arrow on a second connection in the session's snapshot
      (:mod:`gridmap.export.copy_reader`), when the session's transaction allows it and
      every column type is one the COPY reader decodes;
    - else streamed on the session's own connection in its transaction, ``chunk_rows`` at a
      time (psycopg's ``Cursor.stream``) in binary form (WKB arrives as bytes, with no hex to
      decode); the rows become Arrow arrays with no per-row Python object beyond the
      driver's tuples. The connection serves nothing else until the stream is read to its
      end or closed.

    Either way the batches are made by a thread of their own (:func:`_prefetched`).
    ``copy``: True or False to choose the way (True raises if COPY cannot serve), None to let
    the query and the transaction choose (:func:`gridmap.export.run.write_source` asks for
    COPY from :data:`~gridmap.export.copy_reader.COPY_MIN_ROWS` rows on).
    """
    sql, params = _compiled(session, source.sql(crs), source.params)
    connection = session.connection().connection.driver_connection
    with connection.cursor(binary=True) as probe:  # the columns, even of an empty result
        probe.execute(f"select * from ({sql}) q limit 0", params)
        names = [column.name for column in probe.description]
        oids = [column.type_code for column in probe.description]
    types = [pa.binary() if name == GEOMETRY and source.spatial
             else _ARROW_TYPES.get(oid, pa.string()) for name, oid in zip(names, oids)]
    metadata = {GEOMETRY: {b"ARROW:extension:name": b"geoarrow.wkb"}}
    schema = pa.schema([pa.field(n, t, metadata=metadata.get(n)) for n, t in zip(names, types)])
    snapshot = None
    if copy is not False and COPY_OIDS.issuperset(oids):
        snapshot = copy_snapshot(session)
    if snapshot is not None:
        mogrify = psycopg.ClientCursor(connection).mogrify
        batches = copy_batches(snapshot, mogrify(sql, params), schema, mogrify)
    elif copy:
        raise ValueError(f"{source.name}: binary COPY cannot read this query in this session")
    else:
        batches = _row_batches(connection, sql, params, schema, oids, chunk_rows)
    return pa.RecordBatchReader.from_batches(schema, _prefetched(batches))


def _row_batches(connection: psycopg.Connection, sql: str, params: dict[str, Any],
                 schema: pa.Schema, oids: list[int],
                 chunk_rows: int) -> Iterator[pa.RecordBatch]:
    """The rows streamed on ``connection`` as batches of at most ``chunk_rows`` rows."""
    cursor = connection.cursor(binary=True)
    # Chunked streaming: the server computes rows on while the client converts and GDAL
    # writes the ones before; the client holds a few chunks at a time.
    rows = cursor.stream(sql, params, size=chunk_rows)
    types = schema.types
    convert = [_to_text if t == pa.string() and oid not in _TEXT_OIDS
               else _to_float if oid == _NUMERIC else None for t, oid in zip(types, oids)]

    def batch(chunk: list[tuple]) -> pa.RecordBatch:
        arrays = [pa.array(col if conv is None else [conv(v) for v in col], type=t)
                  for col, t, conv in zip(zip(*chunk), types, convert)]
        return pa.RecordBatch.from_arrays(arrays, schema=schema)

    try:
        chunk = list(itertools.islice(rows, chunk_rows))
        while chunk:
            yield batch(chunk)
            chunk = list(itertools.islice(rows, chunk_rows))
    finally:
        rows.close()
        cursor.close()


_DONE = object()


def _database_error(exc: BaseException) -> BaseException:
    """A driver's error (psycopg's on the session's connection, ADBC's on the COPY reader's)
    as SQLAlchemy's :class:`~sqlalchemy.exc.DBAPIError` of the same kind, which
    :func:`gridmap.db.user_error_in` turns into what a user is told (a statement over its time
    limit: try again); anything else as it is."""
    base: type[BaseException] | None = psycopg.Error if isinstance(exc, psycopg.Error) else None
    if base is None and type(exc).__module__.startswith("adbc_driver_manager"):
        import adbc_driver_manager

        base = adbc_driver_manager.Error if isinstance(exc, adbc_driver_manager.Error) else None
    if base is None:
        return exc
    return DBAPIError.instance(None, None, exc, base)  # type: ignore[arg-type]


def _prefetched(batches: Iterator[pa.RecordBatch], depth: int = 3) -> Iterator[pa.RecordBatch]:
    """``batches`` made by a thread of their own, up to ``depth`` ahead, started now: the
    database works (and the COPY reader decodes, without the GIL) while the caller goes on
    (it imports GDAL's binding, ~0.3 s, and GDAL writes the batches before). The returned
    iterator has started, so closing it, or dropping it unread, stops the producer and runs
    its cleanup (the connection freed) before it returns."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def run() -> None:
        try:
            for item in batches:
                while not stop.is_set():
                    try:
                        ready.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    break
        except BaseException as exc:  # noqa: BLE001 — handed to the consumer to raise
            ready.put(_database_error(exc))
            return
        finally:
            batches.close()  # type: ignore[attr-defined]
        ready.put(_DONE)

    def consume() -> Iterator[pa.RecordBatch | None]:
        worker = threading.Thread(target=run, name="gridmap-export-rows", daemon=True)
        worker.start()
        try:
            yield None  # started: from here on, close() runs the cleanup below
            while (item := ready.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while worker.is_alive():  # let the producer out of a full queue
                try:
                    ready.get(timeout=0.1)
                except queue.Empty:
                    pass
            worker.join()

    started = consume()
    next(started)
    return started  # type: ignore[return-value]
