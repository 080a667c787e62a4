"""A feature's GeoJSON assembled as text (:func:`layers.features.items._feature_sql`) parses to
what ``json_build_object`` gives, for every layer of the demo and for any value of any type;
a page's one-row aggregate (:func:`layers.features.items._page_sql`) is the rows it stands
for, and the bbox shortcut (:func:`layers.features.items._bbox_condition`) finds what
``ST_Intersects`` finds."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import example, given, settings, strategies as st
from sqlalchemy import text

from gridmap.auth.scope import Scope
from layers.features.crs import CRS84, FeatureCrs
from layers.features.items import ItemsQuery, _feature_sql, _page_sql, items
from layers.registry import load_layers
from layers.sql import SqlLayer
from tests.conftest import rolled_back

LAYERS = {name: layer for name, layer in load_layers().items() if isinstance(layer, SqlLayer)}
EVERYONE = Scope.for_person("root", "administrator", [])


def _built(layer: SqlLayer, crs: FeatureCrs) -> str:
    """The feature as ``json_build_object`` builds it (the map's queries' way)."""
    properties, _ = layer.properties_sql(EVERYONE)
    geometry = layer.geojson_sql(srid=None if crs.geographic else crs.srid, flip=crs.flip,
                                 decimals=crs.decimals)
    return (f"json_build_object('type', 'Feature', 'id', t.{layer.id_column}, "
            f"'geometry', {geometry}, 'properties', {properties})::text")


def _both(session, layer: SqlLayer, crs: FeatureCrs, limit: int = 200) -> list[tuple]:
    assembled, params = _feature_sql(session, layer, crs, EVERYONE)
    return session.execute(text(
        f"select {assembled}, {_built(layer, crs)} from {layer.table} t "
        f"where {layer.where} order by t.{layer.id_column} limit {limit}"), params).all()


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("crs", [CRS84, FeatureCrs(4490), FeatureCrs(3857)],
                         ids=["CRS84", "EPSG4490", "EPSG3857"])
def test_every_layer_assembles_the_features_json_build_object_gives(db, name, crs):
    rows = _both(db, LAYERS[name], crs)
    if name in ("districts", "streets", "communities", "grids", "buildings"):
        assert rows, f"the demo has {name}"
    for assembled, built in rows:
        assert json.loads(assembled) == json.loads(built)


_SCALARS = {
    "whole": st.integers(-2**63, 2**63 - 1),
    "small": st.integers(-2**15, 2**15 - 1),
    "flag": st.booleans(),
    "words": st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
    "real": st.floats(allow_nan=True, allow_infinity=True),
    "at": st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1),
                       timezones=st.just(dt.timezone.utc)),
    "day": st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
}
_COLUMNS = ("whole bigint, small smallint, flag boolean, words text, real double precision, "
            "at timestamptz, day date")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries({k: st.none() | s for k, s in _SCALARS.items()}),
                min_size=1, max_size=5),
       st.sampled_from(["UTC", "Asia/Shanghai", "America/St_Johns"]))
@example([{"whole": -2**63, "small": None, "flag": False, "words": 'a "b" \\ c\n\u0001 网格',
           "real": float("nan"), "at": dt.datetime(2026, 12, 5, 0, 0, 0, 1, dt.timezone.utc),
           "day": dt.date(2026, 12, 5)},
          {"whole": None, "small": 7, "flag": True, "words": "", "real": float("-inf"),
           "at": None, "day": None}], "Asia/Shanghai")
def test_any_value_of_any_type_is_written_as_json_build_object_writes_it(engine, rows, zone):
    layer = SqlLayer("feature_text_probe", {
        "table": "feature_text_probe", "id": "id", "id_type": "integer", "geometry": "geom",
        "scope": "public", "fields": [{"name": k} for k in _SCALARS]
        + [{"name": "label", "sql": "t.words || '✓'"}]})
    with rolled_back(engine) as session:
        session.execute(text(f"create temporary table feature_text_probe (id int primary key, "
                             f"{_COLUMNS}, geom geometry(Geometry, 4490)) on commit drop"))
        session.execute(text("select set_config('TimeZone', :z, true)"), {"z": zone})
        for i, row in enumerate(rows):
            session.execute(text(
                "insert into feature_text_probe values (:id, :whole, :small, :flag, :words, "
                ":real, :at, :day, case when :id % 2 = 0 then "
                "ST_GeomFromText('POINT(114.3 30.5)', 4490) end)"), {"id": i, **row})
        for assembled, built in _both(session, layer, CRS84):
            assert json.loads(assembled) == json.loads(built)


@pytest.mark.parametrize("limit", [1, 7, 250, 10_000])
def test_a_page_is_its_rows_joined_with_their_count_and_the_next_start(db, limit):
    layer = LAYERS["buildings"]
    assembled, params = _feature_sql(db, layer, CRS84, EVERYONE)
    select = (f"select t.id as id, {assembled} as feature from building t "
              f"where true order by t.id")
    rows = db.execute(text(f"{select} limit :n"), {**params, "n": limit + 1}).all()
    page = db.execute(text(_page_sql(select)), {**params, "page_limit": limit + 1}).one()
    on_page = rows[:limit]
    assert page.returned == len(on_page) and page.returned > 0
    assert json.loads(f"[{page.body}]") == [json.loads(r.feature) for r in on_page]
    assert page.more == (len(rows) > limit)
    assert page.last_id == on_page[-1].id


def test_an_empty_page_is_an_empty_body_and_no_next(db):
    layer = LAYERS["buildings"]
    page = items(db, layer, ItemsQuery(limit=10, bbox=(1.0, 1.0, 1.5, 1.5)), scope=EVERYONE)
    assert (page.body, page.returned, page.next_after, page.features()) == ("", 0, None, [])



@settings(max_examples=60, deadline=None)
@given(st.floats(114.0, 115.0), st.floats(30.0, 31.0), st.floats(2.1e-4, 5e-3),
       st.floats(2.1e-4, 5e-3),
       st.lists(st.tuples(st.sampled_from(["x0", "y0", "x1", "y1"]), st.floats(0, 1),
                          st.floats(-3e-5, 3e-5)), min_size=1, max_size=20))
def test_the_bbox_shortcut_finds_what_st_intersects_finds(engine, x, y, w, h, points):
    """Points a hair either side of a bbox's edges (within a few float steps of PostGIS's
    cached boxes, where the shortcut's margin matters): the same rows as ``ST_Intersects``."""
    from layers.features.items import _bbox_condition

    box = (x, y, x + w, y + h)
    condition, params = _bbox_condition("t.geom", ItemsQuery(bbox=box))
    with rolled_back(engine) as session:
        session.execute(text("create temporary table bbox_probe (id int, geom geometry) "
                             "on commit drop"))
        for i, (edge, along, nudge) in enumerate(points):
            px = {"x0": x + nudge, "x1": x + w + nudge}.get(edge, x + along * w)
            py = {"y0": y + nudge, "y1": y + h + nudge}.get(edge, y + along * h)
            session.execute(text("insert into bbox_probe values (:i, ST_SetSRID("
                                 "ST_MakePoint(:px, :py), 4490))"), {"i": i, "px": px, "py": py})
        got = session.execute(text(f"select array_agg(id order by id) from bbox_probe t "
                                   f"where {condition}"), params).scalar()
        want = session.execute(text(
            "select array_agg(id order by id) from bbox_probe t where ST_Intersects(geom, "
            "ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, 4490))"), params).scalar()
    assert got == want
