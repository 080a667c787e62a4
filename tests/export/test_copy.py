"""The two ways an export reads its rows agree: binary COPY decoded by the ADBC driver on a
second connection in the session's snapshot, and psycopg's stream on the session's own
connection (gridmap.export.source, gridmap.export.copy_reader)."""
from __future__ import annotations

import threading
import pyarrow as pa
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from gridmap.db import user_error_in
from gridmap.errors import DatabaseBusy
from gridmap.export import ExportSource, Selection, parse_export_crs, stream_batches
from gridmap.export.copy_reader import COPY_OIDS
from tests.conftest import rolled_back
from tests.export.conftest import ADMIN

DISTRICT = Selection.of(district="420111")


def _table(session, source, crs, copy):
    return pa.Table.from_batches(list(stream_batches(session, source, crs, copy=copy)))


def _copyable(session, source, crs) -> bool:
    from gridmap.export.source import _compiled

    sql, params = _compiled(session, source.sql(crs), source.params)
    with session.connection().connection.driver_connection.cursor() as cursor:
        cursor.execute(f"select * from ({sql}) q limit 0", params)
        return COPY_OIDS.issuperset(c.type_code for c in cursor.description)


@pytest.mark.parametrize("crs", ["EPSG:4490", "EPSG:4547"])
def test_copy_and_rows_give_the_same_batches_for_every_layer(engine, layers, crs):
    export_crs = parse_export_crs(crs)
    copied = 0
    with rolled_back(engine, savepoint=False) as session:
        for name, layer in layers.items():
            source = layer.export_source(ADMIN, DISTRICT)
            rows = _table(session, source, export_crs, copy=False)
            if not _copyable(session, source, export_crs):
                with pytest.raises(ValueError):
                    _table(session, source, export_crs, copy=True)
                continue
            by_copy = _table(session, source, export_crs, copy=True)
            assert by_copy.schema == rows.schema, name
            assert by_copy.equals(rows), name  # every value, null and row order
            assert _table(session, source, export_crs, copy=None).equals(rows), name
            copied += len(rows) > 0
    assert copied >= 3  # buildings, grids, communities… are read by COPY


def test_copy_reads_the_sessions_snapshot_not_a_later_commit(engine, database_url, layers):
    source = layers["buildings"].export_source(ADMIN, DISTRICT)
    crs = parse_export_crs("EPSG:4490")
    with rolled_back(engine, savepoint=False) as session:
        # the transaction's snapshot is taken by its first query and kept
        session.execute(text("set transaction isolation level repeatable read"))
        before = source.count(session)
        with engine.begin() as other:
            grid = other.execute(text("select id from grid where valid_to is null limit 1"))
            other.execute(text(
                "insert into building (id, district_code, source, source_id, name, use, "
                "households, grid_id, footprint) values (2000000001, '420111', 'test', "
                "'late', 'late', 'residential', 1, :grid, ST_Multi(ST_Buffer("
                "ST_SetSRID(ST_Point(114.3, 30.5), 4490), 0.0001)))"),
                {"grid": grid.scalar_one()})
        try:
            reader = stream_batches(session, source, crs, copy=True)
            ids = pa.Table.from_batches(list(reader))["id"].to_pylist()
            assert len(ids) == before and 2000000001 not in ids
        finally:
            with engine.begin() as other:
                other.execute(text("delete from building where id = 2000000001"))


def test_a_session_that_has_written_streams_its_own_rows(engine, layers):
    source = layers["buildings"].export_source(ADMIN, DISTRICT)
    crs = parse_export_crs("EPSG:4490")
    with rolled_back(engine, savepoint=False) as session:
        session.execute(text("update building set name = 'written, not committed' "
                             "where id = (select min(id) from building "
                             "where district_code = '420111')"))
        names = _table(session, source, crs, copy=None)["name"].to_pylist()
        assert "written, not committed" in names  # the COPY reader could not have seen it
        with pytest.raises(ValueError):
            _table(session, source, crs, copy=True)


@pytest.mark.parametrize("copy", [True, False])
def test_a_stream_dropped_unread_stops_its_producer(engine, layers, copy):
    source = layers["buildings"].export_source(ADMIN, DISTRICT)
    with rolled_back(engine, savepoint=False) as session:
        reader = stream_batches(session, source, parse_export_crs("EPSG:4490"), copy=copy)
        reader.read_next_batch()
        del reader
        assert not [t for t in threading.enumerate() if t.name == "gridmap-export-rows"]
        # the session's connection is free again (the row stream let go of it)
        assert session.execute(text("select 1")).scalar_one() == 1


def test_the_copy_connection_has_the_sessions_timeouts_and_only_reads(engine):
    probe = ExportSource("settings", None, None,
                         "select current_setting('statement_timeout') as statement, "
                         "current_setting('lock_timeout') as lock, "
                         "current_setting('transaction_read_only') as read_only, "
                         "pg_backend_pid() as pid")
    with rolled_back(engine, savepoint=False) as session:
        session.execute(text("set local statement_timeout = '12345ms'"))
        session.execute(text("set local lock_timeout = '2345ms'"))
        row = _table(session, probe, parse_export_crs("EPSG:4490"), copy=True).to_pylist()
        own = session.execute(text("select pg_backend_pid()")).scalar_one()
    assert row == [{"statement": "12345ms", "lock": "2345ms", "read_only": "on",
                    "pid": row[0]["pid"]}] and row[0]["pid"] != own


@pytest.mark.parametrize("copy", [True, False])
def test_a_statement_over_its_time_limit_is_the_busy_error_either_way(engine, copy):
    slow = ExportSource("slow", None, None, "select pg_sleep(0.5) is null as slept")
    with rolled_back(engine, savepoint=False) as session:
        session.execute(text("set local statement_timeout = '100ms'"))
        with pytest.raises(DBAPIError) as raised:
            _table(session, slow, parse_export_crs("EPSG:4490"), copy=copy)
    assert isinstance(user_error_in(raised.value), DatabaseBusy)
