"""scripts/pghba.py: the narrowest rule per URL, added once at the top, removed exactly.
(That PostgreSQL reads the quoted names back as written is checked on a real cluster in
test_ensure_db.py.)"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.scripts.conftest import SCRIPTS, load_script

pghba = load_script("pghba")
pgurl = load_script("pgurl")
MARK = pghba.MARK

names = st.text(st.characters(blacklist_characters="\x00\n\r", blacklist_categories=("Cs",)),
                min_size=1, max_size=16)
# What an administrator may have written: any characters but line breaks, even bytes that are
# not UTF-8 (read back as surrogate escapes), with or without a final newline.
admin_lines = st.lists(st.text(st.characters(blacklist_characters="\n\r\x00"), max_size=30)
                       .map(lambda line: line.encode("utf-8", "surrogatepass")
                            .decode("utf-8", "surrogateescape"))
                       .filter(lambda line: not line.rstrip().endswith(MARK)), max_size=6)


def _target(dbname: str, user: str, host: str = "127.0.0.1") -> object:
    return pgurl.Target(host=host, port=5432, user=user, dbname=dbname)


def test_tcp_rule_is_one_database_one_user_one_address():
    hba, ident = pghba.rules_for(_target("gridmap", "postgres"), "root")
    assert hba == [f'host "gridmap" "postgres" 127.0.0.1/32 trust  {MARK}'] and ident == []
    hba, _ = pghba.rules_for(_target("gridmap", "postgres", "localhost"), "root")
    assert [line.split()[3] for line in hba] == ["127.0.0.1/32", "::1/128"]


def test_socket_rule_is_peer_mapped_from_the_login_name():
    hba, ident = pghba.rules_for(_target("all", 'po"st', "/var/run/postgresql"), "root")
    assert hba == [f'local "all" "po""st" peer map=gridmap  {MARK}']
    assert ident == [f'gridmap "root" "po""st"  {MARK}']
    assert pghba.rules_for(_target("d", "root", "/tmp"), "root") == (
        [f'local "d" "root" peer  {MARK}'], [])


@pytest.mark.parametrize("name", ["", "two\nlines", "cr\rname"])
def test_names_that_cannot_be_written_are_refused(name):
    with pytest.raises(pghba.RuleError, match="expected a name that fits on one"):
        pghba.rules_for(_target(name or "", "postgres"), "root")


def test_remote_targets_get_no_rule():
    with pytest.raises(pghba.RuleError, match="is not on this machine"):
        pghba.rules_for(_target("gridmap", "postgres", "db.example.org"), "root")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=admin_lines, ending=st.sampled_from([b"\n", b""]), dbname=names, user=names,
       host=st.sampled_from(["127.0.0.1", "::1", "localhost", "/var/run/postgresql"]))
def test_add_is_idempotent_and_undo_restores_the_file(tmp_path, before, ending, dbname, user,
                                                     host):
    path = tmp_path / "pg_hba.conf"
    path.write_bytes("\n".join(before).encode("utf-8", "surrogateescape") + ending)
    original = path.read_bytes()
    hba, _ = pghba.rules_for(_target(dbname, user, host), "root")
    assert pghba.add_lines(path, hba) == hba
    assert pghba.add_lines(path, hba) == []
    assert path.read_text().split("\n")[:len(hba)] == hba  # first, so they match first
    assert pghba.remove_lines(path, hba) == hba
    assert path.read_bytes() == original


def test_undo_of_one_url_keeps_the_others(tmp_path):
    path = tmp_path / "pg_hba.conf"
    path.write_text("local all all peer\n")
    one, _ = pghba.rules_for(_target("gridmap", "postgres"), "root")
    two, _ = pghba.rules_for(_target("gridmap_test", "postgres"), "root")
    pghba.add_lines(path, one)
    pghba.add_lines(path, two)
    assert pghba.remove_lines(path, one) == one
    assert path.read_text().splitlines() == two + ["local all all peer"]
    assert pghba.remove_lines(path) == two


def test_undo_removes_what_the_earlier_script_wrote_and_nothing_unmarked(tmp_path):
    path = tmp_path / "pg_hba.conf"
    admin = ["host all all 127.0.0.1/32 trust", "local all postgres peer"]
    path.write_text("\n".join(pghba.LEGACY_BLOCK + admin) + "\n")
    assert pghba.remove_lines(path) == pghba.LEGACY_BLOCK
    assert path.read_text().splitlines() == admin


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_rewrite_keeps_owner_and_mode(tmp_path):
    path = tmp_path / "pg_hba.conf"
    path.write_text("local all all peer\n")
    os.chown(path, 65534, 65534)
    path.chmod(0o640)
    pghba.add_lines(path, pghba.rules_for(_target("gridmap", "postgres"), "root")[0])
    stat = path.stat()
    assert (stat.st_uid, stat.st_gid, stat.st_mode & 0o777) == (65534, 65534, 0o640)


def test_command_line_prints_what_changed(tmp_path):
    hba, ident = tmp_path / "pg_hba.conf", tmp_path / "pg_ident.conf"
    hba.write_text("local all all peer\n")
    ident.write_text("")
    url = "postgresql://postgres@127.0.0.1/my%20db"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(SCRIPTS / "pghba.py"), *args],
                              capture_output=True, text=True)

    added = run("add", url, str(hba), str(ident))
    assert added.returncode == 0 and added.stdout == (
        f"gridmap: added at the top of {hba}:\n"
        f'    host "my db" "postgres" 127.0.0.1/32 trust  {MARK}\n')
    assert run("add", url, str(hba), str(ident)).stdout == ""
    removed = run("remove", str(hba), str(ident), url)
    assert removed.stdout.startswith(f"gridmap: removed from {hba}:\n")
    assert hba.read_text() == "local all all peer\n"
    remote = run("add", "postgresql://x@192.0.2.1/db", str(hba), str(ident))
    assert remote.returncode == 2 and len(remote.stderr.splitlines()) == 1
    assert Path(hba).read_text() == "local all all peer\n"
