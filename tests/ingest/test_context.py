"""Roads and water: the demo's own OSM data, upserts that write only changes, lines checked,
features outside the district or reusing another district's ids refused."""
from __future__ import annotations

import string

import geopandas as gpd
import pyogrio
import pytest
from hypothesis import given, strategies as st
from shapely.geometry import LineString, Point, Polygon, box
from sqlalchemy import text

from gridmap.errors import ImportFailed
from gridmap.ingest import Recipe, import_recipe, load_recipe
from gridmap.ingest.context import osm_flag
from tests.conftest import REPO
from tests.shifted_district import load_shifted_district

LON, LAT = 114.3871, 30.5150  # inside the demo district


def roads_recipe(path, **kw) -> Recipe:
    kw.setdefault("fields", {"source_id": "rid", "kind": "kind", "name": "name",
                             "bridge": "bridge", "tunnel": "tunnel", "layer": "layer"})
    kw.setdefault("source_name", "test")
    return Recipe(source=path, layer="roads", district="420111", **kw)


def roads_frame(**columns) -> gpd.GeoDataFrame:
    geoms = columns.pop("geometry", [LineString([(LON, LAT), (LON + 0.001, LAT)]),
                                     LineString([(LON, LAT), (LON, LAT - 0.001)])])
    data = {"rid": ["r1", "r2"], "kind": ["residential", "footway"], "name": ["测试路", None],
            "bridge": ["yes", None], "tunnel": [None, "no"], "layer": [1, None]}
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=geoms, crs=4326)


def stored(db, table="road", source="test"):
    return db.execute(text(f"select source_id, kind, name, {'bridge, tunnel, layer,' if table == 'road' else ''}"
                           f" GeometryType(geom) as type from {table} where source = :s "
                           f"order by source_id"), {"s": source}).all()


def test_demo_loads_its_roads_and_its_lake(db):
    roads = db.execute(text("select count(*), count(*) filter (where bridge), "
                            "count(*) filter (where tunnel), count(distinct kind) from road "
                            "where district_code = '420111'")).one()
    assert roads[0] == 210 and roads[1] > 0 and roads[2] > 0 and roads[3] > 5
    names = db.execute(text("select name from road where name is not null")).scalars().all()
    assert "民族大道" in names and "珞喻路" in names
    lake = db.execute(text("select name, kind, GeometryType(geom), "
                           "round(ST_Area(geom::geography)) from water")).one()
    assert lake[0] == "叠翠湖" and lake[2] == "MULTIPOLYGON" and 4000 < lake[3] < 4700  # m², geodesic


def test_roads_upsert_writes_only_changes(db, tmp_path):
    path = tmp_path / "roads.gpkg"
    pyogrio.write_dataframe(roads_frame(), path)
    first = import_recipe(db, roads_recipe(path))
    assert (first.inserted, first.updated) == (2, 0)
    assert stored(db) == [("r1", "residential", "测试路", True, False, 1, "MULTILINESTRING"),
                          ("r2", "footway", None, False, False, 0, "MULTILINESTRING")]
    again = import_recipe(db, roads_recipe(path))
    assert (again.inserted, again.updated) == (0, 0)
    pyogrio.write_dataframe(roads_frame(name=["测试路", "新路"]), path)
    renamed = import_recipe(db, roads_recipe(path))
    assert (renamed.inserted, renamed.updated) == (0, 1)
    pyogrio.write_dataframe(roads_frame().iloc[:1], path)
    partial = import_recipe(db, roads_recipe(path))
    assert "1 road feature(s) of test in district 420111 are not in this file; kept" \
        in partial.summary()
    assert len(stored(db)) == 2  # an import never deletes


@pytest.mark.parametrize("geometry, needle", [
    ([box(LON, LAT, LON + 0.001, LAT + 0.001)] * 2, "is a Polygon; the roads layer takes lines"),
    ([LineString([(LON, LAT), (LON, LAT)])] * 2, "line(s) without length"),
])
def test_roads_must_be_lines_with_length(db, tmp_path, geometry, needle):
    path = tmp_path / "bad.gpkg"
    pyogrio.write_dataframe(roads_frame(geometry=geometry), path)
    with pytest.raises(ImportFailed, match=needle.replace("(", r"\(").replace(")", r"\)")):
        import_recipe(db, roads_recipe(path))
    assert stored(db) == []


