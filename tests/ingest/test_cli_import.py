"""``gridmap import`` options for what recipes can say, and bad input as one line, exit 2."""
from __future__ import annotations

import sys

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import box
from sqlalchemy import text

from gridmap.cli import main
from tests.ingest.osmxml import LAT, LON, OsmFile

SOURCE = "cli-test"


@pytest.fixture()
def gridmap(database_url, monkeypatch, capsys, committed):
    """Run ``gridmap …`` in-process through ``main()``: (exit code, stdout, stderr)."""
    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["gridmap", "--database-url", database_url, *args])
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    with committed() as session:
        session.execute(text("delete from building where source like :s"),
                        {"s": f"{SOURCE}%"})
        from gridmap.grid.assign import refresh_grid_totals
        refresh_grid_totals(session)


def one_line_error(result, *fragments: str) -> None:
    code, out, err = result
    assert (code, out) == (2, ""), result
    assert err.count("\n") == 1 and err.startswith("gridmap: "), err
    for fragment in fragments:
        assert fragment in err, err


def buildings_gpkg(tmp_path, **columns):
    n = len(next(iter(columns.values())))
    geoms = [box(LON + i * 0.0003, LAT, LON + i * 0.0003 + 0.0002, LAT + 0.0002)
             for i in range(n)]
    path = tmp_path / "b.gpkg"
    pyogrio.write_dataframe(gpd.GeoDataFrame(columns, geometry=geoms, crs=4326), path)
    return path


def stored(committed, source=SOURCE):
    with committed() as session:
        return {r.source_id: r for r in session.execute(text(
            "select source_id, name, households, floors from building where source = :s"),
            {"s": source})}


BASE = ("--layer", "buildings", "--district", "420111", "--source-name", SOURCE)


def test_osm_with_derived_households_from_the_command_line(gridmap, committed, tmp_path):
    town = OsmFile()
    town.box(0, {"building": "apartments", "building:levels": "6"})
    town.box(1, {"building": "office"})
    path = town.write(tmp_path / "town.osm")
    code, out, err = gridmap("import", str(path), *BASE,
                             "--households", "dwelling_m2=90,net_ratio=0.75,default_floors=6")
    assert (code, err) == (0, ""), err
    assert "2 features, 2 new" in out
    rows = stored(committed)
    households = sorted(r.households for r in rows.values())
    assert households[0] == 0 and households[1] > 0
    assert sorted(r.floors for r in rows.values() if r.floors) == [6]


def test_households_rule_file_and_where(gridmap, committed, tmp_path):
    path = buildings_gpkg(tmp_path, bid=["a", "b", "c"], building=["residential"] * 3,
                          levels=[2.0, 9.0, 12.0])
    rule = tmp_path / "rule.yaml"
    rule.write_text("dwelling_m2: 60\nlevels_field: levels\n", encoding="utf-8")
    code, out, err = gridmap("import", str(path), *BASE, "--field", "source_id=bid",
                             "--households-rule", str(rule), "--households", "net_ratio=0.5",
                             "--where", "levels>=9")
    assert (code, err) == (0, ""), err
    rows = stored(committed)
    assert set(rows) == {"b", "c"} and rows["b"].floors == 9


def test_csv_geometry_columns_from_the_command_line(gridmap, committed, tmp_path):
    path = tmp_path / "b.csv"
    ring = box(LON, LAT, LON + 0.0002, LAT + 0.0002).wkt
    path.write_text(f'bid,shape\nw1,"{ring}"\n', encoding="utf-8")
    code, out, err = gridmap("import", str(path), *BASE, "--field", "source_id=bid",
                             "--wkt-field", "shape", "--crs", "EPSG:4326")
    assert (code, err) == (0, ""), err
    assert set(stored(committed)) == {"w1"}
    points = tmp_path / "p.csv"
    points.write_text("bid,lon,lat\np1,114.3871,30.515\n", encoding="utf-8")
    one_line_error(gridmap("import", str(points), *BASE, "--field", "source_id=bid",
                           "--x-field", "lon", "--y-field", "lat", "--crs", "EPSG:4326"),
                   "is a Point; the buildings layer takes polygons")


