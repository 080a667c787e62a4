"""Fixtures: a PostGIS test database migrated per session, rolled back per test; app/client/
runner. A missing database or PostGIS is an error, never a skip."""
from __future__ import annotations

import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gridmap.db import get_engine, session_scope

# Property tests check behaviour, not speed: on a busy 2-core CI machine a slow example is not
# a failure (speed is measured by bench/, never by tests).
from hypothesis import HealthCheck, settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile(
    "gridmap", deadline=None, suppress_health_check=[HealthCheck.too_slow])
_hypothesis_settings.load_profile("gridmap")

# The CLI speaks the language of its environment: the suite pins English (tests of Chinese
# pass their own LANG), so a developer's zh_CN.UTF-8 shell does not change what is asserted.
os.environ.pop("LANGUAGE", None)
os.environ["LC_ALL"] = "C.UTF-8"



class EnglishClient(FlaskClient):
    """A browser that asks for English (the app's default is zh-CN): tests assert the English
    messages; tests of the languages (tests/webapp/test_i18n.py) drop or set the header."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def _english_test_clients() -> None:
    # Every app a test builds (the app fixture or create_app in a test) hands out such clients.
    from webapp import GridmapFlask

    GridmapFlask.test_client_class = EnglishClient


_english_test_clients()

TEST_URL = os.environ.get("TEST_DATABASE_URL",
                          "postgresql://postgres@127.0.0.1:5432/gridmap_test")
REPO = Path(__file__).resolve().parent.parent
TEST_DATA = REPO / "tests" / "data"  # small real subsets, see tests/data/README.md
ARTIFACTS = REPO / "test-artifacts"


def _reset_schema(url: str) -> None:
    engine = get_engine(url)
    with engine.begin() as conn:
        conn.execute(text("drop schema if exists public cascade"))
        conn.execute(text("create schema public"))
        conn.execute(text("create extension if not exists postgis"))


@pytest.fixture(scope="session")
def database_url() -> str:
    """The test database at the newest migration, with the demo district loaded."""
    from gridmap.cli import cli

    _reset_schema(TEST_URL)
    runner = CliRunner()
    for args in (["db", "upgrade"], ["demo"]):
        result = runner.invoke(cli, ["--database-url", TEST_URL, *args])
        assert result.exit_code == 0, result.output + repr(result.exception)
    return TEST_URL


@pytest.fixture(scope="session")
def engine(database_url):
    return get_engine(database_url)


@contextmanager
def rolled_back(engine, *, savepoint: bool = True) -> Iterator[Session]:
    """A session in a transaction that is rolled back on exit (``commit`` inside it only
    releases a savepoint). Property tests open one per hypothesis example, since the
    per-test ``db`` fixture would carry one example's writes into the next. ``savepoint``
    False: the session works in the outer transaction itself (what a snapshot export
    needs), and must not commit."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, expire_on_commit=False,
                      join_transaction_mode="create_savepoint" if savepoint
                      else "conditional_savepoint")
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture()
def db(engine) -> Session:
    """A session inside a transaction that is rolled back after the test."""
    with rolled_back(engine) as session:
        yield session


@pytest.fixture()
def committed(database_url):
    """A committing session scope for tests that must go through the real commit path."""
    return lambda: session_scope(database_url)


@pytest.fixture()
def app(database_url):
    from webapp import create_app

    app = create_app({"database_url": database_url})
    app.config["TESTING"] = True
    return app


@dataclass(frozen=True)
class TestPerson:
    """A person the tests sign in as; the password is random per test session."""

    login: str
    role: str
    scopes: tuple[tuple[str, str], ...]
    password: str


def _test_people(session: Session) -> list[TestPerson]:
    """Two grids of one community (A, B) and the demo's units around them."""
    rows = session.execute(text(
        "select code, community_code, street_code from grid where valid_to is null "
        "and kind = 'residential' order by community_code, code")).all()
    first = [r for r in rows if r.community_code == rows[0].community_code]
    grid_a, grid_b = first[0], first[1]
    return [TestPerson(login, role, scopes, secrets.token_urlsafe(12)) for login, role, scopes in (
        ("t-admin", "administrator", ()),
        ("t-worker-a", "grid_worker", (("grid", grid_a.code),)),
        ("t-worker-b", "grid_worker", (("grid", grid_b.code),)),
        ("t-community", "community_admin", (("community", grid_a.community_code),)),
        ("t-planner", "planner", (("street", grid_a.street_code),)),
    )]


