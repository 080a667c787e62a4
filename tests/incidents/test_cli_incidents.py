"""``gridmap incident`` and ``gridmap taxonomy`` as a user runs them: a real process, one
line per incident, JSON for one incident, and every refusal one line on stderr, exit 2."""
from __future__ import annotations

import json
import os

from sqlalchemy import text

from tests.test_cli import _run


def _gridmap(database_url, *args):
    return _run(*args, env={**os.environ, "DATABASE_URL": database_url})


def test_an_incident_through_the_command_line(database_url, engine, tmp_path):
    with engine.connect() as conn:
        code, lon, lat = conn.execute(text(
            "select code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
            "from grid where valid_to is null and kind = 'residential' order by code "
            "limit 1")).one()
    reported = _gridmap(database_url, "incident", "report", "--class", "0303", "--lon",
                        repr(lon), "--lat", repr(lat), "--description", "渣土遗撒")
    assert reported.returncode == 0, reported.stderr
    number, stage, cls, grid = reported.stdout.split("\t")[:4]
    assert (stage, cls, grid) == ("reported", "0303", code)
    for action in ("register", "dispatch"):
        done = _gridmap(database_url, "incident", "act", number, action, "--comment", "ok")
        assert done.returncode == 0, done.stderr
    assert done.stdout.split("\t")[1] == "dispatched" and done.stdout.split("\t")[4]
    shown = json.loads(_gridmap(database_url, "incident", "show", number).stdout)
    assert [s["action"] for s in shown["steps"]] == ["report", "register", "dispatch"]
    assert shown["steps"][1]["by"] and shown["steps"][1]["comment"] == "ok"
    listed = _gridmap(database_url, "incident", "list", "--stage", "dispatched").stdout
    assert number in [line.split("\t")[0] for line in listed.splitlines()]

    refused = _gridmap(database_url, "incident", "act", number, "close")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1
    assert "not allowed in stage dispatched; allowed: handle, defer" in refused.stderr
    stale = _gridmap(database_url, "incident", "act", number, "handle", "--expect", "reported")
    assert stale.returncode == 2 and "dispatched now, not reported" in stale.stderr


def test_bad_input_is_one_line_and_exit_2(database_url, tmp_path):
    cases = [
        (["incident", "report", "--class", "0000", "--lon", "114.4", "--lat", "30.5",
          "--description", "x"], "event class '0000' is not loaded"),
        (["incident", "report", "--class", "0401", "--lon", "nan", "--lat", "30.5",
          "--description", "x"], "expected longitude"),
        (["incident", "show", "2147483646"], "incident 2147483646 does not exist"),
        (["taxonomy", "load", str(tmp_path)], "departments.csv cannot be read"),
    ]
    for args, expected in cases:
        result = _gridmap(database_url, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
