"""scripts/ensure-db.sh against real servers: the test database's server, an address where
nothing answers, and a throwaway Debian cluster with Debian's default access rules (peer and
scram-sha-256), which is the machine a fresh ``apt-get install postgresql`` leaves."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

from tests.conftest import TEST_URL
from tests.scripts.conftest import access_files_snapshot, clusters, load_script, run_script

pgurl = load_script("pgurl")
SERVER = pgurl.parse(TEST_URL)
AWKWARD = 'gridmap hsetup "it\'s" #{}'  # quote, apostrophe, spaces, comment sign


def _url(dbname: str, *, host: str = SERVER.host, port: int = SERVER.port,
         user: str = SERVER.user) -> str:
    # host in the query string works for addresses and socket directories alike
    return (f"postgresql://{quote(user, safe='')}@/{quote(dbname, safe='')}"
            f"?host={quote(host, safe='')}&port={port}&connect_timeout=5")


def _drop_database(dbname: str) -> None:
    with psycopg.connect(SERVER.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(dbname)))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert f" {port} " not in clusters()
    return port


def _assert_one_line_and_nothing_changed(done, before_files, before_clusters, says):
    assert done.returncode == 1, done
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and says in done.stderr, done.stderr
    assert access_files_snapshot() == before_files
    assert clusters() == before_clusters


def test_creates_a_database_with_an_awkward_name_and_postgis():
    dbname = AWKWARD.format(uuid.uuid4().hex[:8])
    try:
        first = run_script("ensure-db.sh", _url(dbname))
        assert first.returncode == 0, first.stderr
        assert f"created database {dbname}" in first.stdout
        with psycopg.connect(SERVER.conninfo(dbname)) as conn:
            assert conn.execute("select current_database(), postgis_version() is not null"
                                ).fetchone() == (dbname, True)
        again = run_script("ensure-db.sh", _url(dbname))
        assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    finally:
        _drop_database(dbname)


def test_unreachable_remote_address_changes_nothing():
    before_files, before_clusters = access_files_snapshot(), clusters()
    done = run_script("ensure-db.sh", "postgresql://x@192.0.2.1:5432/db?connect_timeout=2")
    _assert_one_line_and_nothing_changed(
        done, before_files, before_clusters,
        "nothing answers at x@192.0.2.1:5432/db within 2 s; it is not a local address")


def test_local_port_without_a_cluster_changes_nothing():
    before_files, before_clusters = access_files_snapshot(), clusters()
    port = _free_port()
    done = run_script("ensure-db.sh", _url("gridmap", host="127.0.0.1", port=port))
    if before_clusters:
        says = f"no local cluster is set up for port {port}"
    else:
        says = f"nothing answers at {SERVER.user}@127.0.0.1:{port}/gridmap"
    _assert_one_line_and_nothing_changed(done, before_files, before_clusters, says)


@pytest.mark.skipif(f" {SERVER.port} online " not in clusters(),
                    reason="needs a running local Debian cluster on the test server's port")
def test_running_cluster_that_does_not_answer_there_is_not_restarted(tmp_path):
    before_files, before_clusters = access_files_snapshot(), clusters()
    done = run_script("ensure-db.sh", _url("gridmap", host=str(tmp_path), port=SERVER.port))
    _assert_one_line_and_nothing_changed(
        done, before_files, before_clusters,
        f"on port {SERVER.port} is running: does it listen on {tmp_path}?")


@pytest.mark.parametrize(("args", "says"), [
    (["mysql://root@127.0.0.1/gridmap"], "expected a postgresql:// URL"),
    (["postgresql://127.0.0.1:http/gridmap"], "port 'http' is not a number"),
    ([], "usage: ensure-db.sh URL"),
    (["a", "b"], "usage: ensure-db.sh URL"),
])
def test_bad_arguments_get_one_line_and_status_2(args, says):
    done = run_script("ensure-db.sh", *args)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and says in done.stderr


@pytest.fixture()
def throwaway_cluster():
    """A stopped cluster of the newest installed PostgreSQL with Debian's default access rules,
    on a free port; dropped afterwards, whatever happens."""
    version = sorted(os.listdir("/usr/lib/postgresql"), key=int)[-1]
    name, port = f"gmtest{uuid.uuid4().hex[:8]}", _free_port()
    subprocess.run(["pg_createcluster", "-p", str(port), version, name], check=True,
                   capture_output=True)
    try:
        yield version, name, port
    finally:
        subprocess.run(["pg_dropcluster", "--stop", version, name], check=True,
                       capture_output=True)


def _connects(url: str, passfile) -> bool:
    try:
        psycopg.connect(pgurl.parse(url).conninfo(), passfile=str(passfile)).close()
        return True
    except psycopg.OperationalError as error:
        assert "authentication failed" in str(error) or "no password supplied" in str(error)
        return False


def _as_postgres(version: str, name: str, query: str) -> list[str]:
    done = subprocess.run(["runuser", "-u", "postgres", "--", "psql", "--cluster",
                           f"{version}/{name}", "-XtA", "-d", "postgres", "-c", query],
                          capture_output=True, text=True, check=True, cwd="/")
    return done.stdout.splitlines()


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("pg_createcluster") is None,
                    reason="creates a throwaway Debian cluster: needs root and postgresql-common")
def test_local_cluster_is_started_and_opened_without_trust(throwaway_cluster, tmp_path,
                                                            monkeypatch):
    version, name, port = throwaway_cluster
    passfile = tmp_path / "pgpass"
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    others = {path: state for path, state in access_files_snapshot().items()
              if f"/{name}/" not in path}
    hba = f"/etc/postgresql/{version}/{name}/pg_hba.conf"
    ident = f"/etc/postgresql/{version}/{name}/pg_ident.conf"
    original = {hba: open(hba, "rb").read(), ident: open(ident, "rb").read()}
    user = 'gm o\'neil "x":y'  # quote, apostrophe, space, colon (a .pgpass separator)
    tcp = _url(AWKWARD.format("tcp"), host="127.0.0.1", port=port, user=user)
    scratch = _url("postgres", host="127.0.0.1", port=port, user=user)
    sock = _url(AWKWARD.format("sock"), host="/var/run/postgresql", port=port, user=user)
    nowhere = tmp_path / "no-pgpass"

    done = run_script("ensure-db.sh", tcp)
    assert done.returncode == 0, done.stderr
    for said in (f"started PostgreSQL {version}/{name}", f"created role {user}",
                 f"created database {AWKWARD.format('tcp')} (owner {user})",
                 f"set a generated password on role {user}", f"saved it in {passfile}",
                 "pg_hba.conf is unchanged", "to undo: make db-untrust",
                 "created extension postgis"):
        assert said in done.stdout
    assert {hba: open(hba, "rb").read(), ident: open(ident, "rb").read()} == original
    assert _connects(tcp, passfile) and _connects(scratch, passfile)  # tests make databases
    assert not _connects(tcp, nowhere)  # no trust: only who holds the password file
    assert run_script("ensure-db.sh", tcp).stdout == ""  # idempotent

    done = run_script("ensure-db.sh", sock)  # peer, mapped from root
    assert done.returncode == 0 and f"added at the top of {hba}" in done.stdout, done.stderr
    assert _connects(sock, nowhere)
    # PostgreSQL itself reads the quoted names back exactly; postgres keeps its own access
    assert _as_postgres(version, name, "select type, database, user_name, auth_method, error "
                        "from pg_hba_file_rules order by line_number limit 1") == [
        'local|{all}|{"gm o\'neil \\"x\\":y"}|peer|']
    assert _as_postgres(version, name, "select map_name, sys_name, pg_username from "
                        "pg_ident_file_mappings where map_name = 'gridmap'") == [
        f"gridmap|root|{user}", f"gridmap|{user}|{user}"]

    undo = run_script("ensure-db.sh", "--undo", tcp)
    assert undo.returncode == 0 and f"removed from {passfile}" in undo.stdout, undo.stderr
    assert f"role {user} has no password again" in undo.stdout
    assert not _connects(tcp, passfile) and _connects(sock, nowhere)  # only that URL's
    # (not a bare --undo: that would also take the test database's access, if any, away)
    undo = run_script("ensure-db.sh", "--undo", sock)
    assert undo.returncode == 0 and f"removed from {hba}" in undo.stdout, undo.stderr
    assert not _connects(sock, nowhere)
    assert {hba: open(hba, "rb").read(), ident: open(ident, "rb").read()} == original
    assert passfile.read_text() == ""
    assert {path: state for path, state in access_files_snapshot().items()
            if f"/{name}/" not in path} == others
