"""The gridmap command: help, code parse, validate, import errors."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest
from sqlalchemy import text

from tests.conftest import free_port


def test_help_lists_commands(runner):
    out = runner("--help").output
    for command in ("db", "demo", "serve", "import", "validate", "code"):
        assert command in out


def test_code_parse(runner):
    result = runner("code", "parse", "420111002023003")
    assert result.exit_code == 0
    assert "district   420111 洪山区" in result.output
    assert "street     002 (street) → 420111002 关山街道" in result.output
    assert "community  023 (residents) → 420111002023" in result.output


def test_validate_demo_is_clean(runner):
    result = runner("validate")
    assert result.exit_code == 0, result.output
    assert json.loads(runner("validate", "--json").output) == []


def test_validate_reports_violations(runner, committed):
    with committed() as session:
        session.execute(text("update grid set geom = ST_Multi(ST_Translate(geom, 0.0005, 0)) "
                             "where code = '420111002023001'"))
    try:
        result = runner("validate", "--json")
        assert result.exit_code == 1
        found = json.loads(result.output)
        checks = {v["check"] for v in found}
        assert {"within_parent", "no_overlap", "no_gap"} <= checks
        for v in found:
            assert set(v) == {"check", "codes", "detail", "location"}
        plain = runner("validate")
        assert plain.exit_code == 1 and "[no_overlap]" in plain.output
    finally:
        with committed() as session:
            session.execute(text("update grid set geom = ST_Multi(ST_Translate(geom, -0.0005, "
                                 "0)) where code = '420111002023001'"))
    assert runner("validate").exit_code == 0


def _run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "gridmap.cli", *args], capture_output=True,
                          text=True, env=env)


def test_errors_are_one_line_on_stderr(database_url):
    bad = _run("code", "parse", "4201110020230")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().count("\n") == 0 and "13 digits" in bad.stderr
    down = _run("--database-url", "postgresql://postgres@127.0.0.1:1/x", "validate")
    assert down.returncode == 2 and "database unavailable" in down.stderr
    assert "Traceback" not in down.stderr


def test_import_of_missing_file(runner):
    result = runner("import", "/nonexistent/file.gpkg", "--layer", "buildings",
                    "--district", "420111")
    assert result.exit_code != 0
    assert "does not exist" in str(result.exception)


def test_demo_is_idempotent(runner, engine):
    def state():
        with engine.connect() as conn:
            return conn.execute(text(
                "select (select count(*) from grid), (select count(*) from building), "
                "(select count(*) from code_registry), (select sum(households) from grid), "
                "(select max(xmin::text::bigint) from building), "
                "(select max(xmin::text::bigint) from community), "
                "(select max(xmin::text::bigint) from district), "
                "(select max(xmin::text::bigint) from grid), "
                "(select max(xmin::text::bigint) from division), "
                "(select count(*) from road), (select max(xmin::text::bigint) from road), "
                "(select count(*) from water), (select max(xmin::text::bigint) from water), "
                "(select count(*) from walk_edge), (select max(xmin::text::bigint) from walk_edge), "
                "(select max(xmin::text::bigint) from walk_network)"
                )).one()
    before = state()
    result = runner("demo")
    assert result.exit_code == 0 and "already drawn" in result.output
    counted = [line for line in result.output.splitlines() if " new, " in line]
    # official divisions (province … community), district, street, communities, buildings,
    # roads, water
    assert len(counted) == 11 and all("0 new, 0 updated" in line for line in counted)
    assert "walking network of 420111" in result.output and "(unchanged)" in result.output
    assert state() == before


# --- settings, migrations, serve and warnings: one line on stderr, exit 2 -------------------


def _env(**changes):
    env = {**os.environ, **changes}
    return {k: v for k, v in env.items() if v is not None}


def _one_line_error(result, *needles):
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("variable, value, needle", [
    ("GRIDMAP_API_MAX_FEATURES", "abc", "expected a whole number ≥ 1"),
    ("GRIDMAP_API_MAX_FEATURES", "0", "expected a whole number ≥ 1"),
    ("DATABASE_URL", "postgresql://u@h:port/db", "not a database URL"),
    ("GRIDMAP_DATA_DIR", "/nonexistent/data", "no such folder"),
])
def test_bad_setting_stops_every_command(database_url, variable, value, needle):
    env = _env(**{"DATABASE_URL": database_url, variable: value})
    for args in (["validate"], ["code", "parse", "420111005001003"], ["db", "upgrade"]):
        _one_line_error(_run(*args, env=env), f"{variable}=", needle)


@pytest.mark.parametrize("args", [["db", "upgrade", "XYZ"], ["db", "downgrade", "XYZ"],
                                  ["db", "downgrade", "0099"]])
def test_unknown_revision(database_url, args):
    line = _one_line_error(_run(*args, env=_env(DATABASE_URL=database_url)), "revision",
                           args[-1])
    assert "0001" in line  # says which revisions there are


def test_upgrade_reports_where_the_database_is(runner):
    from gridmap.schema import code_head

    result = runner("db", "upgrade", "0001")  # already past it: nothing happens
    assert result.exit_code == 0 and f"database at {code_head()} " in result.output


def test_commands_on_an_unmigrated_database_say_what_to_run(empty_database_url):
    for args in (["validate"], ["demo"]):
        _one_line_error(_run("--database-url", empty_database_url, *args),
                        "run `gridmap db upgrade`")


def test_lock_held_elsewhere_is_busy_not_a_hang(database_url, engine):
    with engine.connect() as holder:
        holder.execute(text("lock table grid in access exclusive mode"))
        result = _run("validate", env=_env(DATABASE_URL=database_url,
                                           GRIDMAP_BATCH_LOCK_TIMEOUT_MS="200"))
        holder.rollback()
    _one_line_error(result, "database busy", "200 ms", "try again")


def test_serve_checks_before_starting(database_url):
    env = _env(DATABASE_URL=database_url)
    _one_line_error(_run("serve", "--port", "70000", env=env), "--port 70000", "1 to 65535")
    _one_line_error(_run("serve", "--port", "abc", env=env), "'abc' is not a valid integer")
    _one_line_error(_run("serve", "--workers", "0", env=env), "--workers 0", "from 1 to")
    _one_line_error(_run("serve", "--host", "no-such-host.invalid", env=env),
                    "not a known host name")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        _one_line_error(_run("serve", "--port", port, env=env), "in use")
    _one_line_error(_run("serve", "--port", str(free_port()),
                         env=_env(DATABASE_URL="postgresql://postgres@127.0.0.1:1/x")),
                    "database unavailable")
    _one_line_error(_run("serve", "--port", str(free_port()),
                         env=_env(DATABASE_URL="postgres ql://nonsense")), "DATABASE_URL=")


def test_serve_refuses_a_privileged_port_without_privileges(database_url):
    # Drop the one capability that lets a process bind ports below 1024 (root keeps access
    # to the virtualenv under /root, which an unprivileged user would not have).
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed"
    result = subprocess.run([setpriv, "--inh-caps=-net_bind_service",
                             "--bounding-set=-net_bind_service", sys.executable, "-m",
                             "gridmap.cli", "serve", "--port", "80"],
                            capture_output=True, text=True, env=_env(DATABASE_URL=database_url))
    _one_line_error(result, "permission denied", "choose a --port")


def test_serve_refuses_an_unmigrated_database(empty_database_url):
    _one_line_error(_run("--database-url", empty_database_url, "serve", "--port",
                         str(free_port())), "run `gridmap db upgrade`")


_WARNS = """
import warnings, numpy, sys, click
from gridmap import cli

@cli.cli.command("warn")
def warn():
    warnings.warn("a library's notice\\nsecond line", UserWarning)
    warnings.warn("old api", DeprecationWarning)
    numpy.log(numpy.zeros(1))
    click.echo("done")

sys.argv = ["gridmap", "warn"]
cli.main()
"""


def test_warnings_are_one_clean_line():
    result = subprocess.run([sys.executable, "-W", "default", "-c", _WARNS],
                            capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout == "done\n"
    lines = result.stderr.splitlines()
    assert lines == ["gridmap: warning: a library's notice second line",
                     "gridmap: warning: divide by zero encountered in log"], result.stderr
