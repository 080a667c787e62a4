"""Compressed answers (webapp/compression.py): each encoding a client accepts gives the same
document; nothing is compressed for a client that does not ask, nor twice, nor what is
streamed; every answer says it varies with Accept-Encoding."""
from __future__ import annotations

import gzip
import json
import zlib

import brotli
import pytest
from backports import zstd
from sqlalchemy import text

from gridmap.db import session_scope
from gridmap.tiles.tilemath import tile_of
from tests.ogcapi.conftest import items_url

DECODE = {"zstd": zstd.decompress, "br": brotli.decompress, "gzip": gzip.decompress,
          "deflate": zlib.decompress}
PAGE = items_url("buildings", limit="200")


def _document(body: bytes) -> dict:
    page = json.loads(body)
    page.pop("timeStamp", None)  # the second it was written
    return page


@pytest.mark.parametrize("encoding", sorted(DECODE))
def test_each_encoding_a_client_accepts_gives_the_same_page(ogc, encoding):
    plain = ogc.get(PAGE)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    packed = ogc.get(PAGE, headers={"Accept-Encoding": encoding})
    assert packed.status_code == 200
    assert packed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["Vary"] and "Accept-Encoding" in \
        plain.headers["Vary"]
    body = packed.get_data()
    assert int(packed.headers["Content-Length"]) == len(body) < len(plain.get_data()) / 3
    assert _document(DECODE[encoding](body)) == _document(plain.get_data())
    assert _document(plain.get_data())["numberReturned"] == 200


@pytest.mark.parametrize("accept, chosen", [
    ("gzip, deflate, br, zstd", "zstd"),  # Chromium
    ("deflate, gzip", "gzip"),  # curl as GDAL builds it without brotli or zstd
    ("gzip, deflate", "gzip"),  # Qt (QGIS)
    ("gzip;q=0.5, br;q=1.0", "br"),
    ("identity", None), ("compress", None),
    ("zstd;q=0", None), ("zstd;q=0, gzip", "gzip"), ("br;q=0.0, gzip;q=0.2", "gzip"),
])
def test_the_client_chooses_the_encoding(ogc, accept, chosen):
    response = ogc.get(PAGE, headers={"Accept-Encoding": accept})
    assert response.headers.get("Content-Encoding") == chosen


@pytest.mark.parametrize("path", [
    "/ogcapi/conformance?f=html", "/ogcapi/api", "/ogcapi/collections",
])
def test_documents_and_pages_are_compressed_too(ogc, path):
    response = ogc.get(path, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.get_data())


def test_a_small_answer_or_an_error_is_sent_as_it_is(ogc):
    small = ogc.get("/ogcapi/collections/roads/queryables", headers={"Accept-Encoding": "gzip"})
    assert small.status_code == 200 and len(small.get_data()) < 1024
    assert "Content-Encoding" not in small.headers
    error = ogc.get(items_url("buildings", limit="0"), headers={"Accept-Encoding": "gzip"})
    assert error.status_code == 400 and "Content-Encoding" not in error.headers
    assert error.get_json()["error"]


def test_a_stored_gzipped_tile_is_not_compressed_again(client, database_url):
    with session_scope(database_url) as session:
        lon, lat = session.execute(text(
            "select ST_X(c), ST_Y(c) from (select ST_Centroid(footprint) c from building "
            "order by id limit 1) b")).one()
    x, y = tile_of(lon, lat, 16)
    path = f"/tiles/buildings/16/{x}/{y}.mvt"
    plain = client.get(path)
    packed = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert plain.status_code == packed.status_code == 200
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()) == plain.get_data() != b""


def test_a_download_streams_as_it_is(client):
    response = client.get("/api/export/buildings?format=geojson&district=420111",
                          headers={"Accept-Encoding": "gzip, zstd"})
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert "Content-Encoding" not in response.headers
    assert json.loads(response.get_data())["features"]
