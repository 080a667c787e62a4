"""QGIS (Debian's 3.22, headless PyQGIS) reading a live ``gridmap serve`` as an agency would,
compared with PostGIS: the collections its browser lists, every feature of every collection
(ids, geometries, Chinese text, times), a keyed collection read with the key as QGIS 3.22 can
send it, a bbox, a subset string and small pages.

QGIS runs in the system's Python (``python3-qgis``; gridmap's venv cannot import it), in
:mod:`tests.ogcapi.qgis_driver`, once for the module, with a ``HOME`` of its own and the
time zone of the demo district (Asia/Shanghai).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import shapely
from sqlalchemy import text

from gridmap.db import session_scope
from layers import load_layers
from tests.ogcapi.conftest import PUBLIC

QGIS_PYTHON = "/usr/bin/python3"
DRIVER = Path(__file__).with_name("qgis_driver.py")
ZONE = "Asia/Shanghai"


def _qgis_present() -> bool:
    if not os.access(QGIS_PYTHON, os.X_OK):
        return False
    return subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"],
                          capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(
    not _qgis_present(), reason=f"QGIS's Python bindings are absent from {QGIS_PYTHON} "
    "(Debian python3-qgis and qgis-providers: scripts/install-system.sh test, run by make test)")


@pytest.fixture(scope="module")
def seen(live, keys, tmp_path_factory) -> dict:
    """What QGIS saw (see the driver's docstring); the key names facilities only."""
    home = tmp_path_factory.mktemp("qgis-home")
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(home), "TZ": ZONE,
           "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([QGIS_PYTHON, str(DRIVER), live, keys["facilities"], PUBLIC,
                           "facilities", "devices"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def _stored(database_url: str, name: str) -> dict[str, shapely.Geometry]:
    """The collection's features in PostGIS: id (as text) → geometry."""
    layer = load_layers()[name]
    with session_scope(database_url) as session:
        rows = session.execute(text(
            f"select t.{layer.id_column}::text as id, ST_AsBinary(t.{layer.geometry}) as wkb "
            f"from {layer.table} t where {layer.where}")).all()
    return {r.id: shapely.from_wkb(r.wkb) for r in rows}


def _ids(features: list[dict]) -> list[str]:
    return [str(f["attributes"]["id"]) for f in features]


def test_the_browser_lists_the_public_collections_and_with_a_key_its_own(seen):
    assert seen["qgis"].startswith("3.")
    assert seen["listed"]["anonymous"] == sorted(PUBLIC.split(","))
    # listed after the key-less listing, by the same QGIS: nothing reused from its cache
    assert seen["listed"]["key"] == sorted([*PUBLIC.split(","), "facilities"])


def test_every_feature_lands_where_postgis_has_it(seen, database_url):
    """Each collection read whole: the database's ids, each once, in CRS84 (EPSG:4326 for
    QGIS: CGCS2000 and WGS 84 agree to well under a metre), each geometry within 1e-6° of
    the stored one (GeoJSON carries 7 decimals)."""
    assert set(seen["collections"]) == {*PUBLIC.split(","), "facilities"}
    for name, layer in seen["collections"].items():
        assert layer["valid"], name
        assert layer["crs"] == "EPSG:4326", (name, layer["crs"])
        stored = _stored(database_url, name)
        ids = _ids(layer["features"])
        assert len(ids) == len(set(ids)) == len(stored) and set(ids) == set(stored), name
        for feature, fid in zip(layer["features"], ids):
            got = shapely.from_wkt(feature["wkt"])
            assert got.geom_type == stored[fid].geom_type, (name, fid)
            assert shapely.hausdorff_distance(got, stored[fid]) < 1e-6, (name, fid)


def _texts(database_url: str, sql: str) -> dict[str, str]:
    with session_scope(database_url) as session:
        return {str(k): v for k, v in session.execute(text(sql)).all()}


@pytest.mark.parametrize("collection, field, sql", [
    ("districts", "name", "select code, name from district"),
    ("streets", "name", "select code, name from street"),
    ("communities", "name", "select code, name from community"),
    ("water", "name", "select id, name from water"),
    ("incidents", "description", "select id, description from incident"),
    ("grids", "community_name", "select g.code, c.name from grid g join community c "
                                "on c.code = g.community_code where g.valid_to is null"),
])
def test_chinese_text_arrives_intact(seen, database_url, collection, field, sql):
    want = _texts(database_url, sql)
    got = {str(f["attributes"]["id"]): f["attributes"][field]
           for f in seen["collections"][collection]["features"]}
    assert got == want
    assert any("\u4e00" <= ch <= "\u9fff" for value in got.values() if value for ch in value)


def test_times_show_the_clock_time_of_the_district(seen, database_url):
    """QGIS 3.22 drops a time's offset and shows the clock time as written: gridmap writes
    it in the timezone setting, so a QGIS in China shows the right time."""
    with session_scope(database_url) as session:
        want = dict(session.execute(text("select id, reported_at from incident")).all())
    features = seen["collections"]["incidents"]["features"]
    assert len(features) == len(want) and want
    for f in features:
        local = want[f["attributes"]["id"]].astimezone(ZoneInfo(ZONE))
        shown = dt.datetime.fromisoformat(f["attributes"]["reported_at"])
        # QGIS keeps milliseconds and may cut the last one (…59.521 shown as …59.520)
        assert abs(shown - local.replace(tzinfo=None)) <= dt.timedelta(milliseconds=1)


def test_a_keyed_collection_needs_the_key_as_basic_credentials(seen, database_url):
    want = len(_stored(database_url, "facilities"))
    assert len(seen["collections"]["facilities"]["features"]) == want and want
    assert seen["authcfg"]["count"] == want  # an authentication configuration of method Basic
    assert all(r["authorization"] for r in seen["authcfg"]["requests"])
    assert seen["anonymous_keyed"] == {"valid": False}  # no key, no layer: not even cached
    assert seen["refused"] == {"valid": False}  # devices: not the key's


def test_a_map_extent_is_asked_of_the_server_as_a_bbox(seen, database_url):
    box = shapely.box(*seen["bbox"]["rectangle"])
    want = sorted(k for k, g in _stored(database_url, "buildings").items() if g.intersects(box))
    assert sorted(str(i) for i in seen["bbox"]["ids"]) == want and want
    assert any("bbox=" in r["url"] for r in seen["bbox"]["requests"])


def test_a_subset_string_selects_the_features_sql_selects(seen, database_url):
    """QGIS 3.22 filters on its side (OAPIF Part 3 arrived in later QGIS): whether it asks the
    server or not, the features are those of the same condition in SQL."""
    assert seen["subset"]["expression"] == "\"households\" > 50 AND \"use\" = 'residential'"
    with session_scope(database_url) as session:
        want = sorted(session.execute(text(
            "select id from building where households > 50 and use = 'residential'")).scalars())
    assert seen["subset"]["accepted"]
    assert sorted(seen["subset"]["ids"]) == want and want


def test_small_pages_are_followed_to_the_last(seen, database_url):
    size = seen["paging"]["page_size"]
    stored = _stored(database_url, "buildings")
    ids = [str(i) for i in seen["paging"]["ids"]]
    assert len(ids) == len(set(ids)) == len(stored) and set(ids) == set(stored)
    pages = [r["url"] for r in seen["paging"]["requests"] if f"limit={size}" in r["url"]]
    assert len(pages) == -(-len(stored) // size)
    assert all("after=" in url for url in pages[1:])
