"""``gridmap partition``: the table, the GeoJSON file, stored grids untouched, bad input."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import text


def test_partition_prints_the_plan_and_writes_geojson(runner, database_url, engine, tmp_path):
    with engine.connect() as conn:
        before = conn.execute(text("select count(*), max(version) from grid")).one()
    out = tmp_path / "plan.geojson"
    result = runner("partition", "420111002046", "--json", str(out))
    assert result.exit_code in (0, 1), result.output
    assert "community 420111002046:" in result.output and "PP" in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection" and data["features"]
    props = data["features"][0]["properties"]
    assert {"households", "buildings", "polsby_popper", "kind", "grid"} <= set(props)
    lon, lat = data["features"][0]["geometry"]["coordinates"][0][0]
    assert 114 < lon < 115 and 30 < lat < 31  # lon/lat order
    assert (result.exit_code == 1) == bool(data["violations"])
    with engine.connect() as conn:
        assert conn.execute(text("select count(*), max(version) from grid")).one() == before


def test_street_partitions_each_community(runner):
    result = runner("partition", "--street", "420111002", "--max", "600")
    assert result.output.count("community 4201110020") == 4
    assert "bounds 250–600" in result.output


def test_grids_option_gives_that_many_residential_grids(runner):
    result = runner("partition", "420111002023", "--grids", "3")
    assert "3 residential" in result.output.splitlines()[0]


@pytest.mark.parametrize("args, message", [
    (["420111002999"], "community '420111002999' is not loaded"),
    (["--street", "420111999"], "street '420111999'"),
    ([], "expected exactly one of them"),
    (["420111002023", "--min", "600", "--max", "300"], "--min 600 is above --max 300"),
    (["420111002023", "--grids", "0"], "--grids"),
    (["--street", "420111002", "--grids", "2"], "not to a --street"),
])
def test_bad_input_is_one_line_exit_2(database_url, args, message):
    run = subprocess.run([sys.executable, "-m", "gridmap.cli", "--database-url", database_url,
                          "partition", *args], capture_output=True, text=True)
    assert run.returncode == 2 and message in run.stderr, run.stderr
    assert run.stderr.strip().count("\n") == 0 and "Traceback" not in run.stderr
