"""scripts/pgaccess.py and scripts/marked_lines.py: peer rules and password-file entries, added
once at the top, removed exactly, nothing else touched. (That PostgreSQL and libpq read them
back as written is checked on a real cluster in test_ensure_db.py.)"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.scripts.conftest import SCRIPTS, load_script

pgaccess = load_script("pgaccess")
marked_lines = load_script("marked_lines")
pgurl = load_script("pgurl")
MARK = pgaccess.MARK

names = st.text(st.characters(blacklist_characters="\x00\n\r", blacklist_categories=("Cs",)),
                min_size=1, max_size=16)
# What an administrator may have written: any characters but line breaks, even bytes that are
# not UTF-8 (read back as surrogate escapes), with or without a final newline.
admin_lines = st.lists(st.text(st.characters(blacklist_characters="\n\r\x00"), max_size=30)
                       .map(lambda line: line.encode("utf-8", "surrogatepass")
                            .decode("utf-8", "surrogateescape"))
                       .filter(lambda line: not line.startswith("# gridmap")
                               and not line.rstrip().endswith(MARK)), max_size=6)
settings_with_tmp = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def _target(user: str, host: str = "/var/run/postgresql", port: int = 5432) -> object:
    return pgurl.Target(host=host, port=port, user=user, dbname="gridmap")


def _write(path, lines, ending):
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogateescape") + ending)
    return path.read_bytes()


def test_peer_rule_maps_the_login_and_keeps_the_user_itself():
    hba, ident = pgaccess.peer_rules(_target('po"st'), "root")
    assert hba == [f'local all "po""st" peer map=gridmap  {MARK}']
    assert ident == [f'gridmap "root" "po""st"  {MARK}', f'gridmap "po""st" "po""st"  {MARK}']
    assert pgaccess.peer_rules(_target("root"), "root")[1] == [f'gridmap "root" "root"  {MARK}']


@pytest.mark.parametrize(("make", "says"), [
    (lambda: pgaccess.peer_rules(_target("two\nlines"), "root"), "fits on one line"),
    (lambda: pgaccess.peer_rules(_target(""), "root"), "is empty"),
    (lambda: pgaccess.peer_rules(_target("postgres", "127.0.0.1"), "root"),
     "is not a socket address of this machine; expected a Unix socket directory"),
    (lambda: pgaccess.pgpass_lines(_target("postgres", "db.example.org"), "pw"),
     "is not a tcp address of this machine; expected 127.0.0.1, ::1 or localhost"),
])
def test_what_cannot_be_written_is_refused(make, says):
    with pytest.raises(pgaccess.AccessError, match=None) as caught:
        make()
    assert says in str(caught.value)


@given(user=names, password=names, host=st.sampled_from(["127.0.0.1", "::1", "localhost"]),
       port=st.integers(1, 65535))
def test_password_file_entry_reads_back(user, password, host, port):
    comment, entry = pgaccess.pgpass_lines(_target(user, host, port), password)
    assert comment.startswith(MARK) and not comment.rstrip().endswith(MARK)
    assert pgaccess._pgpass_fields(entry) == [host, str(port), "*", user, password]


@settings_with_tmp
@given(before=admin_lines, ending=st.sampled_from([b"\n", b""]), user=names)
def test_peer_rules_added_once_at_the_top_and_removed_exactly(tmp_path, before, ending, user):
    path = tmp_path / "pg_hba.conf"
    original = _write(path, before, ending)
    hba, _ = pgaccess.peer_rules(_target(user), "root")
    assert marked_lines.add_lines(path, hba) == hba
    assert marked_lines.add_lines(path, hba) == []
    assert marked_lines.read_lines(path)[0][:len(hba)] == hba  # first, so they match first
    assert marked_lines.remove_lines(path, MARK, hba) == hba
    assert path.read_bytes() == original


@settings_with_tmp
@given(before=admin_lines, ending=st.sampled_from([b"\n", b""]), user=names)
def test_password_entry_added_at_the_top_and_removed_exactly(tmp_path, before, ending, user):
    path = tmp_path / ".pgpass"
    original = _write(path, before, ending)
    target = _target(user, "127.0.0.1")
    password = pgaccess.add_pgpass(path, target)
    assert marked_lines.read_lines(path)[0][1] == pgaccess.pgpass_lines(target, password)[1]
    assert pgaccess.remove_pgpass(path, _target("someone else", "127.0.0.1")) == []
    assert pgaccess.remove_pgpass(path, target) == [["127.0.0.1", "5432", "*", user, password]]
    assert path.read_bytes() == original


def test_a_new_password_replaces_the_stale_one(tmp_path):
    path = tmp_path / ".pgpass"
    target = _target("postgres", "127.0.0.1")
    first = pgaccess.add_pgpass(path, target)
    second = pgaccess.add_pgpass(path, target)
    assert first != second and path.stat().st_mode & 0o777 == 0o600
    assert [entry[4] for entry in pgaccess.remove_pgpass(path)] == [second]
    assert path.read_text() == ""


def test_undo_of_one_user_keeps_the_others(tmp_path):
    path = tmp_path / "pg_hba.conf"
    path.write_text("local all all peer\n")
    one, _ = pgaccess.peer_rules(_target("postgres"), "root")
    two, _ = pgaccess.peer_rules(_target("gridmap"), "root")
    marked_lines.add_lines(path, one)
    marked_lines.add_lines(path, two)
    assert marked_lines.remove_lines(path, MARK, one) == one
    assert path.read_text().splitlines() == two + ["local all all peer"]
    assert marked_lines.remove_lines(path, MARK) == two


def test_undo_removes_what_the_earlier_script_wrote_and_nothing_unmarked(tmp_path):
    path = tmp_path / "pg_hba.conf"
    admin = ["host all all 127.0.0.1/32 trust", "local all postgres peer"]
    path.write_text("\n".join(pgaccess.LEGACY_BLOCK + admin) + "\n")
    assert marked_lines.remove_lines(path, MARK, legacy=pgaccess.LEGACY_BLOCK) == (
        pgaccess.LEGACY_BLOCK)
    assert path.read_text().splitlines() == admin


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_rewrite_keeps_owner_and_mode(tmp_path):
    path = tmp_path / "pg_hba.conf"
    path.write_text("local all all peer\n")
    os.chown(path, 65534, 65534)
    path.chmod(0o640)
    marked_lines.add_lines(path, pgaccess.peer_rules(_target("postgres"), "root")[0])
    stat = path.stat()
    assert (stat.st_uid, stat.st_gid, stat.st_mode & 0o777) == (65534, 65534, 0o640)


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPTS / "pgaccess.py"), *args],
                          capture_output=True, text=True)


def test_command_line_prints_what_changed(tmp_path):
    hba, ident = tmp_path / "pg_hba.conf", tmp_path / "pg_ident.conf"
    hba.write_text("local all all peer\n")
    ident.write_text("")
    url = "postgresql://postgres@%2Fvar%2Frun%2Fpostgresql/my%20db"
    added = _run("add-peer", url, str(hba), str(ident))
    assert added.returncode == 0 and added.stdout.startswith(
        f"gridmap: added at the top of {hba}:\n"
        f"    local all \"postgres\" peer map=gridmap  {MARK}\n"
        f"gridmap: added at the top of {ident}:\n")
    assert _run("add-peer", url, str(hba), str(ident)).stdout == ""
    removed = _run("remove-peer", str(hba), str(ident), url)
    assert removed.stdout.startswith(f"gridmap: removed from {hba}:\n")
    assert (hba.read_text(), ident.read_text()) == ("local all all peer\n", "")


def test_command_line_password_entries(tmp_path):
    passfile = tmp_path / ".pgpass"
    url = "postgresql://o%27neil@127.0.0.1:5433/gridmap"
    password = _run("add-pgpass", url, str(passfile)).stdout.strip()
    assert len(password) >= 32
    removed = _run("remove-pgpass", str(passfile), url)
    assert removed.stdout == (f"entry_host=127.0.0.1 entry_port=5433 "
                              f"entry_user='o'\"'\"'neil' entry_password={password}\n")


@pytest.mark.parametrize("args", [
    ["add-peer", "postgresql://x@192.0.2.1/db", "/nonexistent/hba", "/nonexistent/ident"],
    ["add-pgpass", "postgresql://x@/db", "/nonexistent/.pgpass"],
    ["remove-peer"],
    [],
])
def test_command_line_bad_input_gets_one_line(args):
    done = _run(*args)
    assert done.returncode == 2 and done.stdout == "" and len(done.stderr.splitlines()) == 1
