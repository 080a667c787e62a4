"""OSM sources: buildings only (no land use, no building:part), tags from other_tags as
columns, ids unique across ways and relations, the source named osm."""
from __future__ import annotations

import re

import pandas as pd
import pyogrio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from gridmap.errors import ImportFailed
from gridmap.ingest import Recipe, import_recipe
from gridmap.ingest import osm
from gridmap.ingest.prepare import prepare
from gridmap.ingest.read import read_source
from gridmap.ingest.rowfilter import combine, parse_condition
from tests.conftest import TEST_DATA
from tests.ingest.osmxml import OsmFile

KOTKA_PBF = TEST_DATA / "kotka" / "kotka_karhula_test.osm.pbf"

# Text GDAL and XML carry unchanged: no surrogates, no control characters but \t and \n
# (XML normalises \r), with the characters hstore quoting must escape well represented.
_CHARS = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r") | \
    st.sampled_from(['"', "\\", "=", ">", ",", " ", "\n", "\t", "光", "á"])
TAG_TEXT = st.text(_CHARS, min_size=0, max_size=12)


def osm_recipe(path, **kw) -> Recipe:
    return Recipe(source=path, layer="buildings", district="420111", **kw)


def sample_town(tmp_path):
    """Two buildings, a building relation, and what must not count as a building."""
    town = OsmFile()
    town.box(0, {"building": "residential", "building:levels": "5", "height": "16.5",
                 "addr:street": "珞喻路", "addr:housenumber": "1037号", "name": "教工宿舍"},
             way_id=900)
    town.box(1, {"building": "yes", "building:levels": "2"}, way_id=901)
    outer = town.box(2, None, way_id=902)
    town.multipolygon([outer], {"building": "apartments", "building:levels": "7"},
                      relation_id=900)  # the same number as way 900: a different object
    town.box(3, {"landuse": "construction"}, way_id=903)
    town.box(4, {"building": "no", "amenity": "parking"}, way_id=904)
    town.box(0, {"building:part": "yes", "building:levels": "20"}, size=0.0001, way_id=905)
    town.box(1, {"building": "yes", "building:part": "roof"}, size=0.0001, way_id=906)
    return town.write(tmp_path / "town.osm")


def test_only_buildings_are_read_with_unique_ids_and_tag_columns(tmp_path):
    frame = read_source(osm_recipe(sample_town(tmp_path)))
    assert sorted(frame["osm_element"]) == ["r900", "w900", "w901"]
    row = frame.set_index("osm_element").loc["w900"]
    assert (row["building:levels"], row["height"]) == ("5", "16.5")
    assert row["osm_address"] == "珞喻路 1037号"
    # way 905 has no building tag at all; way 906 is tagged both building and building:part
    assert frame.attrs["notes"] == ["1 OSM building:part area(s) left out: they lie over "
                                    "their building"]


def test_osm_recipe_defaults(tmp_path):
    recipe = osm_recipe(sample_town(tmp_path))
    assert recipe.source_name == "osm"
    assert recipe.fields == {"source_id": "osm_element", "name": "name",
                             "address": "osm_address"}
    mine = osm_recipe(tmp_path / "x.osm.pbf", source_name="survey",
                      fields={"source_id": "ref"})
    assert (mine.source_name, mine.fields["source_id"]) == ("survey", "ref")


def test_osm_buildings_import_with_floors_addresses_and_households(db, tmp_path):
    recipe = osm_recipe(sample_town(tmp_path), households={})
    report = import_recipe(db, recipe)
    assert report.inserted == 3
    rows = {r.source_id: r for r in db.execute(text(
        "select source_id, name, floors, address, households, use from building "
        "where source = 'osm'"))}
    assert set(rows) == {"w900", "w901", "r900"}
    # floors from height ÷ 3 m first (16.5 m → 6), else building:levels
    assert (rows["w900"].floors, rows["w901"].floors, rows["r900"].floors) == (6, 2, 7)
    assert rows["w900"].address == "珞喻路 1037号" and rows["w900"].name == "教工宿舍"
    assert rows["w900"].households > 0 and rows["r900"].households > 0
    assert rows["w901"].households == 0  # building=yes with no residential name


def test_mapping_osm_id_alone_says_which_id_column_to_use(db, tmp_path):
    path = sample_town(tmp_path)
    with pytest.raises(ImportFailed, match=r"source_id \(osm_id\) is empty in 2 features; in "
                                           r"OSM data a way's id is in osm_way_id.*osm_element"):
        import_recipe(db, osm_recipe(path, fields={"source_id": "osm_id"}))
    with pytest.raises(ImportFailed, match=r"field 'osmid' \(mapped to source_id\) is missing; "
                                           r"the source has osm_id, osm_way_id, name, "
                                           r"building.*OSM tags: .*building:levels.*osm_way_id"):
        import_recipe(db, osm_recipe(path, fields={"source_id": "osmid"}))


def test_unknown_tag_is_missing_not_silently_empty(tmp_path):
    with pytest.raises(ImportFailed, match=r"field 'building:floors' \(mapped to floors\) is "
                                           r"missing"):
        read_source(osm_recipe(sample_town(tmp_path), fields={"floors": "building:floors"}))


