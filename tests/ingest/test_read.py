"""Reading sources: encodings (only real problems, only suggestions that work), layer choice,
library warnings, row filters."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from gridmap.errors import ImportFailed
from gridmap.ingest import Recipe
from gridmap.ingest.prepare import prepare
from gridmap.ingest.read import read_source
from gridmap.ingest.rowfilter import apply_filter, combine, parse_condition
from tests.ingest.osmxml import LAT, LON, OsmFile

NAMES = ["教工宿舍6栋", "光谷广场", "华美达大酒店"]


def frame(**columns) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    geoms = [box(LON + i * 0.0003, LAT, LON + i * 0.0003 + 0.0002, LAT + 0.0002)
             for i in range(n)]
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=4326)


def recipe(path, **kw) -> Recipe:
    kw.setdefault("fields", {"source_id": "bid", "name": "name"})
    return Recipe(source=path, layer="buildings", district="420111", source_name="test", **kw)


def gbk_shapefile(tmp_path, cpg: str | None, **extra):
    path = tmp_path / "gbk.shp"
    pyogrio.write_dataframe(frame(bid=["a", "b", "c"], name=NAMES, **extra), path,
                            encoding="GBK")
    if cpg is None:
        (tmp_path / "gbk.cpg").unlink()
    else:
        (tmp_path / "gbk.cpg").write_text(cpg)
    return path


# --- encodings -------------------------------------------------------------------------

def test_accented_latin_in_a_utf8_geopackage_is_not_a_false_alarm(tmp_path):
    """The issue's case: name:es with accents, in a format that is UTF-8 by specification."""
    path = tmp_path / "b.gpkg"
    spanish = ["Torre de Collserola á", "Plaça de Sánchez", "Informação"]
    pyogrio.write_dataframe(frame(bid=["a", "b", "c"], name=NAMES, **{"name:es": spanish}),
                            path)
    assert read_source(recipe(path))["name"].tolist() == NAMES
    mapped = read_source(recipe(path, fields={"source_id": "bid", "name": "name:es"}))
    assert mapped["name:es"].tolist() == spanish


def test_latin1_shapefile_without_cpg_is_taken_as_latin1(tmp_path):
    path = tmp_path / "latin.shp"
    spanish = ["Plaça de Sánchez", "Informação", "Müller Straße"]
    pyogrio.write_dataframe(frame(bid=["a", "b", "c"], name=spanish), path,
                            encoding="ISO-8859-1")
    (tmp_path / "latin.cpg").unlink()
    assert read_source(recipe(path))["name"].tolist() == spanish


def test_python_spellings_of_an_encoding_reach_gdal_in_a_form_it_knows(tmp_path):
    """GDAL ignores a Shapefile encoding it does not know, such as Python's "latin-1"."""
    path = tmp_path / "latin.shp"
    spanish = ["Plaça de Sánchez", "Informação", "Müller Straße"]
    pyogrio.write_dataframe(frame(bid=["a", "b", "c"], name=spanish), path,
                            encoding="ISO-8859-1")
    (tmp_path / "latin.cpg").write_text("UTF-8")  # a wrong .cpg, overridden by the recipe
    for spelling in ("latin-1", "latin1", "ISO-8859-1", "l1"):
        assert read_source(recipe(path, encoding=spelling))["name"].tolist() == spanish


def test_gbk_read_as_latin1_is_found_in_used_columns_only(tmp_path):
    path = gbk_shapefile(tmp_path, None)
    with pytest.raises(ImportFailed, match=r"field 'name' of feature 1 .* GBK text read as "
                                           r"Latin-1 .*reads cleanly as gbk: .*encoding: gbk"):
        read_source(recipe(path))
    # the same file imported without its Chinese column raises nothing
    assert len(read_source(recipe(path, fields={"source_id": "bid"}))) == 3
    assert read_source(recipe(path, encoding="gbk"))["name"].tolist() == NAMES


