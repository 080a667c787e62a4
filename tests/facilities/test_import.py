"""Importing real OSM points (Helsinki's hydrants, street lamps, cameras… moved into the
demo district, see conftest.SHIFT) through import/facilities_osm.yaml: counts per class,
an idempotent re-import, skipped records with reasons, and bad input refused."""
from __future__ import annotations

import re
from dataclasses import replace

import pyogrio
import pytest
from sqlalchemy import text

from gridmap.config import REPO_ROOT
from gridmap.errors import ImportFailed
from gridmap.facilities.importing import import_facilities
from gridmap.facilities.recipe import load_facility_recipe
from tests.facilities.conftest import HELSINKI_GPKG, HELSINKI_OSM, SHIFT, shifted_osm

RECIPE = REPO_ROOT / "import" / "facilities_osm.yaml"
SOURCE = "osm-test"  # not the recipe's own: the CLI tests commit imports under "osm"


def _recipe():
    return replace(load_facility_recipe(RECIPE), source_name=SOURCE)


def _osm_counts() -> dict[str, int]:
    """What the subset holds, read independently of the importer (tags of each node in the
    XML), with the recipe's precedence: a camera on a lamp post (node 2223015838 carries
    both) is a lamp, as the first matching rule says."""
    counts = dict.fromkeys(("hydrants", "lamps", "cameras"), 0)
    for node in re.findall(r"<node .*?</node>", HELSINKI_OSM.read_text(encoding="utf-8"),
                           re.DOTALL):
        if 'v="fire_hydrant"' in node:
            counts["hydrants"] += 1
        elif 'v="street_lamp"' in node:
            counts["lamps"] += 1
        elif 'k="man_made" v="surveillance"' in node:
            counts["cameras"] += 1
    return counts


def test_osm_points_become_facilities_and_a_reimport_changes_nothing(db, tmp_path):
    source = shifted_osm(tmp_path)
    recipe = _recipe()
    first = import_facilities(db, source, recipe, district="420111")
    expected = _osm_counts()
    assert first.new["0111"] == expected["hydrants"] > 30
    assert first.new["0114"] == expected["lamps"] > 20
    assert first.new["0116"] == expected["cameras"] > 0
    assert first.new["0205"] >= 1 and first.new["0202"] >= 1 and first.new["0404"] >= 1
    assert first.skipped["no rule of the recipe matches (not a facility)"] >= 5
    stored = db.execute(text("select count(*), count(grid_id) from facility "
                             "where source = :s"), {"s": SOURCE}).one()
    assert stored[0] == sum(first.new.values())
    assert 0 < stored[1] and stored[0] - stored[1] == first.outside_grids  # flagged, kept
    again = import_facilities(db, source, recipe, district="420111")
    assert sum(again.new.values()) == 0 and sum(again.updated.values()) == 0
    assert again.unchanged == first.new
    assert db.execute(text("select count(*) from facility where source = :s"),
                      {"s": SOURCE}).scalar() \
        == stored[0]
    lines = "\n".join(first.lines())
    assert "0111" in lines and "skipped" in lines


def test_a_moved_node_is_updated_in_place(db, tmp_path):
    source = shifted_osm(tmp_path)
    recipe = _recipe()
    import_facilities(db, source, recipe, district="420111")
    node = db.execute(text("select source_id, id from facility where source = :s "
                           "and class_code = '0111' order by source_id limit 1"),
                      {"s": SOURCE}).one()
    body = source.read_text(encoding="utf-8")
    at = body.index(f'<node id="{node[0][1:]}"')
    end = body.index(">", at)
    moved = body[:at] + body[at:end].replace('lat="30.', 'lat="30.0') + body[end:]
    source.write_text(moved, encoding="utf-8")
    report = import_facilities(db, source, recipe, district="420111")
    assert report.updated["0111"] == 1 and sum(report.new.values()) == 0
    assert db.execute(text("select id from facility where source = :s and source_id = :i"),
                      {"s": SOURCE, "i": node[0]}).scalar() == node[1]  # same ID


def test_a_geopackage_of_points_with_tag_columns(db, tmp_path):
    frame = pyogrio.read_dataframe(HELSINKI_GPKG)
    moved = frame.set_geometry(frame.geometry.translate(*SHIFT))
    path = tmp_path / "pois.gpkg"
    pyogrio.write_dataframe(moved, path, layer="pois_points")
    report = import_facilities(db, path, _recipe(), district="420111",
                               source_id="id")
    assert report.new["0111"] == (frame["emergency"] == "fire_hydrant").sum()
    assert report.new["0404"] == (frame["amenity"] == "bench").sum()
    assert report.skipped["no rule of the recipe matches (not a facility)"] == \
        (frame["amenity"] == "restaurant").sum()


def test_the_real_coordinates_are_refused_as_outside_china(db):
    with pytest.raises(ImportFailed, match="outside China"):
        import_facilities(db, HELSINKI_OSM, _recipe(), district="420111")


@pytest.mark.parametrize("recipe_text, problem", [
    ("source_name: osm\n", "classes"),
    ("source_name: osm\nclasses: [{class: '0199', when: {a: b}}]\n", "not loaded"),
    ("source_name: osm\nclasses: [{class: '01', when: {a: b}}]\n", "4 digits"),
    ("source_name: osm\nclasses: [{class: '0111', when: {}}]\n", "mapping of tags"),
    ("source_name: osm\ncolour: red\nclasses: [{class: '0111', when: {a: b}}]\n",
     "unknown keys colour"),
    ("[1, 2\n", "cannot read recipe"),
])
def test_a_bad_recipe_is_refused(db, tmp_path, recipe_text, problem):
    path = tmp_path / "r.yaml"
    path.write_text(recipe_text, encoding="utf-8")
    with pytest.raises(ImportFailed, match=problem):
        import_facilities(db, shifted_osm(tmp_path), load_facility_recipe(path),
                          district="420111")


def test_bad_files_are_refused(db, tmp_path):
    recipe = _recipe()
    with pytest.raises(ImportFailed, match="does not exist"):
        import_facilities(db, tmp_path / "none.osm", recipe, district="420111")
    garbage = tmp_path / "garbage.gpkg"
    garbage.write_bytes(b"not a geopackage")
    with pytest.raises(ImportFailed, match="cannot read"):
        import_facilities(db, garbage, recipe, district="420111")
    with pytest.raises(ImportFailed, match="district '999999' is not loaded"):
        import_facilities(db, shifted_osm(tmp_path), recipe, district="999999")
