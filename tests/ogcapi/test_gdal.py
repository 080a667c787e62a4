"""GDAL's OAPIF driver (Debian gdal-bin: ogrinfo, ogr2ogr) against a live ``gridmap serve``:
the service as QGIS and other agencies' tools read it, with no adaptation on their side."""
from __future__ import annotations

import os
import shutil
import subprocess

import pyogrio
import shapely
from sqlalchemy import text

from gridmap.db import session_scope
from layers import load_layers
from tests.ogcapi.conftest import PUBLIC



def _gdal(*args: str, key: str | None = None, tmp_path=None) -> subprocess.CompletedProcess:
    assert shutil.which(args[0]), f"{args[0]} missing: scripts/install-system.sh test"
    env = {**os.environ, "CPL_DEBUG": "ON", "GDAL_HTTP_TIMEOUT": "60"}
    if key is not None:
        headers = tmp_path / "headers.txt"
        headers.write_text(f"X-API-Key: {key}\n")
        env["GDAL_HTTP_HEADER_FILE"] = str(headers)
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _layers_listed(output: str) -> set[str]:
    return {line.split(": ", 1)[1].split(" (", 1)[0] for line in output.splitlines()
            if line[:1].isdigit() and ": " in line}


def test_ogrinfo_lists_every_collection(live, keys, tmp_path):
    public = _gdal("ogrinfo", "-ro", "-so", f"OAPIF:{live}/ogcapi").stdout
    assert _layers_listed(public) == set(PUBLIC.split(","))
    keyed = _gdal("ogrinfo", "-ro", "-so", f"OAPIF:{live}/ogcapi", key=keys["facilities"],
                  tmp_path=tmp_path).stdout
    assert _layers_listed(keyed) == set(PUBLIC.split(",")) | {"facilities"}
    assert len(load_layers()) == len(PUBLIC.split(",")) + 2  # facilities and devices too


def _count(database_url: str, sql: str, **params) -> int:
    with session_scope(database_url) as session:
        return session.execute(text(sql), params).scalar()


def test_ogr2ogr_pages_through_a_collection_into_a_geopackage(live, database_url, tmp_path):
    out = tmp_path / "buildings.gpkg"
    done = _gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{live}/ogcapi", "buildings",
                 "-oo", "PAGE_SIZE=40")
    pages = [line for line in done.stderr.splitlines() if "Fetch(" in line and "/items" in line]
    frame = pyogrio.read_dataframe(out)
    want = _count(database_url, "select count(*) from building")
    assert len(frame) == want and frame["id"].is_unique
    assert len(pages) >= want // 40  # it followed the next links
    with session_scope(database_url) as session:
        ids = set(session.execute(text("select id from building")).scalars())
    assert set(frame["id"]) == ids


def test_ogr2ogr_copies_every_public_collection_with_the_right_count(live, database_url,
                                                                    tmp_path):
    layers = load_layers()
    out = tmp_path / "all.gpkg"
    _gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{live}/ogcapi", "-oo", "PAGE_SIZE=1000")
    for name in PUBLIC.split(","):
        layer = layers[name]
        want = _count(database_url, f"select count(*) from {layer.table} t where {layer.where}")
        assert pyogrio.read_info(out, layer=name)["features"] == want, name


def test_a_bbox_through_gdal_equals_a_shapely_oracle(live, database_url, tmp_path):
    box = (114.385, 30.502, 114.395, 30.510)
    with session_scope(database_url) as session:
        want = sorted(r.id for r in session.execute(text(
            "select id, ST_AsBinary(footprint) as wkb from building"))
            if shapely.from_wkb(r.wkb).intersects(shapely.box(*box)))
    out = tmp_path / "bbox.gpkg"
    done = _gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{live}/ogcapi", "buildings",
                 "-spat", *map(str, box))
    assert any("bbox=" in line for line in done.stderr.splitlines())  # asked of the server
    assert sorted(pyogrio.read_dataframe(out)["id"]) == want and want


def test_a_where_clause_goes_to_the_server_as_cql2(live, database_url, tmp_path):
    out = tmp_path / "where.gpkg"
    done = _gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{live}/ogcapi", "buildings",
                 "-where", "households > 50 AND use = 'residential'")
    asked = [line for line in done.stderr.splitlines() if "filter=" in line]
    assert asked and "filter-lang=cql" in asked[0]
    want = _count(database_url, "select count(*) from building "
                                "where households > 50 and use = 'residential'")
    assert len(pyogrio.read_dataframe(out)) == want and want


def test_a_collection_needing_a_key_is_read_with_one(live, database_url, keys, tmp_path):
    out = tmp_path / "facilities.gpkg"
    _gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{live}/ogcapi/collections/facilities",
          key=keys["facilities"], tmp_path=tmp_path)
    want = _count(database_url, "select count(*) from facility where in_use")
    assert pyogrio.read_info(out)["features"] == want and want


def test_a_quote_written_twice_reaches_the_server_as_one(live, database_url, tmp_path):
    """GDAL writes a quote inside a text literal twice, as CQL2 text does: the server reads
    it (were it refused, ogr2ogr would stop with an error)."""
    out = tmp_path / "quoted.gpkg"
    done = _gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{live}/ogcapi", "buildings",
                 "-where", "use <> 'O''Brien''s' AND households > 50")
    asked = [line for line in done.stderr.splitlines() if "filter=" in line]
    assert asked and "O''Brien''s" in asked[0], asked
    want = _count(database_url, "select count(*) from building "
                                "where use <> 'O''Brien''s' and households > 50")
    assert len(pyogrio.read_dataframe(out)) == want and want