def test_tags_can_be_mapped_and_filtered_on(tmp_path):
    recipe = osm_recipe(sample_town(tmp_path), fields={"floors": "building:levels"},
                        where={"building:levels": {">=": 5}})
    assert sorted(read_source(recipe)["osm_element"]) == ["r900", "w900"]


@given(st.dictionaries(TAG_TEXT, TAG_TEXT | st.none(), max_size=6))
@settings(suppress_health_check=[HealthCheck.too_slow])  # the character table, on a busy machine
def test_hstore_text_round_trips(tags):
    assert osm.parse_other_tags(osm.format_other_tags(tags)) == tags


@given(st.dictionaries(TAG_TEXT.filter(lambda k: k.strip() != ""), TAG_TEXT, min_size=1,
                       max_size=5))
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_tags_gdal_writes_are_the_tags_in_the_file(tmp_path, tags):
    """GDAL's own other_tags text, parsed, gives back exactly the tags written in the XML,
    and so do the columns made from it (an empty value is a missing one)."""
    tags = {f"t:{k}": v for k, v in tags.items()}  # never one of GDAL's own columns
    town = OsmFile()
    town.box(0, {"building": "yes", **tags})
    path = town.write(tmp_path / "tags.osm")
    raw = pyogrio.read_dataframe(path, layer="multipolygons", read_geometry=False)
    assert osm.parse_other_tags(raw["other_tags"].iloc[0]) == tags
    frame, keys = osm.expand_tags(raw, list(tags))
    assert sorted(keys) == sorted(tags)
    assert {k: frame[k].iloc[0] if k in frame and frame[k].notna().iloc[0] else None
            for k in tags} == {k: v or None for k, v in tags.items()}


def test_a_tag_mapped_to_a_field_is_read_as_a_column(tmp_path):
    town = OsmFile()
    town.box(0, {"building": "yes", "name:zh": '光谷 "一号" \\ 楼'})
    frame = read_source(osm_recipe(town.write(tmp_path / "t.osm"),
                                   fields={"name": "name:zh"}))
    assert frame["name:zh"].tolist() == ['光谷 "一号" \\ 楼']


def test_vectorised_tags_agree_with_row_by_row_parsing_on_real_data():
    """Oracle: expand_tags over Kotka's 2,129 other_tags strings equals parsing each alone."""
    raw = pyogrio.read_dataframe(KOTKA_PBF, layer="multipolygons", read_geometry=False)
    wanted = ["addr:city", "addr:postcode", "clc:code", "opening_hours"]
    frame, keys = osm.expand_tags(raw, wanted)
    assert "building:levels" in keys and len(keys) > 20
    for row, value in raw["other_tags"].items():
        parsed = osm.parse_other_tags(value) if isinstance(value, str) else {}
        for key in wanted + list(osm.STANDARD_TAGS):
            if key in frame.columns:
                got = frame.at[row, key]
                assert (None if got is None or got != got else got) == parsed.get(key), row


def test_kotka_buildings_carry_levels_and_addresses():
    frame = read_source(osm_recipe(KOTKA_PBF, fields={"floors": "building:levels"}))
    assert len(frame) == 2219
    assert frame["building:levels"].notna().sum() == 10
    assert frame["osm_address"].notna().sum() == 5
    assert frame["osm_element"].str.fullmatch(r"w\d+").all()
    assert frame["osm_element"].is_unique


def test_malformed_hstore_is_refused():
    with pytest.raises(ValueError, match="not hstore text at character 10"):
        osm.parse_other_tags('"a"=>"b",junk')


def test_broken_rings_are_refused_with_a_filter_that_leaves_them_out():
    """Kotka's 4 ways with rings GDAL cannot build: the suggested --where works as given."""
    with pytest.raises(ImportFailed, match=r"4 feature\(s\) without a readable geometry") as e:
        prepare(osm_recipe(KOTKA_PBF, repair=True))
    option = re.search(r"--where '([^']+)'", str(e.value)).group(1)
    assert option.startswith("osm_element!=w")
    where = combine([parse_condition(option)])
    with pytest.raises(ImportFailed, match="outside China"):  # the next check: Kotka is in Finland
        prepare(osm_recipe(KOTKA_PBF, repair=True, where=where))


def test_odd_levels_and_heights_from_osm_do_not_break_the_households_rule(tmp_path):
    town = OsmFile()
    town.box(0, {"building": "residential", "building:levels": "2.5"})
    town.box(1, {"building": "residential", "building:levels": "3;4"})
    town.box(2, {"building": "residential", "height": "12 m"})
    town.box(3, {"building": "residential", "building:levels": "-1"})
    _, attrs, _ = prepare(osm_recipe(town.write(tmp_path / "odd.osm"), households={}))
    floors = dict(zip(attrs["source_id"], attrs["floors"]))
    assert list(floors.values())[0] in (2, 3)  # half a storey rounds to a whole one
    assert all(v is pd.NA for v in list(floors.values())[1:])  # not numbers: unknown
    assert (attrs["households"] > 0).all()  # counted with default_floors
