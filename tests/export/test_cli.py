"""``gridmap export`` as a user runs it (a real process for one success and one refusal; the
other refusals in process, where each is the one error ``main`` prints as one line, exit 2),
and no file left behind."""
from __future__ import annotations

import json
import os
import sqlite3

import pyogrio

from gridmap.errors import GridmapError
from tests.test_cli import _run


def _gridmap(database_url, *args):
    return _run("export", *args, env={**os.environ, "DATABASE_URL": database_url})


def test_export_a_community_and_the_district_package(database_url, tmp_path):
    out = tmp_path / "grids.geojson"
    done = _gridmap(database_url, "grids", "--community", "420111002015", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "grids as geojson in EPSG:4326" in done.stdout
    collection = json.loads(out.read_text(encoding="utf-8"))
    assert "crs" not in collection and len(collection["features"]) > 1
    assert {f["properties"]["community_code"] for f in collection["features"]} == \
        {"420111002015"}
    package = tmp_path / "district.gpkg"
    done = _gridmap(database_url, "package", "--district", "420111", "-o", str(package))
    assert done.returncode == 0, done.stderr
    tables = {name for name, _ in pyogrio.list_layers(package)}
    assert {"grids", "buildings", "districts", "code_registry", "grid_lineage",
            "event_class", "department"} <= tables
    with sqlite3.connect(package) as conn:
        kinds = dict(conn.execute("select table_name, data_type from gpkg_contents"))
        srs = conn.execute("select organization, organization_coordsys_id from "
                           "gpkg_spatial_ref_sys where srs_id = 4490").fetchone()
    assert kinds["code_registry"] == kinds["event_class"] == "attributes"
    assert kinds["grids"] == "features" and srs == ("EPSG", 4490)
    # the same again is refused; --overwrite replaces it
    again = _gridmap(database_url, "package", "--district", "420111", "-o", str(package))
    assert again.returncode == 2 and "--overwrite" in again.stderr


def test_bad_input_is_one_line_exit_2_and_leaves_no_file(database_url, runner, tmp_path):
    out = str(tmp_path / "x.gpkg")
    cases = [
        (["nope", "-o", out], "no layer 'nope'; layers are "),
        (["grids", "-o", out, "--format", "pdf"], "expected one of geojson, gpkg"),
        (["grids", "-o", out, "--crs", "EPSG:2000"], "EPSG:4534…EPSG:4554"),
        (["grids", "-o", str(tmp_path / "x.kml"), "--crs", "EPSG:4490"],
         "written in EPSG:4326 only"),
        (["grids", "-o", out, "--bbox", "114.5,30,114.4,31"], "min ≤ max"),
        (["grids", "-o", out, "--bbox", "114,30,190,31"], "longitudes −180…180"),
        (["grids", "-o", out, "--community", "420111002099"], "is not loaded"),
        (["grids", "-o", out, "--street", "42011100"], "street"),
        (["grids", "-o", out, "--street", "420111002", "--district", "420111"],
         "at most one of"),
        (["grids", "-o", str(tmp_path / "x.dat")], "give --format"),
        (["grids", "-o", str(tmp_path / "missing" / "x.gpkg")], "does not exist"),
        (["package", "-o", out], "give --district"),
    ]
    result = _gridmap(database_url, *cases[0][0])
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert cases[0][1] in result.stderr
    for args, expected in cases[1:]:
        result = runner("export", *args)
        assert isinstance(result.exception, GridmapError), (args, result.output)
        assert expected in str(result.exception), (args, str(result.exception))
    assert os.listdir(tmp_path) == []


def test_unwritable_folder(runner, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        result = runner("export", "grids", "-o", str(folder / "x.gpkg"))
        # root writes anywhere: then the export simply succeeds
        if os.geteuid() == 0:
            assert result.exit_code == 0, result.output
        else:
            assert "not writable" in str(result.exception)
    finally:
        folder.chmod(0o700)
