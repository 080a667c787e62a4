"""Bad values are refused before anything is written, naming the feature and the field:
household counts, lengths of text against the database columns, coordinates."""
from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import box
from sqlalchemy import String

from gridmap.errors import ImportFailed
from gridmap.ingest import Recipe
from gridmap.ingest.prepare import prepare
from gridmap.ingest.values import INTEGER_RANGES, TARGET_MODELS, column_length, whole_numbers
from gridmap.models import Building
from tests.ingest.osmxml import LAT, LON


def gpkg(tmp_path, **columns):
    n = len(next(iter(columns.values())))
    geoms = [box(LON + i * 0.0003, LAT, LON + i * 0.0003 + 0.0002, LAT + 0.0002)
             for i in range(n)]
    path = tmp_path / "b.gpkg"
    pyogrio.write_dataframe(gpd.GeoDataFrame(columns, geometry=geoms, crs=4326), path)
    return path


def recipe(path, **kw) -> Recipe:
    kw.setdefault("fields", {"source_id": "bid", "households": "hh"})
    kw.setdefault("source_name", "test")
    return Recipe(source=path, layer="buildings", district="420111", **kw)


@pytest.mark.parametrize("value, shown", [
    (12.7, "12.7"), (-3, "-3"), ("many", "'many'"), (3_000_000_000, "3000000000"),
    (100_001, "100001"), (float("inf"), "inf"),
])
def test_bad_household_counts_are_refused_naming_the_feature(tmp_path, value, shown):
    path = gpkg(tmp_path, bid=["a", "b"], hh=[5, value])
    with pytest.raises(ImportFailed, match=rf"b.gpkg feature 2 \(source_id=b\): households is "
                                           rf"{shown}, expected a whole number from 0 to "
                                           rf"100,000"):
        prepare(recipe(path))


def test_household_counts_as_text_and_floats_that_are_whole_are_taken(tmp_path):
    path = gpkg(tmp_path, bid=["a", "b", "c"], hh=["12", " 7 ", None])
    _, attrs, _ = prepare(recipe(path))
    assert attrs["households"].tolist() == [12, 7, pd.NA]
    path = gpkg(tmp_path, bid=["a"], hh=[12.0])
    assert prepare(recipe(path))[1]["households"].tolist() == [12]


@given(st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                 st.text(max_size=5)))
def test_whole_numbers_accepts_exactly_the_counts_in_range(value):
    low, high = INTEGER_RANGES["households"]
    attrs = pd.DataFrame({"households": pd.Series([value], dtype=object)})
    number = None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except ValueError:
        pass
    valid = (number is not None and math.isfinite(number) and number.is_integer()
             and low <= number <= high) or (isinstance(value, float) and math.isnan(value))
    if valid:
        result = whole_numbers("x", attrs, "households").iloc[0]
        assert (result is pd.NA) if isinstance(value, float) and math.isnan(value) \
            else result == int(number)
    else:
        with pytest.raises(ImportFailed, match="households is"):
            whole_numbers("x", attrs, "households")


def test_text_longer_than_its_column_is_refused(tmp_path):
    limit = column_length(Building, "name")
    path = gpkg(tmp_path, bid=["a", "b"], nm=["短", "楼" * (limit + 1)])
    with pytest.raises(ImportFailed, match=rf"feature 2 \(source_id=b\): name is '楼+…', "
                                           rf"expected at most {limit} characters \(it has "
                                           rf"{limit + 1}\)"):
        prepare(recipe(path, fields={"source_id": "bid", "name": "nm"}))
    long_id = "x" * (column_length(Building, "source_id") + 1)
    path = gpkg(tmp_path, bid=[long_id])
    with pytest.raises(ImportFailed, match=r"source_id is 'x+…', expected at most 64"):
        prepare(recipe(path, fields={"source_id": "bid"}))


def test_lengths_are_the_models():
    """Every String(n) column a target maps to is checked with the model's own n."""
    checked = 0
    for model in TARGET_MODELS.values():
        for column in model.__table__.columns:
            if isinstance(column.type, String) and column.type.length:
                assert column_length(model, column.name) == column.type.length
                checked += 1
    assert checked >= 10


def test_source_name_longer_than_its_column_is_refused(tmp_path):
    with pytest.raises(ImportFailed, match=r"source name 'x{51}' has 51 characters; expected "
                                           r"at most 50"):
        recipe(tmp_path / "b.gpkg", source_name="x" * 51)


@pytest.mark.parametrize("wkt", [
    "POLYGON ((114.3871 30.515, nan 30.515, 114.3873 30.5152, 114.3871 30.515))",
    "POLYGON ((114.3871 30.515, inf 30.515, 114.3873 30.5152, 114.3871 30.515))",
])
def test_coordinates_that_are_not_numbers_are_refused_even_with_repair(tmp_path, wkt):
    path = tmp_path / "b.csv"
    path.write_text(f'bid,wkt\na,"{wkt}"\n', encoding="utf-8")
    with pytest.raises(ImportFailed, match=r"1 feature\(s\) with coordinates that are not "
                                           r"finite numbers, first feature 1 \(bid=a\)"):
        prepare(recipe(path, wkt_field="wkt", crs="EPSG:4326", repair=True,
                       fields={"source_id": "bid"}))


def test_derived_households_are_checked_too(tmp_path):
    # A 'residential' footprint of 4 km² on 300 floors cannot be one building.
    big = shapely.box(LON, LAT, LON + 0.02, LAT + 0.02)
    path = tmp_path / "big.gpkg"
    pyogrio.write_dataframe(gpd.GeoDataFrame({"bid": ["a"], "building": ["residential"],
                                              "height": [900.0]}, geometry=[big], crs=4326),
                            path)
    with pytest.raises(ImportFailed, match=r"feature 1 \(source_id=a\): households is \d+"):
        prepare(recipe(path, fields={"source_id": "bid"}, households={}))


def test_a_very_long_id_is_cut_in_the_message():
    import pandas as pd

    from gridmap.ingest.values import feature_label

    label = feature_label(pd.DataFrame({"source_id": ["x" * 500]}), 0)
    assert label == f"feature 1 (source_id={'x' * 40}… (500 characters))"