def test_wrong_cpg_names_the_field_and_the_suggestion_works(tmp_path):
    path = gbk_shapefile(tmp_path, "UTF-8")
    with pytest.raises(ImportFailed) as error:
        read_source(recipe(path))
    message = str(error.value)
    assert "field 'name' of feature 1" in message and "encoding: gbk" in message
    assert read_source(recipe(path, encoding="gbk"))["name"].tolist() == NAMES


@pytest.mark.parametrize("cpg", ["GBK", "936", "CP936", "ANSI 936"])
def test_cpg_spellings_are_read_as_gdal_reads_them(tmp_path, cpg):
    assert read_source(recipe(gbk_shapefile(tmp_path, cpg)))["name"].tolist() == NAMES


def test_bytes_that_are_not_text_in_the_cpg_encoding_are_refused_every_time(tmp_path):
    """GDAL drops such bytes silently and warns once per process; every import must refuse."""
    path = tmp_path / "bad.shp"
    pyogrio.write_dataframe(frame(bid=["a", "b"], name=["ok", "\xff\xfe abc"]), path,
                            encoding="ISO-8859-1")
    (tmp_path / "bad.cpg").write_text("GBK")
    for _ in range(2):
        with pytest.raises(ImportFailed, match=r"bad.shp: field 'name' of feature 2 "
                                               r"\(b'\\xff\\xfe abc'\) text does not decode "
                                               r"as gbk .*does not read cleanly as utf-8 or "
                                               r"gbk either"):
            read_source(recipe(path))


def test_bad_bytes_in_an_unused_column_do_not_matter(tmp_path):
    path = gbk_shapefile(tmp_path, "UTF-8", note=["x", "y", "z"])
    assert read_source(recipe(path, fields={"source_id": "bid"}))["bid"].tolist() == \
        ["a", "b", "c"]


def test_encoding_for_a_utf8_geopackage_is_refused_not_looped(tmp_path):
    path = tmp_path / "b.gpkg"
    pyogrio.write_dataframe(frame(bid=["a", "b", "c"], name=NAMES), path)
    with pytest.raises(ImportFailed, match=r"GeoPackage file, whose text is UTF-8 by "
                                           r"specification, and it reads cleanly as UTF-8; "
                                           r".*remove the encoding"):
        read_source(recipe(path, encoding="gbk"))
    assert read_source(recipe(path, encoding="utf-8"))["name"].tolist() == NAMES


def test_geopackage_holding_gbk_bytes_gets_a_suggestion_that_works(tmp_path):
    """A GeoPackage written by a tool that broke the specification (GBK bytes)."""
    path = tmp_path / "b.gpkg"
    pyogrio.write_dataframe(frame(bid=["a", "b", "c"], name=["x", "y", "z"]), path,
                            layer="b")
    with sqlite3.connect(path) as con:
        for trigger, in con.execute("select name from sqlite_master where type = 'trigger'"):
            con.execute(f'drop trigger "{trigger}"')
        con.execute("update b set name = cast(? as text) where bid = 'b'",
                    (NAMES[1].encode("gbk"),))
    with pytest.raises(ImportFailed, match=r"field 'name' of feature 2 \(b'\\xb9\\xe2.*\) text "
                                           r"does not decode as UTF-8, which the GeoPackage "
                                           r"specification requires; it reads cleanly as gbk"):
        read_source(recipe(path))
    assert read_source(recipe(path, encoding="gbk"))["name"].tolist() == ["x", NAMES[1], "z"]


def test_csv_in_gbk_gets_a_suggestion_that_works(tmp_path):
    path = tmp_path / "b.csv"
    f = frame(bid=["a", "b", "c"], name=NAMES)
    f.assign(wkt=f.geometry.to_wkt()).drop(columns="geometry").to_csv(path, index=False,
                                                                      encoding="gbk")
    base = dict(wkt_field="wkt", crs="EPSG:4326")
    with pytest.raises(ImportFailed, match="does not decode as utf-8.*reads cleanly as gbk"):
        read_source(recipe(path, **base))
    assert read_source(recipe(path, encoding="gbk", **base))["name"].tolist() == NAMES


