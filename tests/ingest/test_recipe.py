"""Recipes are checked when loaded: each wrong value named with its key and what is expected."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridmap.errors import ImportFailed
from gridmap.ingest import Recipe, load_recipe
from gridmap.ingest.recipe_schema import RECIPE, TARGET_LAYERS
from tests.conftest import REPO

HEAD = "source: b.gpkg\nlayer: buildings\ndistrict: '420111'\n"


@pytest.mark.parametrize("body, message", [
    ("source: null\nlayer: buildings\n", "key source: got None, expected a file path"),
    ("layer: buildings\n", "key 'source' is missing; expected a file path"),
    ("source: b.gpkg\nlayer: houses\n", "key layer: got 'houses', expected one of buildings,"),
    (HEAD + "repair: 'yes'\n", "key repair: got 'yes', expected true or false"),
    (HEAD + "encoding: klingon\n", "key encoding: got 'klingon', expected a text encoding"),
    (HEAD + "crs: EPSG:99999\n", "key crs: got 'EPSG:99999', expected a CRS"),
    (HEAD + "fields: [bid]\n", "key fields: got ['bid'], expected a mapping of target field"),
    (HEAD + "fields: {source_id: 7}\n", "key fields.source_id: got 7, expected a column name"),
    (HEAD + "households: {dwelling_m2: 0}\n", "key households.dwelling_m2: got 0, expected a "
                                              "floor area in m² greater than 0"),
    (HEAD + "households: {net_ratio: 1.5}\n", "key households.net_ratio: got 1.5"),
    (HEAD + "households: {default_floors: 2.5}\n", "key households.default_floors: got 2.5, "
                                                   "expected a whole number of floors"),
    (HEAD + "households: {residential_name: '(['}\n", "expected a regular expression"),
    (HEAD + "households: {dwelling: 90}\n", "key households: unknown keys ['dwelling']"),
    (HEAD + "households: 90\n", "key households: got 90, expected a mapping of household"),
    (HEAD + "where: '1=1; DROP TABLE buildings'\n", "key where: got '1=1; DROP TABLE "
                                                    "buildings', expected a mapping"),
    (HEAD + "where: {building: yes}\n", "key where.building: got True"),
    (HEAD + "where: {levels: {'>=': two}}\n", "key where.levels.>=: got 'two', expected a "
                                              "number"),
    (HEAD + "where: {levels: {'=>': 2}}\n", "key where.levels: unknown keys ['=>']"),
    (HEAD + "duplicates: ignore\n", "key duplicates: got 'ignore', expected one of refuse"),
    ("source: b.gpkg\nlayer: buildings\ndistrict: 42011\n", "key district: got '42011'"),
    (HEAD + "colour: red\n", "unknown keys ['colour']"),
    ("- source\n- layer\n", "got list ['source', 'layer'], expected a mapping"),
])
def test_wrong_values_are_named(tmp_path, body, message):
    path = tmp_path / "r.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ImportFailed) as error:
        load_recipe(path)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_every_key_says_what_it_expects():
    for key, schema in RECIPE["properties"].items():
        assert schema.get("description"), key


def test_every_shipped_recipe_is_valid():
    for path in (REPO / "import").glob("*.yaml"):  # facility recipes: tests/facilities
        if path.name.startswith("facilities_"):
            continue
        assert load_recipe(path).layer in TARGET_LAYERS


def test_overrides_add_to_mappings_and_replace_the_rest(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(HEAD + "fields: {source_id: bid, name: nm}\nwhere: {kind: house}\n"
                    "households: {dwelling_m2: 90}\nrepair: true\n", encoding="utf-8")
    recipe = load_recipe(path, fields={"name": "title"}, where={"levels": {">": 1}},
                         households={"net_ratio": 0.5}, repair=False, crs=None)
    assert recipe.fields == {"source_id": "bid", "name": "title"}
    assert recipe.where == {"kind": "house", "levels": {">": 1}}
    assert recipe.households == {"dwelling_m2": 90, "net_ratio": 0.5}
    assert recipe.repair is False and recipe.source == tmp_path / "b.gpkg"


def test_an_unquoted_district_is_read_as_its_digits(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("source: b.gpkg\nlayer: buildings\ndistrict: 420111\n", encoding="utf-8")
    assert load_recipe(path).district == "420111"


@given(st.dictionaries(st.sampled_from(sorted(RECIPE["properties"])),
                       st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
                                 st.lists(st.text(max_size=3), max_size=2),
                                 st.dictionaries(st.text(max_size=3), st.integers(),
                                                 max_size=2))))
# pyproj looks odd CRS strings up in its database; slow on a busy machine
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_recipe_is_accepted_or_refused_with_a_one_line_message(data):
    """Whatever a YAML file holds, the answer is a Recipe or an ImportFailed, nothing else."""
    try:
        Recipe(**data)
    except ImportFailed as error:
        assert "\n" not in str(error)
    except TypeError as error:  # required dataclass arguments not given
        assert "required positional argument" in str(error)
