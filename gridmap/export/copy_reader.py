"""The fast way an export reads its rows: PostgreSQL's binary COPY decoded straight into Arrow.

:func:`gridmap.export.source.stream_batches` can stream rows through psycopg on the session's
own connection, but that makes a Python object of every value (1.6 million for 200,000
buildings of 8 columns) before Arrow takes them. When it can, it reads them instead with
the ADBC PostgreSQL driver, which runs the query as ``COPY (…) TO STDOUT (FORMAT binary)``
and decodes the stream into Arrow record batches in C: no Python object a row, and the
batches go from the driver to GDAL without the GIL being needed between them.

That takes a second connection. It reads the very snapshot the session's transaction has
(``pg_export_snapshot()`` there, ``SET TRANSACTION SNAPSHOT`` here), read-only, with the
session's statement and lock timeouts, so the rows are the ones the session would stream.
What it cannot do: see rows the session's transaction wrote and has not committed, import a
snapshot taken inside a savepoint or on a standby, or decode every column type to the Arrow
type the row path gives. In those cases :func:`copy_snapshot` answers None, or
:func:`copy_batches` is not asked, and the caller streams rows.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Iterator

import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.orm import Session

#: PostgreSQL type OIDs the COPY reader decodes into what the row path makes of them (a cast
#: at most widens: int2 → int32, float4 → float64): bool, bytea (the WKB), int8, int2,
#: int4, text, float4, float8, char(n), varchar, date, timestamp, timestamptz. Anything else
#: (numeric, json, arrays…) is written as the row path writes it, so such a query streams
#: rows.
COPY_OIDS = frozenset({16, 17, 20, 21, 23, 25, 700, 701, 1042, 1043, 1082, 1114, 1184})
#: The fewest rows an export reads by COPY. Its second connection costs ~80 ms (the driver
#: reads PostgreSQL's type catalogue), which the rows' decoding without Python objects pays
#: back at ~1 µs a row: 23,778 buildings are 55 ms slower by COPY, 200,000 are 135 ms faster.
COPY_MIN_ROWS = 75_000
#: How large a record batch the driver makes (its own hint, in bytes of Arrow buffers): a
#: few of them are what the export holds at a time.
BATCH_BYTES = 16 * 2**20


@dataclass(frozen=True)
class CopySnapshot:
    """What a second connection needs to read what the session sees: the exported
    snapshot's name and the session's timeouts (as PostgreSQL shows them)."""

    url: str
    snapshot: str
    statement_timeout: str
    lock_timeout: str


def copy_snapshot(session: Session) -> CopySnapshot | None:
    """Export the session transaction's snapshot for the COPY reader, or None when the
    session must stream its rows itself: its transaction has written (an XID is assigned),
    it is inside a savepoint, or the server is a standby."""
    connection = session.connection()
    if connection.in_nested_transaction():  # pg_export_snapshot() refuses a subtransaction
        return None
    # one round trip; CASE evaluates pg_export_snapshot() only when it may run
    snapshot, statement_ms, lock_ms = session.execute(text(
        "select case when not pg_is_in_recovery() and pg_current_xact_id_if_assigned() is null "
        "then pg_export_snapshot() end, current_setting('statement_timeout'), "
        "current_setting('lock_timeout')")).one()
    if snapshot is None:
        return None
    url = connection.engine.url.set(drivername="postgresql")
    return CopySnapshot(url.render_as_string(hide_password=False), snapshot, statement_ms,
                        lock_ms)


def _reader(stream: Any) -> pa.RecordBatchReader:
    """The driver's stream as a reader whose errors are ADBC's own, with PostgreSQL's SQLSTATE
    (a statement over its time limit is 57014, as on the row path); pyarrow's plain reader
    would raise a bare ``OSError``. The driver manager's reader is the one its DB-API uses."""
    try:
        from adbc_driver_manager._reader import AdbcRecordBatchReader
    except ImportError:  # a driver manager without it: errors as pyarrow reports them
        return pa.RecordBatchReader.from_stream(stream)
    return AdbcRecordBatchReader._import_from_c(stream.address)


def copy_batches(snapshot: CopySnapshot, sql: str, schema: pa.Schema,
                 literal: Any) -> Iterator[pa.RecordBatch]:
    """The rows of ``sql`` (with its parameters already bound: ``literal`` quotes a value as
    psycopg does, e.g. ``ClientCursor.mogrify``) as record batches of ``schema``, read on a
    connection of their own in ``snapshot``. The connection closes when the iterator ends or
    is closed.

    ADBC's own objects, not its DB-API module: that one imports ``pyarrow.dataset`` (~0.2 s
    of every export command) for nothing an export uses."""
    import adbc_driver_manager as adbc
    import adbc_driver_postgresql

    with contextlib.ExitStack() as stack:
        database = adbc_driver_postgresql.connect(snapshot.url)
        stack.callback(database.close)
        connection = adbc.AdbcConnection(database)  # autocommit: the BEGIN is ours
        stack.callback(connection.close)
        for command in ("begin isolation level repeatable read, read only",
                        literal("set transaction snapshot %s", (snapshot.snapshot,)),
                        literal("set local statement_timeout = %s",
                                (snapshot.statement_timeout,)),
                        literal("set local lock_timeout = %s", (snapshot.lock_timeout,))):
            with adbc.AdbcStatement(connection) as setup:
                setup.set_sql_query(command)
                setup.execute_update()
        statement = stack.enter_context(adbc.AdbcStatement(connection))
        statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(BATCH_BYTES)})
        statement.set_sql_query(sql)
        stream, _ = statement.execute_query()
        reader = _reader(stream)
        stack.callback(reader.close)  # before the statement it reads from
        for batch in reader:
            yield pa.RecordBatch.from_arrays(
                [column.cast(f.type) for column, f in zip(batch.columns, schema)],
                schema=schema)
