"""The gridmap command: help, code parse, validate, import errors."""
from __future__ import annotations

import json
import subprocess
import sys

from sqlalchemy import text


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
                "(select count(*) from water), (select max(xmin::text::bigint) from water)"
                )).one()
    before = state()
    result = runner("demo")
    assert result.exit_code == 0 and "already drawn" in result.output
    counted = [line for line in result.output.splitlines() if " new, " in line]
    # official divisions (province … community), district, street, communities, buildings,
    # roads, water
    assert len(counted) == 11 and all("0 new, 0 updated" in line for line in counted)
    assert state() == before
