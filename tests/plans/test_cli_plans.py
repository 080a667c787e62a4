"""``gridmap plan`` and ``gridmap grid`` through the command line: a draft round-trips through a
GeoPackage in another CRS (as one edited in QGIS would), is shown and refused with its
findings; history and as-of answer; bad input is one line and exit 2."""
from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import text

from gridmap.errors import InvalidInput, NotFound, ValidationFailed
from tests.test_cli import _run

COMMUNITY = "420111002022"


def _grids(engine) -> gpd.GeoDataFrame:
    with engine.connect() as conn:
        return gpd.read_postgis(text(
            "select code, kind, name, geom from grid where community_code = :c and valid_to "
            "is null order by code"), conn, params={"c": COMMUNITY}, geom_col="geom")


def test_a_draft_edited_elsewhere_comes_back_and_is_checked(runner, engine, tmp_path):
    grids = _grids(engine)
    # "edited in QGIS": the first two grids merged, saved in the Gauss–Krüger zone
    merged = shapely.union(grids.geometry.iloc[0], grids.geometry.iloc[1])
    edited = gpd.GeoDataFrame({"kind": ["residential"] + list(grids["kind"].iloc[2:]),
                               "name": [None] + list(grids["name"].iloc[2:])},
                              geometry=[merged] + list(grids.geometry.iloc[2:]), crs=4490)
    path = tmp_path / "edited.gpkg"
    edited.to_crs(4547).to_file(path)
    result = runner("plan", "import", str(path), "--community", COMMUNITY)
    assert result.exit_code == 0, result.output
    plan_id = int(result.output.split()[2])
    shown = json.loads(runner("plan", "show", str(plan_id), "--json").output)
    assert len(shown["grids"]) == len(grids) - 1
    assert sum(g["households"] for g in shown["grids"]) == sum(c["households"]
                                                               for c in shown["current"])
    moved = {m["from_code"] for m in shown["moves"] if m["to_position"] == 1}
    assert moved == {grids["code"].iloc[0], grids["code"].iloc[1]}
    refused = runner("plan", "apply", str(plan_id), "--comment", "merge")
    if any(v["check"] == "household_bounds" for v in shown["violations"]):
        assert isinstance(refused.exception, ValidationFailed)
    listed = runner("plan", "list", "--community", COMMUNITY).output
    assert f"{plan_id}\t{COMMUNITY}\tdraft" in listed
    assert runner("plan", "discard", str(plan_id)).exit_code == 0


def test_history_and_the_grid_at_a_place(runner, engine):
    code = _grids(engine)["code"].iloc[0]
    history = json.loads(runner("grid", "history", code).output)
    assert history["code"] == code and history["status"] == "issued"
    with engine.connect() as conn:
        lon, lat = conn.execute(text("select ST_X(p), ST_Y(p) from (select "
                                     "ST_PointOnSurface(geom) p from grid where code = :c) x"),
                                {"c": code}).one()
    found = json.loads(runner("grid", "at", str(lon), str(lat)).output)
    assert found["code"] == code
    before = runner("grid", "at", str(lon), str(lat), "--date", "2001-01-01")
    assert isinstance(before.exception, NotFound)


def test_bad_input_is_one_line_and_exit_2(database_url, tmp_path):
    for args, needle in (
            (("plan", "apply", "999999", "--comment", "x"), "plan 999999: no such plan"),
            (("plan", "apply", "1"), "Missing option '--comment'"),
            (("plan", "import", str(tmp_path / "none.gpkg"), "--community", COMMUNITY),
             "no such file"),
            (("grid", "history", "4201110"), "4201110"),
            (("grid", "at", "114.39", "30.5", "--date", "yesterday"), "expected YYYY-MM-DD")):
        done = _run("--database-url", database_url, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.strip().count("\n") == 0 and needle in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_a_file_without_crs_is_refused(runner, tmp_path):
    path = tmp_path / "nocrs.gpkg"
    with pytest.warns(UserWarning, match="crs"):  # pyogrio warns, as it should
        gpd.GeoDataFrame(geometry=[shapely.box(114.38, 30.50, 114.39, 30.51)]).to_file(path)
    result = runner("plan", "import", str(path), "--community", COMMUNITY)
    assert isinstance(result.exception, InvalidInput)
    assert "declares no CRS" in str(result.exception)
