"""Imports: good files of every format, GBK Shapefiles, invalid polygons, wrong CRS, bad fields.
Each rejected import leaves the database as it was."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from shapely.geometry import box
from sqlalchemy import text

from gridmap.errors import ImportFailed
from gridmap.ingest import Recipe, import_recipe, load_recipe
from gridmap.ingest.read import read_source
from tests.conftest import REPO, TEST_DATA

LON, LAT = 114.3871, 30.5150  # inside the demo district, on ground with no building


def buildings_frame(n=3, crs=4326):
    geoms = [box(LON + i * 0.0003, LAT, LON + i * 0.0003 + 0.0002, LAT + 0.0002)
             for i in range(n)]
    names = ["教工宿舍6栋", "光谷广场", "华美达大酒店", "学生公寓"][:n] + ["楼"] * max(0, n - 4)
    return gpd.GeoDataFrame({"bid": [f"t{i}" for i in range(n)], "name": names,
                             "hh": [10 * (i + 1) for i in range(n)]},
                            geometry=geoms, crs=crs)


def recipe(path: Path, **kw) -> Recipe:
    kw.setdefault("fields", {"source_id": "bid", "name": "name", "households": "hh"})
    return Recipe(source=path, layer="buildings", district="420111", source_name="test", **kw)


def count(db, source="test"):
    return db.execute(text("select count(*) from building where source = :s"),
                      {"s": source}).scalar()


def test_geopackage_import_assigns_and_totals(db, tmp_path):
    path = tmp_path / "b.gpkg"
    pyogrio.write_dataframe(buildings_frame(), path)
    report = import_recipe(db, recipe(path))
    assert (report.inserted, report.updated) == (3, 0)
    rows = db.execute(text("select name, households, grid_id from building where source = 'test'"
                           " order by source_id")).all()
    assert [r.name for r in rows] == ["教工宿舍6栋", "光谷广场", "华美达大酒店"]
    assert all(r.grid_id is not None for r in rows)
    mismatched = db.execute(text("""select count(*) from grid g where g.households <>
        (select coalesce(sum(b.households), 0) from building b where b.grid_id = g.id)""")
                            ).scalar()
    assert mismatched == 0
    again = import_recipe(db, recipe(path))
    assert (again.inserted, again.updated, again.assignment["changed"]) == (0, 0, 0)


@pytest.mark.parametrize("suffix", [".geojson", ".shp"])
def test_geojson_and_shapefile(db, tmp_path, suffix):
    path = tmp_path / f"b{suffix}"
    pyogrio.write_dataframe(buildings_frame(), path)
    assert import_recipe(db, recipe(path)).inserted == 3
    assert count(db) == 3


def test_gbk_shapefile_with_cpg(db, tmp_path):
    path = tmp_path / "gbk.shp"
    pyogrio.write_dataframe(buildings_frame(), path, encoding="GBK")
    assert (tmp_path / "gbk.cpg").read_text().strip().upper() == "GBK"
    import_recipe(db, recipe(path))
    names = db.execute(text("select name from building where source = 'test' order by name")
                       ).scalars().all()
    assert sorted(names) == sorted(["教工宿舍6栋", "光谷广场", "华美达大酒店"])


def test_gbk_shapefile_without_cpg_is_rejected_then_imported_with_encoding(db, tmp_path):
    path = tmp_path / "gbk.shp"
    pyogrio.write_dataframe(buildings_frame(), path, encoding="GBK")
    (tmp_path / "gbk.cpg").unlink()
    with pytest.raises(ImportFailed, match="GBK text read as Latin-1.*encoding: gbk"):
        import_recipe(db, recipe(path))
    assert count(db) == 0
    import_recipe(db, recipe(path, encoding="gbk"))
    assert "光谷广场" in db.execute(text("select name from building where source = 'test'")
                                  ).scalars().all()


def test_wrong_encoding_declared_is_rejected(db, tmp_path):
    path = tmp_path / "gbk.shp"
    pyogrio.write_dataframe(buildings_frame(), path, encoding="GBK")
    (tmp_path / "gbk.cpg").write_text("UTF-8")
    with pytest.raises(ImportFailed, match="does not decode as .*encoding: gbk"):
        import_recipe(db, recipe(path))
    assert count(db) == 0


def test_csv_with_wkt_and_with_lon_lat(db, tmp_path):
    frame = buildings_frame()
    wkt = tmp_path / "b.csv"
    frame.assign(wkt=frame.geometry.to_wkt()).drop(columns="geometry").to_csv(wkt, index=False)
    assert import_recipe(db, recipe(wkt, wkt_field="wkt", crs="EPSG:4326")).inserted == 3
    points = tmp_path / "p.csv"
    points.write_text("bid,lon,lat\np1,114.395,30.508\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="is a Point; the buildings layer takes polygons"):
        import_recipe(db, recipe(points, x_field="lon", y_field="lat", crs="EPSG:4326",
                                 fields={"source_id": "bid"}))


def test_missing_crs_is_rejected(db, tmp_path):
    frame = buildings_frame()
    path = tmp_path / "b.csv"
    frame.assign(wkt=frame.geometry.to_wkt()).drop(columns="geometry").to_csv(path, index=False)
    with pytest.raises(ImportFailed, match="has no CRS"):
        import_recipe(db, recipe(path, wkt_field="wkt"))
    assert count(db) == 0


def test_wrong_crs_is_rejected(db, tmp_path):
    # Web Mercator metres labelled as WGS 84 degrees.
    frame = buildings_frame().to_crs(3857).set_crs(4326, allow_override=True)
    path = tmp_path / "wrong.gpkg"
    pyogrio.write_dataframe(frame, path)
    with pytest.raises(ImportFailed, match="not degrees.*the declared CRS is wrong"):
        import_recipe(db, recipe(path))
    assert count(db) == 0


def test_crs_disagreeing_with_recipe_is_rejected(db, tmp_path):
    path = tmp_path / "b.gpkg"
    pyogrio.write_dataframe(buildings_frame(), path)
    with pytest.raises(ImportFailed, match="declares EPSG:4326 but the recipe says"):
        import_recipe(db, recipe(path, crs="EPSG:3857"))


def test_reprojected_source_lands_in_cgcs2000(db, tmp_path):
    path = tmp_path / "gk.gpkg"
    pyogrio.write_dataframe(buildings_frame().to_crs(4547), path)
    import_recipe(db, recipe(path))
    x, y = db.execute(text("select ST_X(ST_Centroid(footprint)), ST_Y(ST_Centroid(footprint)) "
                           "from building where source = 'test' and source_id = 't0'")).one()
    assert abs(x - (LON + 0.0001)) < 1e-6 and abs(y - (LAT + 0.0001)) < 1e-6


def test_missing_field_names_what_exists(db, tmp_path):
    path = tmp_path / "b.gpkg"
    pyogrio.write_dataframe(buildings_frame(), path)
    with pytest.raises(ImportFailed, match="field 'storeys'.*missing; the source has bid"):
        import_recipe(db, recipe(path, fields={"source_id": "bid", "floors": "storeys"}))


def test_duplicate_ids_rejected(db, tmp_path):
    frame = buildings_frame()
    frame["bid"] = "same"
    path = tmp_path / "b.gpkg"
    pyogrio.write_dataframe(frame, path)
    with pytest.raises(ImportFailed, match="source_id 'same' appears more than once"):
        import_recipe(db, recipe(path))


def one_feature_file(tmp_path, geometry, **attrs) -> Path:
    """A GeoPackage (EPSG:4490) with one feature: ``geometry`` (shapely or WKT) and attrs."""
    if isinstance(geometry, str):
        geometry = shapely.from_wkt(geometry)
    path = tmp_path / "one.gpkg"
    pyogrio.write_dataframe(gpd.GeoDataFrame({k: [v] for k, v in attrs.items()},
                                             geometry=[geometry], crs=4490), path)
    return path


def self_intersecting_frame():
    frame = buildings_frame()
    x = LON + 0.0003  # where building t1 stands, so only t1 is replaced
    bowtie = shapely.Polygon([(x, LAT), (x + 0.0002, LAT + 0.0002), (x + 0.0002, LAT),
                              (x, LAT + 0.0002)])
    frame.loc[1, "geometry"] = bowtie
    return frame


def test_invalid_polygon_rejected_without_repair_and_nothing_written(db, tmp_path):
    path = tmp_path / "bad.gpkg"
    pyogrio.write_dataframe(self_intersecting_frame(), path)
    with pytest.raises(ImportFailed, match=r"1 invalid polygon\(s\), first feature 2 "
                                           r"\(bid=t1\): Self-intersection"):
        import_recipe(db, recipe(path))
    assert count(db) == 0


def test_invalid_polygon_repaired_when_allowed(db, tmp_path):
    path = tmp_path / "bad.gpkg"
    pyogrio.write_dataframe(self_intersecting_frame(), path)
    report = import_recipe(db, recipe(path, repair=True))
    assert (report.inserted, report.repaired) == (3, 1)
    assert db.execute(text("select bool_and(ST_IsValid(footprint)) from building "
                           "where source = 'test'")).scalar()


def test_real_invalid_polygons_of_kotka(db):
    """Kotka's 23 invalid OSM polygons: rejected as a whole without repair; and since Kotka is
    in Finland, even repaired they cannot be CGCS2000 coordinates of a Chinese district."""
    source = TEST_DATA / "kotka" / "kotka_buildings_subset.gpkg"
    base = dict(source_layer="buildings", fields={"source_id": "id"})
    with pytest.raises(ImportFailed, match="outside China"):
        import_recipe(db, recipe(source, **base, repair=True))
    frame = read_source(recipe(source, **base))
    assert (~frame.is_valid).sum() == 23
    assert count(db, "test") == 0


def test_osm_pbf_is_read_as_multipolygons(tmp_path):
    source = TEST_DATA / "kotka" / "kotka_karhula_test.osm.pbf"
    frame = read_source(recipe(source, fields={"source_id": "osm_way_id"}))
    assert len(frame) == 2219  # the areas with a building tag
    assert set(frame.geom_type.dropna()) <= {"MultiPolygon", "Polygon"}
    assert frame.geometry.isna().sum() == 4  # OSM ways with broken rings


def test_osm_pbf_with_broken_rings_is_rejected_naming_the_feature(db):
    source = TEST_DATA / "kotka" / "kotka_karhula_test.osm.pbf"
    with pytest.raises(ImportFailed, match=r"4 feature\(s\) without a readable geometry, "
                                           r"first feature \d+ \(osm_id="):
        import_recipe(db, recipe(source, repair=True, fields={"source_id": "osm_id"}))
    assert count(db) == 0


def test_failed_import_keeps_committed_data(committed, tmp_path):
    """All or nothing through the real commit path: a bad file after a good one."""
    good = tmp_path / "good.gpkg"
    pyogrio.write_dataframe(buildings_frame(), good)
    bad = tmp_path / "bad.gpkg"
    pyogrio.write_dataframe(self_intersecting_frame().assign(bid=["t0", "t1", "t9"],
                                                             hh=[99, 99, 99]), bad)
    try:
        with committed() as session:
            import_recipe(session, recipe(good))
        with pytest.raises(ImportFailed):
            with committed() as session:
                import_recipe(session, recipe(bad))
        with committed() as session:
            rows = session.execute(text("select source_id, households from building "
                                        "where source = 'test' order by source_id")).all()
        assert [tuple(r) for r in rows] == [("t0", 10), ("t1", 20), ("t2", 30)]
    finally:
        with committed() as session:
            session.execute(text("delete from building where source = 'test'"))
            from gridmap.grid.assign import refresh_grid_totals
            refresh_grid_totals(session)


def test_recipes_in_import_folder_load():
    for path in (REPO / "import").glob("*.yaml"):  # facility recipes: tests/facilities
        if path.name.startswith("facilities_"):
            continue
        r = load_recipe(path)
        assert r.layer in ("buildings", "districts", "streets", "communities", "roads", "water")


def test_recipe_with_unknown_key(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("source: x.gpkg\nlayer: buildings\ndistrict: '420111'\ncolour: red\n")
    with pytest.raises(ImportFailed, match=r"unknown keys \['colour'\]"):
        load_recipe(path)


def test_grid_import_refuses_retired_code(db, tmp_path):
    """A grid redrawn by an import retires its code; a later file using that code is refused."""
    geom = db.execute(text("select ST_AsText(ST_Buffer(geom, -0.00002)) from grid "
                           "where code = '420111002023001'")).scalar()
    path = one_feature_file(tmp_path, geom, code="420111002023001", kind="residential")
    grids = Recipe(source=path, layer="grids", fields={"code": "code", "kind": "kind"})
    import_recipe(db, grids)
    assert db.execute(text("select status from code_registry where code = '420111002023001'")
                      ).scalar() == "retired"
    with pytest.raises(ImportFailed, match="code 420111002023001 was retired"):
        import_recipe(db, grids)


@pytest.mark.parametrize("layer, code, message", [
    ("communities", "420111002650", "community code '650'"),
    ("communities", "420111009001", "street 420111009 is not loaded"),
    ("streets", "42011100", "street code '42011100': expected 9 digits"),
    ("streets", "420111600", "street code '600'"),
])
def test_hierarchy_import_checks_codes_and_parents(db, tmp_path, layer, code, message):
    path = one_feature_file(tmp_path, box(LON, LAT, LON + 0.001, LAT + 0.001), code=code,
                            name="测试")
    with pytest.raises(ImportFailed, match=f"feature 1 \\(code {code}\\): .*{message}"):
        import_recipe(db, Recipe(source=path, layer=layer,
                                 fields={"code": "code", "name": "name"}))


def test_hierarchy_import_updates_names(db, tmp_path):
    geom = db.execute(text("select ST_AsText(geom) from community where code = '420111002023'")
                      ).scalar()
    path = one_feature_file(tmp_path, geom, code="420111002023", name="新名字社区")
    report = import_recipe(db, Recipe(source=path, layer="communities",
                                      fields={"code": "code", "name": "name"}))
    assert (report.inserted, report.updated) == (0, 1)
    assert db.execute(text("select name from community where code = '420111002023'")
                      ).scalar() == "新名字社区"


def test_community_outside_its_street_is_rejected(db, tmp_path):
    geom = db.execute(text("select ST_AsText(ST_Translate(geom, 0.01, 0)) from community "
                           "where code = '420111002023'")).scalar()
    path = one_feature_file(tmp_path, geom, code="420111002023", name="鲁磨路社区")
    before = db.execute(text("select ST_AsText(geom) from community "
                             "where code = '420111002023'")).scalar()
    with pytest.raises(ImportFailed, match=r"^import rejected: one.gpkg feature 1 \(code "
                                           r"420111002023\): community 420111002023 extends "
                                           r"\d+\.\d m² outside its parent 420111002"):
        import_recipe(db, Recipe(source=path, layer="communities",
                                 fields={"code": "code", "name": "name"}))
    assert db.execute(text("select ST_AsText(geom) from community "
                           "where code = '420111002023'")).scalar() == before