def test_road_layer_must_be_a_level(db, tmp_path):
    path = tmp_path / "roads.gpkg"
    pyogrio.write_dataframe(roads_frame(layer=["1", "high"]), path)
    with pytest.raises(ImportFailed, match=r"feature 2 \(source_id=r2\): layer 'high' is not "
                                           r"a level"):
        import_recipe(db, roads_recipe(path))


def test_roads_need_a_district():
    with pytest.raises(ImportFailed, match="a roads import needs the district code"):
        Recipe(source=REPO / "x.gpkg", layer="roads", fields={"source_id": "id"})


def test_roads_outside_the_district_are_refused(db, tmp_path):
    path = tmp_path / "far.gpkg"
    far = [LineString([(LON + 1, LAT), (LON + 1.001, LAT)]),
           LineString([(LON, LAT), (LON, LAT - 0.001)])]
    pyogrio.write_dataframe(roads_frame(geometry=far), path)
    with pytest.raises(ImportFailed, match=r"1 of 2 features lie outside district 420111; "
                                           r"first feature 1 \(source_id=r1\) at 115\.38"):
        import_recipe(db, roads_recipe(path))
    assert stored(db) == []


def test_water_takes_areas_and_lines_not_points(db, tmp_path):
    lake = Polygon([(LON, LAT), (LON + 0.001, LAT), (LON + 0.001, LAT - 0.001), (LON, LAT)])
    river = LineString([(LON, LAT - 0.0005), (LON + 0.002, LAT - 0.0006)])
    frame = gpd.GeoDataFrame({"wid": ["w1", "w2"], "kind": ["lake", "river"],
                              "name": ["测试湖", "测试河"]}, geometry=[lake, river], crs=4326)
    path = tmp_path / "water.gpkg"
    pyogrio.write_dataframe(frame, path)
    recipe = Recipe(source=path, layer="water", district="420111", source_name="test",
                    fields={"source_id": "wid", "kind": "kind", "name": "name"})
    assert import_recipe(db, recipe).inserted == 2
    assert [(r.source_id, r.type) for r in stored(db, "water")] == [
        ("w1", "MULTIPOLYGON"), ("w2", "MULTILINESTRING")]
    label = frame.assign(wid=["w1", "w3"]).set_geometry([lake, Point(LON, LAT)], crs=4326)
    pyogrio.write_dataframe(label, path)
    with pytest.raises(ImportFailed, match=r"feature 2 \(wid=w3\) is a Point; the water "
                                           r"layer takes areas or lines"):
        import_recipe(db, recipe)


def test_demo_water_recipe_keeps_only_the_lake():
    from gridmap.ingest.prepare import prepare

    frame, attrs, _ = prepare(load_recipe(REPO / "import" / "demo_water.yaml"))
    assert list(attrs["name"]) == ["叠翠湖"]  # not its label point, not its outline line


def test_ids_of_another_district_are_refused(db, tmp_path):
    load_shifted_district(db, tmp_path)
    assert db.execute(text("select count(*) from road where district_code = '320508'")
                      ).scalar() == 210
    path = tmp_path / "reuse.gpkg"
    frame = pyogrio.read_dataframe(tmp_path / "roads.gpkg").iloc[:1]
    frame = frame.set_geometry(frame.translate(-6.2, -0.8), crs=frame.crs)
    pyogrio.write_dataframe(frame, path)
    recipe = roads_recipe(path, source_name="test-shifted",
                          fields={"source_id": "id", "kind": "kind_detail"})
    with pytest.raises(ImportFailed, match="reuse ids of district 320508"):
        import_recipe(db, recipe)


@given(st.sampled_from(["yes", "1", "viaduct", "building_passage", "TRUE", " Yes ", "-1"]))
def test_osm_flag_true_values(value):
    assert osm_flag(value) is True


@given(st.sampled_from([None, "", "no", "NO", "false", "0", "0.0", " no ", "nan", float("nan"),
                        0, 0.0, -0.0, False]))
def test_osm_flag_false_values(value):
    assert osm_flag(value) is False


@given(st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False)))
def test_osm_flag_reads_numbers_and_their_text_alike(number):
    assert osm_flag(number) == osm_flag(str(number)) == (number != 0)


@given(st.text(alphabet=string.ascii_letters + string.digits + " ._-", max_size=12))
def test_osm_flag_ignores_case_and_surrounding_space(word):
    assert osm_flag(word) == osm_flag(f"  {word.upper()}\t")