@pytest.mark.parametrize("args, fragments", [
    (("--households", "dwelling_m2=0"), ["households.dwelling_m2: got 0", "greater than 0"]),
    (("--households", "dwelling_m2=-90"), ["households.dwelling_m2: got -90"]),
    (("--households", "size"), ["--households 'size'", "KEY=VALUE"]),
    (("--encoding", "klingon"), ["encoding: got 'klingon', expected a text encoding"]),
    (("--where", "1=1; DROP TABLE building"), ["field '1' (named by the filter (where: or --where)) is missing"]),
    (("--where", "hh>=many"), ["--where 'hh>=many': >= compares numbers, got 'many'"]),
    (("--field", "households"), ["--field 'households': expected TARGET=SOURCE"]),
    (("--field", "colour=hh"), ["unknown buildings fields ['colour']"]),
    (("--source-name", "s" * 51), ["has 51 characters; expected at most 50"]),
    (("--field", "name=nm"), ["name is '楼楼楼", "expected at most 200 characters"]),
    (("--field", "households=hh"), ["feature 2 (source_id=b): households is 12.7, expected "
                                    "a whole number"]),
    (("--field", "households=big"), ["households is 3000000000, expected a whole number"]),
])
def test_bad_input_is_one_line_and_exit_2(gridmap, committed, tmp_path, args, fragments):
    path = buildings_gpkg(tmp_path, bid=["a", "b"], hh=[3, 12.7], big=[1, 3_000_000_000],
                          nm=["x", "楼" * 201])
    one_line_error(gridmap("import", str(path), *BASE, "--field", "source_id=bid", *args),
                   *fragments)
    assert stored(committed) == {}


def test_bad_recipe_values_are_one_line_and_exit_2(gridmap, tmp_path):
    recipe = tmp_path / "r.yaml"
    for body, fragment in [
        ("source: null\nlayer: buildings\n", "key source: got None, expected a file path"),
        ("source: b.gpkg\nlayer: buildings\ndistrict: '420111'\nrepair: 'yes'\n",
         "key repair: got 'yes', expected true or false"),
        ("source: b.gpkg\nlayer: buildings\ndistrict: '420111'\nfields: [bid]\n",
         "key fields: got ['bid'], expected a mapping of target field → source column"),
        ("source: b.gpkg\nlayer: buildings\ndistrict: '420111'\nwhere: '1=1; DROP TABLE x'\n",
         "key where: got '1=1; DROP TABLE x', expected a mapping"),
    ]:
        recipe.write_text(body, encoding="utf-8")
        one_line_error(gridmap("import", str(recipe)), fragment)


def test_nan_coordinates_with_repair_are_one_line(gridmap, tmp_path):
    path = tmp_path / "b.csv"
    path.write_text('bid,wkt\na,"POLYGON ((114.3871 30.515, nan 30.515, 114.3873 30.5152, '
                    '114.3871 30.515))"\n', encoding="utf-8")
    one_line_error(gridmap("import", str(path), *BASE, "--field", "source_id=bid",
                           "--wkt-field", "wkt", "--crs", "EPSG:4326", "--repair"),
                   "coordinates that are not finite numbers")


def test_what_the_libraries_warned_about_is_a_note_of_the_import(gridmap, tmp_path):
    """GDAL mended an unclosed ring and dropped that relation: said once, without paths."""
    town = OsmFile()
    town.box(0, {"building": "yes"})
    ring = [(LON + 0.001, LAT), (LON + 0.0012, LAT), (LON + 0.0012, LAT + 0.0002)]
    town.multipolygon([town.way(ring, closed=False)], {"building": "yes"})
    path = town.write(tmp_path / "unclosed.osm")
    code, out, err = gridmap("import", str(path), *BASE)
    assert (code, err) == (0, ""), err
    lines = out.splitlines()
    assert "1 features, 1 new" in lines[0]
    assert [n for n in lines if n.startswith("GDAL: Non closed ring detected")]
    assert ".py" not in out and "Warning" not in out and "configuration option" not in out
