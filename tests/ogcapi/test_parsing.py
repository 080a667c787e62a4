"""Parsing at the edge: CRS URIs, bboxes in each CRS's axis order, limits, datetimes."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, strategies as st

from gridmap.errors import InvalidInput
from layers.features.crs import CRS84, FeatureCrs, parse_bbox, parse_crs
from layers.features.items import parse_datetime, parse_limit

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"


@pytest.mark.parametrize("value, srid, flip", [
    (None, 4326, False), ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", 4326, False),
    (EPSG + "4326", 4326, True), (EPSG + "4490", 4490, True), ("EPSG:4490", 4490, True),
    (EPSG + "3857", 3857, False), (EPSG + "4545", 4545, True), (EPSG + "4554", 4554, True),
])
def test_crs_uris_and_their_axis_order(value, srid, flip):
    crs = parse_crs(value, "crs")
    assert (crs.srid, crs.flip) == (srid, flip)


@pytest.mark.parametrize("value", [EPSG + "2000", EPSG + "4533", EPSG + "4555", "4490x",
                                   "http://example.com/crs/4490", EPSG, "EPSG:4490:1"])
def test_other_crs_is_a_400_naming_the_parameter(value):
    with pytest.raises(InvalidInput) as caught:
        parse_crs(value, "bbox-crs")
    assert "bbox-crs" in str(caught.value) and "CRS84" in str(caught.value)


def test_a_geographic_bbox_in_epsg_4490_is_lat_lon():
    assert parse_bbox("30.50,114.38,30.51,114.39", FeatureCrs(4490)) == \
        (114.38, 30.50, 114.39, 30.51)
    assert parse_bbox("114.38,30.50,114.39,30.51", CRS84) == (114.38, 30.50, 114.39, 30.51)


@pytest.mark.parametrize("raw, crs, words", [
    ("1,2,3", CRS84, "four numbers"), ("1,2,3,4,5,6", CRS84, "four numbers"),
    ("a,b,c,d", CRS84, "four numbers"), ("nan,1,2,3", CRS84, "four numbers"),
    ("2,1,1,2", CRS84, "min ≤ max"), ("0,-91,1,1", CRS84, "outside"),
    ("114,30,181,31", CRS84, "outside"),
    # lon/lat given where EPSG:4490 expects lat/lon: latitude 114 is outside
    ("114.38,30.50,114.39,30.51", FeatureCrs(4490), "outside"),
    # Gauss–Krüger zone 38 (114°E) coordinates far outside its strip
    ("0,0,1,1", FeatureCrs(4545), "outside"),
])
def test_bad_bbox_is_a_400_saying_what_is_expected(raw, crs, words):
    with pytest.raises(InvalidInput) as caught:
        parse_bbox(raw, crs)
    assert words in str(caught.value) and "bbox" in str(caught.value)


@given(st.floats(-179, 179), st.floats(-89, 89), st.floats(0, 1), st.floats(0, 1))
def test_any_bbox_in_range_round_trips_through_either_axis_order(x, y, w, h):
    box = (x, y, x + w, y + h)
    text = ",".join(repr(v) for v in box)
    assert parse_bbox(text, CRS84) == box
    flipped = ",".join(repr(v) for v in (box[1], box[0], box[3], box[2]))
    assert parse_bbox(flipped, FeatureCrs(4326)) == box


@pytest.mark.parametrize("raw, expected", [(None, 100), ("1", 1), ("10000", 10000)])
def test_limit_default_and_bounds(raw, expected):
    assert parse_limit(raw) == expected


@pytest.mark.parametrize("raw", ["0", "10001", "-1", "1.5", "１０", "", "99999999999999"])
def test_bad_limit_names_the_range(raw):
    with pytest.raises(InvalidInput) as caught:
        parse_limit(raw)
    assert "limit" in str(caught.value) and "10000" in str(caught.value)


def test_datetime_forms():
    utc = dt.timezone.utc
    day = parse_datetime("2026-12-04")
    assert day == (dt.datetime(2026, 12, 4, tzinfo=utc), dt.datetime(2026, 12, 5, tzinfo=utc))
    assert parse_datetime("2026-12-04T08:00:00Z/..") == (
        dt.datetime(2026, 12, 4, 8, tzinfo=utc), None)
    assert parse_datetime("../2026-12-04")[0] is None
    at = parse_datetime("2026-12-04T08:00:00+08:00")
    assert at[0] == at[1] == dt.datetime(2026, 12, 4, 0, tzinfo=utc)


def test_a_day_and_a_time_without_offset_are_read_in_the_configured_zone():
    """QGIS and people in Wuhan mean the local day: 2026-12-04 is 16:00 UTC the day before
    to 16:00 UTC that day; an offset given is kept."""
    utc = dt.timezone.utc
    assert parse_datetime("2026-12-04", "Asia/Shanghai") == (
        dt.datetime(2026, 12, 3, 16, tzinfo=utc), dt.datetime(2026, 12, 4, 16, tzinfo=utc))
    at = parse_datetime("2026-12-04T08:00:00", "Asia/Shanghai")
    assert at[0] == at[1] == dt.datetime(2026, 12, 4, 0, tzinfo=utc)
    assert parse_datetime("2026-12-04T08:00:00Z", "Asia/Shanghai")[0] == \
        dt.datetime(2026, 12, 4, 8, tzinfo=utc)
    spring = parse_datetime("2026-03-08", "America/New_York")  # a 23-hour day
    assert spring[1].astimezone(utc) - spring[0].astimezone(utc) == dt.timedelta(hours=23)


@pytest.mark.parametrize("raw", ["yesterday", "../..", "2026-12-05/2026-12-04", "2026-13-01"])
def test_bad_datetime_is_a_400(raw):
    with pytest.raises(InvalidInput) as caught:
        parse_datetime(raw)
    assert "datetime" in str(caught.value)
