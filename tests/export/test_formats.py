"""What each format promises beyond the round trip: RFC 7946 GeoJSON, the Shapefile's field
mapping, scope, atomic writes, the package's tables."""
from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
import shapely
from hypothesis import given, strategies as st
from sqlalchemy import text

from gridmap.auth.scope import Scope
from gridmap.errors import Conflict, Forbidden
from gridmap.export import Selection, export_layer, parse_export_crs, stream_batches
from gridmap.export.package import taxonomy_tables
from gridmap.export.tabular import _renamed, shapefile_field_names
from gridmap.export.writers import Layer, write_layer
from tests.export.conftest import ADMIN


def test_geojson_is_rfc7946_and_another_crs_is_marked(db, layers, tmp_path):
    source = layers["grids"].export_source(ADMIN, Selection())
    plain = tmp_path / "a.geojson"
    export_layer(db, source, plain, format="geojson")
    data = json.loads(plain.read_text(encoding="utf-8"))
    assert "crs" not in data
    for feature in data["features"]:
        for polygon in shapely.get_parts(shapely.from_geojson(json.dumps(feature["geometry"]))):
            assert polygon.exterior.is_ccw
            assert all(not ring.is_ccw for ring in polygon.interiors)
    marked = tmp_path / "b.geojson"
    export_layer(db, source, marked, format="geojson", crs="EPSG:4490")
    assert "4490" in json.loads(marked.read_text(encoding="utf-8"))["crs"]["properties"]["name"]


@given(st.lists(st.from_regex(r"\A[a-z_][a-z0-9_]{0,15}\Z"), unique=True, max_size=30))
def test_shapefile_names_are_short_unique_and_stable(names):
    mapping = shapefile_field_names(names)
    short = list(mapping.values())
    assert all(len(s) <= 10 for s in short)
    assert len({s.lower() for s in short}) == len(short)
    assert all(mapping[n] == n for n in names if len(n) <= 10 and
               n.lower() not in {m.lower() for m in names[:names.index(n)]})
    assert shapefile_field_names(names) == mapping


def test_shapefile_zip_holds_every_part_and_the_mapping(db, layers, tmp_path):
    out = tmp_path / "grids.zip"
    export_layer(db, layers["grids"].export_source(ADMIN, Selection()), out, format="shp")
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        assert {f"grids.{s}" for s in ("shp", "shx", "dbf", "prj", "cpg")} <= names
        assert archive.read("grids.cpg").strip() == b"UTF-8"
        rows = list(csv.DictReader(io.StringIO(archive.read("fields.csv").decode())))
    mapping = {r["field"]: r["shapefile_field"] for r in rows}
    assert mapping["community_code"] == "community_" and mapping["community_name"] == "communit_2"
    assert mapping["building_count"] == "building_c" and mapping["code"] == "code"


def test_shapefile_parts_are_byte_for_byte_what_gdal_writes_by_default(db, layers, tmp_path):
    # the writer skips GDAL's end-of-file mark per record and adds it once at the end
    source = layers["buildings"].export_source(ADMIN, Selection())
    out = tmp_path / "buildings.zip"
    export_layer(db, source, out, format="shp")
    crs = parse_export_crs(None)
    reader = stream_batches(db, source, crs, copy=False)
    mapping = shapefile_field_names([n for n in reader.schema.names if n != "geometry"])
    (tmp_path / "ref").mkdir()
    write_layer(tmp_path / "ref" / "buildings.shp", "ESRI Shapefile",
                Layer("buildings", _renamed(reader, mapping), source.geometry_type(db)), crs,
                encoding="UTF-8")
    with zipfile.ZipFile(out) as archive:
        assert archive.read("buildings.dbf").endswith(b"\x1a")
        for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            assert archive.read(f"buildings{suffix}") == \
                (tmp_path / "ref" / f"buildings{suffix}").read_bytes(), suffix


def test_scope_limits_the_export(db, layers, tmp_path):
    grid = db.execute(text("select code, community_code from grid where valid_to is null "
                           "order by code limit 1")).one()
    worker = Scope.for_person("w", "grid_worker", [("grid", grid.code)],
                              grid_communities=[grid.community_code])
    out = tmp_path / "mine.gpkg"
    result = export_layer(db, layers["grids"].export_source(worker, Selection()), out,
                          format="gpkg")
    assert result.count == 1
    with pytest.raises(Forbidden):
        Selection.of(street="420111003").check(db, worker)
    agency = Scope.for_api_key("abc", ["roads"])
    with pytest.raises(Forbidden):
        layers["grids"].export_source(agency, Selection())


def test_a_failed_export_leaves_nothing(db, layers, tmp_path):
    source = layers["grids"].export_source(ADMIN, Selection())
    broken = type(source)(source.name, source.table, source.geometry_column,
                          source.select.replace("order by", "and 1/0 = 1 order by"),
                          source.params, source.fields)
    with pytest.raises(Exception):
        export_layer(db, broken, tmp_path / "x.gpkg", format="gpkg")
    assert list(tmp_path.iterdir()) == []


def test_taxonomies_are_discovered(db):
    assert {"event_class", "department"} <= set(taxonomy_tables(db))
    db.execute(text("create table pipe_class (code text primary key, name text)"))
    db.execute(text("create table not_a_taxonomy (code text)"))
    found = taxonomy_tables(db)
    assert "pipe_class" in found and "not_a_taxonomy" not in found


def test_an_existing_sidecar_is_not_replaced_unasked(db, layers, tmp_path):
    (tmp_path / "grids.prj").write_text("mine", encoding="utf-8")
    source = layers["grids"].export_source(ADMIN, Selection())
    with pytest.raises(Conflict):
        export_layer(db, source, tmp_path / "grids.csv", format="csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grids.prj"]
    export_layer(db, source, tmp_path / "grids.csv", format="csv", overwrite=True)
    assert "China" in (tmp_path / "grids.prj").read_text(encoding="utf-8")