@pytest.fixture(scope="session")
def people(database_url) -> dict[str, TestPerson]:
    """The test people, committed once per session: t-admin, t-worker-a (grid A),
    t-worker-b (grid B, same community), t-community, t-planner."""
    from gridmap.auth import add_person
    from gridmap.config import load_settings

    settings = load_settings({"database_url": database_url})
    with session_scope(database_url) as session:
        found = _test_people(session)
        for p in found:
            add_person(session, p.login, role=p.role, password=p.password, scopes=p.scopes,
                       settings=settings)
    return {p.login: p for p in found}


def sign_in(client, login: str) -> None:
    """Sign ``client`` in as ``login`` the way Flask-Login keeps it (no password check: the
    login page has tests of its own)."""
    from gridmap.auth.sessions import open_web_session
    from gridmap.models import Person
    from webapp.auth import SignedIn

    with session_scope(TEST_URL) as session:
        person = session.execute(select(Person).where(Person.login == login)).scalar_one()
        user_id = SignedIn(person, open_web_session(session, person.id, hours=1)).get_id()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = user_id
        flask_session["_fresh"] = True
        flask_session.permanent = True


def signed_in(app, login: str):
    """A test client of ``app`` signed in as ``login``."""
    client = app.test_client()
    sign_in(client, login)
    return client


@pytest.fixture()
def anonymous(app):
    """A client that has not signed in."""
    return app.test_client()


@pytest.fixture()
def client(app, people):
    """A client signed in as the administrator t-admin (who reaches everything)."""
    client = app.test_client()
    sign_in(client, "t-admin")
    return client


@pytest.fixture()
def runner(database_url):
    from gridmap.cli import cli

    cli_runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return cli_runner.invoke(cli, ["--database-url", database_url, *args], input=input)

    return invoke


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@contextmanager
def scratch_database(database_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database (PostGIS not yet created) on the test server, dropped on exit
    even when the test fails, with every engine gridmap opened on it disposed first."""
    import uuid

    from sqlalchemy import create_engine

    from gridmap.db import dispose_engines, normalise_url

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    server = database_url.rsplit("/", 1)[0]
    admin = create_engine(normalise_url(server + "/postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    url = f"{server}/{name}"
    try:
        yield url
    finally:
        dispose_engines(url)
        with admin.connect() as conn:
            conn.execute(text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


@pytest.fixture(scope="session")
def empty_database_url(database_url):
    """A scratch database with no gridmap schema (never migrated)."""
    with scratch_database(database_url, "gridmap_empty") as url:
        yield url


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(proc, url: str, what: str, timeout_s: float = 30) -> None:
    """Wait for ``url``/api/health to answer; kill ``proc`` and raise with its output if it
    exits or does not answer in time."""
    import time
    import urllib.request

    deadline = time.time() + timeout_s
    while True:
        try:
            urllib.request.urlopen(url + "/api/health", timeout=2)
            return
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"{what} did not start: "
                                   + proc.stdout.read().decode(errors="replace"))
            time.sleep(0.3)


@contextmanager
def gridmap_server(database_url: str, what: str = "gridmap serve") -> Iterator[int]:
    """A ``gridmap serve`` process (real gunicorn, one worker) on ``database_url``; its port.
    Stopped with SIGTERM on exit."""
    import signal
    import subprocess
    import sys

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gridmap.cli", "serve", "--port", str(port),
                             "--workers", "1"], env={**os.environ, "DATABASE_URL": database_url},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_until_serving(proc, f"http://127.0.0.1:{port}", what)
    try:
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)


@pytest.fixture(scope="session")
def served(database_url):
    """Port of ``gridmap serve`` on the test database; stopped at the end of the session."""
    with gridmap_server(database_url) as port:
        yield port
