"""scripts/pgurl.py reads URLs as libpq does: libpq's own parser (PQconninfoParse, through
psycopg) is the oracle, and the keyword/value strings it writes are read back by libpq."""
from __future__ import annotations

import subprocess
import sys
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict

from tests.scripts.conftest import SCRIPTS, load_script

pgurl = load_script("pgurl")

names = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
                min_size=1, max_size=24)
hosts = st.sampled_from(["127.0.0.1", "localhost", "[::1]", "db.example.org", "192.0.2.1"])


def _enc(value: str) -> str:
    return quote(value, safe="")


@given(user=names, password=names, dbname=names, host=hosts, port=st.integers(1, 65535),
       scheme=st.sampled_from(["postgresql", "postgres", "postgresql+psycopg"]))
def test_parse_agrees_with_libpq(user, password, dbname, host, port, scheme):
    url = f"{scheme}://{_enc(user)}:{_enc(password)}@{host}:{port}/{_enc(dbname)}"
    expected = conninfo_to_dict(url.replace(scheme, "postgresql", 1))
    target = pgurl.parse(url, environ={})
    assert (target.host, str(target.port), target.user, target.password, target.dbname) == (
        expected["host"], expected["port"], expected["user"], expected["password"],
        expected["dbname"])
    assert target.display() == f"{user}@{host}:{port}/{dbname}"  # no password in messages


@given(user=names, dbname=names, socket=names.map(lambda s: "/" + s.replace(",", "")),
       timeout=st.integers(1, 99))
def test_query_parameters_override_as_in_libpq(user, dbname, socket, timeout):
    url = (f"postgresql://ignored@remote.example/ignored?host={_enc(socket)}&user={_enc(user)}"
           f"&dbname={_enc(dbname)}&connect_timeout={timeout}&application_name=a+b")
    expected = conninfo_to_dict(url)
    target = pgurl.parse(url, environ={})
    assert (target.host, target.user, target.dbname) == (
        expected["host"], expected["user"], expected["dbname"])
    assert target.params == {"connect_timeout": str(timeout), "application_name": "a+b"}
    assert target.timeout == timeout and target.locality == "socket"


@given(user=names, password=names, dbname=names, host=st.sampled_from(["127.0.0.1", "/tmp"]))
def test_conninfo_is_read_back_by_libpq(user, password, dbname, host):
    target = pgurl.Target(host=host, port=5432, user=user, dbname=dbname, password=password,
                          params={"sslmode": "disable"})
    assert conninfo_to_dict(target.conninfo()) == {
        "host": host, "port": "5432", "user": user, "dbname": dbname, "password": password,
        "connect_timeout": str(pgurl.DEFAULT_TIMEOUT), "sslmode": "disable"}
    assert conninfo_to_dict(target.conninfo("postgres"))["dbname"] == "postgres"


@given(user=names, password=names, dbname=names, other=names,
       host=st.sampled_from(["127.0.0.1", "::1", "/var/run/postgresql"]))
def test_url_for_another_database_keeps_the_server(user, password, dbname, other, host):
    target = pgurl.Target(host=host, port=6432, user=user, dbname=dbname, password=password,
                          params={"sslmode": "disable"})
    assert conninfo_to_dict(target.url(other)) == {
        "host": host, "port": "6432", "user": user, "dbname": other, "password": password,
        "sslmode": "disable"}
    assert pgurl.parse(target.url(), environ={}) == target


@pytest.mark.parametrize(("url", "environ", "locality"), [
    ("postgresql://postgres@127.0.0.1:5432/gridmap", {}, "tcp"),
    ("postgresql://postgres@LocalHost/gridmap", {}, "tcp"),
    ("postgresql://postgres@[::1]:5433/gridmap", {}, "tcp"),
    ("postgresql:///gridmap", {}, "socket"),
    ("postgresql://postgres@%2Fvar%2Frun%2Fpostgresql/gridmap", {}, "socket"),
    ("postgresql:///gridmap", {"PGHOST": "db.example.org"}, ""),
    ("postgresql://postgres@192.0.2.1/gridmap", {}, ""),
    # A local cluster listens on localhost only, so starting it would not answer here.
    ("postgresql://postgres@127.0.0.2/gridmap", {}, ""),
])
def test_only_loopback_names_and_sockets_are_local(url, environ, locality):
    assert pgurl.parse(url, environ=environ).locality == locality


def test_defaults_come_from_the_environment_then_libpq():
    target = pgurl.parse("postgresql://", environ={"PGUSER": "alice", "PGPORT": "6543"})
    assert (target.host, target.port, target.user, target.dbname) == (
        "/var/run/postgresql", 6543, "alice", "alice")
    assert pgurl.parse("postgresql://bob@h", environ={}).dbname == "bob"


@pytest.mark.parametrize(("url", "says"), [
    ("mysql://root@127.0.0.1/gridmap", "expected a postgresql:// URL, got '127.0.0.1/gridmap'"),
    ("postgresql://h1,h2/gridmap", "several hosts in 'h1,h2'"),
    ("postgresql://h/gridmap?host=h1,h2", "several hosts in 'h1,h2'"),
    ("postgresql://h:99999/gridmap", "port '99999' is not a number from 1 to 65535"),
    ("postgresql://[::1/gridmap", "unclosed '['"),
    ("postgresql://h/gridmap?sslmode", "query parameter 'sslmode' has no value"),
])
def test_unreadable_urls_say_what_was_received(url, says):
    with pytest.raises(pgurl.URLError, match=None) as caught:
        pgurl.parse(url, environ={})
    assert says in str(caught.value)
    done = subprocess.run([sys.executable, str(SCRIPTS / "pgurl.py"), url], capture_output=True,
                          text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [f"gridmap: cannot read the database URL: {caught.value}"]


def test_error_never_shows_the_password():
    with pytest.raises(pgurl.URLError) as caught:
        pgurl.parse("mysql://root:s3cret@127.0.0.1/gridmap")
    assert "s3cret" not in str(caught.value)
