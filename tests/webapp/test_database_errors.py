"""Database trouble is a JSON 503 that says what to do: schema missing or behind, busy, down."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from gridmap.db import get_engine
from gridmap.schema import code_head
from tests.conftest import sign_in
from webapp import create_app
from webapp.auth import access
from webapp.database import get_session

DATA_ROUTES = ["/api/districts", "/api/grids?community=420111002022",
               "/api/grids/420111002023001", "/api/layers/grids/features",
               "/api/layers/buildings/features/1"]


def _json(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


@pytest.fixture()
def empty_client(empty_database_url):
    return create_app({"database_url": empty_database_url}).test_client()


def test_unmigrated_database_is_503_saying_run_upgrade(empty_client):
    for url in DATA_ROUTES:
        body = _json(empty_client.get(url), 503)
        assert body["error"] == "database schema out of date"
        assert "run `gridmap db upgrade`" in body["detail"]
    health = _json(empty_client.get("/api/health"), 503)
    assert health["error"] == "database schema out of date"
    assert "no gridmap schema" in health["detail"]


@pytest.mark.parametrize("revision, needle", [
    ("0001", "at revision 0001, this code needs"),
    ("ffff", "which this code does not know"),
])
def test_schema_other_than_the_codes_is_503(empty_database_url, empty_client, revision,
                                            needle):
    engine = get_engine(empty_database_url)
    with engine.begin() as conn:
        conn.execute(text("create table alembic_version (version_num varchar(32) primary key)"))
        conn.execute(text("insert into alembic_version values (:r)"), {"r": revision})
    try:
        for url in DATA_ROUTES[:2] + ["/api/health"]:
            assert needle in _json(empty_client.get(url), 503)["detail"]
    finally:
        with engine.begin() as conn:
            conn.execute(text("drop table alembic_version"))


def test_health_reports_both_revisions(client):
    body = _json(client.get("/api/health"), 200)
    assert body["status"] == "ok"
    assert body["schema"] == {"database": code_head(), "code": code_head()}


def test_connections_carry_the_timeouts(database_url):
    app = create_app({"database_url": database_url, "statement_timeout_ms": 1234,
                      "lock_timeout_ms": 567})
    with app.test_request_context():
        session = get_session()
        assert session.execute(text("show statement_timeout")).scalar() == "1234ms"
        assert session.execute(text("show lock_timeout")).scalar() == "567ms"
        # a request's statements are never JIT-compiled (gridmap.db.Timeouts.web)
        assert session.execute(text("select setting, source from pg_settings "
                                    "where name = 'jit'")).one() == ("off", "client")


def test_commands_may_jit_as_postgresql_decides(database_url):
    from gridmap.config import load_settings
    from gridmap.db import Timeouts, get_engine

    engine = get_engine(database_url, timeouts=Timeouts.batch(load_settings()))
    with engine.connect() as connection:
        # what the server's configuration says, not set by gridmap's connection
        assert connection.execute(text(
            "select source from pg_settings where name = 'jit'")).scalar() != "client"


def test_a_locked_table_is_busy_with_retry_after(database_url, engine, people):
    app = create_app({"database_url": database_url, "lock_timeout_ms": 200})
    client = app.test_client()
    sign_in(client, "t-admin")
    with engine.connect() as holder:
        holder.execute(text("lock table grid in access exclusive mode"))
        started = time.monotonic()
        response = client.get("/api/grids?community=420111002022")
        waited = time.monotonic() - started
        holder.rollback()
    body = _json(response, 503)
    assert body["error"] == "database busy" and "200 ms" in body["detail"]
    assert response.headers["Retry-After"].isdigit()
    assert response.headers["Cache-Control"] == "no-store"
    assert waited < 5
    assert client.get("/api/grids?community=420111002022").status_code == 200  # then fine


def test_a_slow_statement_is_cancelled_and_busy(database_url):
    app = create_app({"database_url": database_url, "statement_timeout_ms": 100})

    @app.get("/api/slow")
    @access("public")
    def slow():
        get_session().execute(text("select pg_sleep(5)"))
        return {}

    response = app.test_client().get("/api/slow")
    body = _json(response, 503)
    assert body["error"] == "database busy" and "100 ms" in body["detail"]
    assert "Retry-After" in response.headers


def test_unreachable_database_is_503():
    app = create_app({"database_url": "postgresql://postgres@127.0.0.1:1/nowhere"})
    for url in DATA_ROUTES + ["/api/health"]:
        assert _json(app.test_client().get(url), 503)["error"] == "database unavailable"


def _probe_app(url: str):
    app = create_app({"database_url": url})

    @app.get("/api/probe")
    @access("public")
    def probe():
        return {"pid": get_session().execute(text("select pg_backend_pid()")).scalar()}
    return app


def test_a_current_schema_is_trusted_for_a_second_then_checked_again(database_url):
    """A process that found the schema current skips the check for SCHEMA_TRUSTED_S, then
    checks again and answers 503 once the database has moved."""
    from webapp.database import SCHEMA_TRUSTED_S

    engine = get_engine(database_url)
    client = _probe_app(database_url).test_client()
    assert client.get("/api/probe").status_code == 200
    try:
        with engine.begin() as conn:
            conn.execute(text("update alembic_version set version_num = '0001'"))
        assert client.get("/api/probe").status_code == 200  # trusted: no check this second
        time.sleep(SCHEMA_TRUSTED_S + 0.1)
        body = _json(client.get("/api/probe"), 503)
        assert "at revision 0001, this code needs" in body["detail"]
        assert _json(client.get("/api/probe"), 503)  # and every request while it is not
    finally:
        with engine.begin() as conn:
            conn.execute(text("update alembic_version set version_num = :head"),
                         {"head": code_head()})
    assert client.get("/api/probe").status_code == 200


def test_a_pooled_connection_that_died_while_idle_is_replaced(database_url, monkeypatch):
    """The web engine pings only a connection idle in the pool for a while; one whose server
    process ended meanwhile is replaced, and the request is answered."""
    import gridmap.db

    client = _probe_app(database_url).test_client()
    first = _json(client.get("/api/probe"), 200)["pid"]
    assert _json(client.get("/api/probe"), 200)["pid"] == first  # the pool gives it back
    with get_engine(database_url).connect() as killer:
        assert killer.execute(text("select pg_terminate_backend(:pid)"), {"pid": first}).scalar()
    monkeypatch.setattr(gridmap.db, "PING_AFTER_IDLE_S", 0.05)
    time.sleep(0.2)
    second = _json(client.get("/api/probe"), 200)["pid"]
    assert second != first