# --- layers and warnings ----------------------------------------------------------------

def test_a_file_with_several_layers_asks_which(tmp_path):
    path = tmp_path / "two.gpkg"
    pyogrio.write_dataframe(frame(bid=["a"], name=["x"]), path, layer="buildings")
    pyogrio.write_dataframe(frame(bid=["p"], name=["y"]), path, layer="points")
    with pytest.raises(ImportFailed, match=r"^import rejected: two.gpkg holds 2 layers "
                                           r"\(buildings, points\); say which with "
                                           r"--source-layer"):
        read_source(recipe(path))
    assert read_source(recipe(path, source_layer="points"))["bid"].tolist() == ["p"]
    with pytest.raises(ImportFailed, match=r"two.gpkg has no layer 'roads'; its layers are "
                                           r"buildings, points$"):
        read_source(recipe(path, source_layer="roads"))


def unclosed_relation_file(tmp_path):
    town = OsmFile()
    town.box(0, {"building": "yes"})
    ring = [(LON + 0.001, LAT), (LON + 0.0012, LAT), (LON + 0.0012, LAT + 0.0002)]
    town.multipolygon([town.way(ring, closed=False)], {"building": "yes"})
    return town.write(tmp_path / "unclosed.osm")


def test_library_warnings_become_notes_without_paths(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        features, _, _ = prepare(recipe(unclosed_relation_file(tmp_path), fields={}))
    assert caught == []
    assert any(n.startswith("GDAL: Non closed ring detected") for n in features.attrs["notes"])
    assert not any(".py" in n or "site-packages" in n for n in features.attrs["notes"])


def test_cli_prints_no_library_warning(tmp_path, database_url):
    path = tmp_path / "two.gpkg"
    pyogrio.write_dataframe(frame(bid=["a"], name=["x"]), path, layer="buildings")
    pyogrio.write_dataframe(frame(bid=["p"], name=["y"]), path, layer="points")
    result = subprocess.run([sys.executable, "-m", "gridmap.cli",
                             "--database-url", database_url, "import", str(path), "--layer",
                             "buildings", "--district", "420111"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Warning" not in result.stderr
    assert "holds 2 layers (buildings, points)" in result.stderr


# --- row filters -------------------------------------------------------------------------

def test_filter_selects_rows_without_sql(tmp_path):
    path = tmp_path / "b.gpkg"
    pyogrio.write_dataframe(frame(bid=["a", "b", "c", "d"], name=["x"] * 4,
                                  kind=["residential", "apartments", "office", None],
                                  levels=[2.0, 7.0, 9.0, None]), path)
    picked = read_source(recipe(path, where={"kind": ["residential", "apartments"],
                                             "levels": {">=": 3}}))
    assert picked["bid"].tolist() == ["b"]
    assert read_source(recipe(path, where={"kind": None}))["bid"].tolist() == ["d"]
    assert read_source(recipe(path, where={"kind": {"!=": "office"}}))["bid"].tolist() == \
        ["a", "b", "d"]
    with pytest.raises(ImportFailed, match=r"key where: got '1=1; DROP TABLE buildings', "
                                           r"expected a mapping of column → condition"):
        recipe(path, where="1=1; DROP TABLE buildings")
    with pytest.raises(ImportFailed, match=r"field 'storeys' \(named by the filter \(where: or "
                                           r"--where\)\) is "
                                           r"missing; the source has bid, name, kind, levels"):
        read_source(recipe(path, where={"storeys": {">": 1}}))
    with pytest.raises(ImportFailed, match="no feature meets the filter"):
        read_source(recipe(path, where={"kind": "school"}))


@pytest.mark.parametrize("option, condition", [
    ("building=residential", ("building", {"=": "residential"})),
    ("building=residential,apartments", ("building", {"in": ["residential", "apartments"]})),
    ("kind!=building_part", ("kind", {"!=": "building_part"})),
    ("building:levels>=2", ("building:levels", {">=": 2})),
    ("height<2.5", ("height", {"<": 2.5})),
    ("name=", ("name", {"=": None})),
    ("name!=", ("name", {"!=": None})),
])
def test_cli_conditions(option, condition):
    assert parse_condition(option) == condition


@pytest.mark.parametrize("option", ["1=1; DROP TABLE building", "levels>=two", "justtext"])
def test_cli_conditions_never_reach_gdal(option, tmp_path):
    path = tmp_path / "b.gpkg"
    pyogrio.write_dataframe(frame(bid=["a"], name=["x"]), path)
    with pytest.raises(ImportFailed):
        read_source(recipe(path, where=combine([parse_condition(option)])))


CELLS = st.one_of(st.none(), st.sampled_from(["a", "b", "2", "10", "x y"]),
                  st.integers(-3, 12).map(float))
CONDITION_VALUES = st.one_of(st.none(), st.sampled_from(["a", "b", "2", "10"]),
                             st.integers(-3, 12))
CONDITIONS = st.one_of(
    st.tuples(st.sampled_from(["=", "!="]), CONDITION_VALUES),
    st.tuples(st.sampled_from(["<", "<=", ">", ">="]), st.integers(-3, 12)),
    st.tuples(st.sampled_from(["in", "not in"]),
              st.lists(st.sampled_from(["a", "b", "2"]), min_size=1, max_size=3)))


def _oracle(cell, op, value) -> bool:
    """The documented semantics, one cell at a time."""
    missing = cell is None or (isinstance(cell, float) and np.isnan(cell))
    as_text = None if missing else (str(int(cell)) if isinstance(cell, float) else cell)
    try:
        number = float(cell) if not missing else None
    except ValueError:
        number = None
    if op in ("<", "<=", ">", ">="):
        return number is not None and {"<": number < value, "<=": number <= value,
                                       ">": number > value, ">=": number >= value}[op]
    values = value if op in ("in", "not in") else [value]
    hit = False
    for v in values:
        if v is None:
            hit |= missing
        elif isinstance(v, int):
            hit |= number is not None and number == v
        else:
            hit |= as_text == v
    return not hit if op in ("!=", "not in") else hit


@given(st.lists(CELLS, min_size=1, max_size=8), CONDITIONS)
@settings(max_examples=200)
def test_filter_agrees_with_a_cell_by_cell_oracle(cells, condition):
    op, value = condition
    data = pd.DataFrame({"c": pd.Series(cells, dtype=object), "i": range(len(cells))})
    kept = apply_filter(data, {"c": {op: value}}, "test")["i"].tolist()
    assert kept == [i for i, cell in enumerate(cells) if _oracle(cell, op, value)]


def test_filter_on_geometry_type_keeps_areas_of_a_mixed_layer():
    """A vector-tile water layer holds a lake as area, label point and outline: the filter key
    geometry_type keeps the area without any SQL."""
    import geopandas as gpd
    from shapely.geometry import LineString, Point, box

    from gridmap.ingest.rowfilter import apply_filter

    frame = gpd.GeoDataFrame({"id": [1, 1, 1], "boundary": [None, None, 1.0]},
                             geometry=[box(0, 0, 1, 1), Point(0.5, 0.5),
                                       LineString([(0, 0), (1, 0)])])
    kept = apply_filter(frame, {"boundary": None,
                                "geometry_type": ["Polygon", "MultiPolygon"]}, "water")
    assert list(kept.geom_type) == ["Polygon"]


def test_one_layer_formats_are_parsed_without_listing_layers(tmp_path, monkeypatch):
    """A GeoJSON holds one layer: listing them would parse the whole file once more."""
    path = tmp_path / "one.geojson"
    frame(bid=[1, 2], name=NAMES[:2]).to_file(path, driver="GeoJSON")

    def listed(*args, **kwargs):
        raise AssertionError("list_layers called for a one-layer format")

    monkeypatch.setattr(pyogrio, "list_layers", listed)
    assert read_source(recipe(path))["name"].tolist() == NAMES[:2]
