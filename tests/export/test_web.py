"""``GET /api/export/<layer>``: the file as an attachment, its CRS named, the caller's scope
kept; bad parameters a 400 naming what is allowed."""
from __future__ import annotations

import pyogrio
import pytest

from tests.conftest import sign_in


def test_download_is_the_file_with_its_crs(client, tmp_path):
    response = client.get("/api/export/grids?format=fgb&crs=EPSG:4547"
                          "&community=420111002015")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.flatgeobuf"
    assert response.headers["Content-Disposition"] == "attachment; filename=grids.fgb"
    assert response.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4547>"
    path = tmp_path / "grids.fgb"
    path.write_bytes(response.get_data())
    info = pyogrio.read_info(path)
    assert info["crs"] == "EPSG:4547"
    assert info["features"] == int(response.headers["X-Feature-Count"]) > 1
    csv = client.get("/api/export/buildings?format=csv&district=420111")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert csv.headers["Content-Crs"].endswith("/EPSG/0/4490>")
    assert csv.get_data(as_text=True).lstrip("\ufeff").startswith("WKT,id,name")


def test_a_grid_worker_downloads_only_their_grid(app, people, tmp_path):
    client = app.test_client()
    sign_in(client, "t-worker-a")
    response = client.get("/api/export/grids?format=gpkg")
    path = tmp_path / "mine.gpkg"
    path.write_bytes(response.get_data())
    assert pyogrio.read_info(path)["features"] == 1


@pytest.mark.parametrize("query,expected", [
    ("/api/export/grids?format=dwg", "expected one of geojson, gpkg"),
    ("/api/export/grids?crs=EPSG:27700", "EPSG:4534…EPSG:4554"),
    ("/api/export/grids?format=kml&crs=EPSG:3857", "EPSG:4326 only"),
    ("/api/export/grids?bbox=114.5,30,114.4,31", "min ≤ max"),
    ("/api/export/grids?bbox=114,30,114.1", "minlon,minlat,maxlon,maxlat"),
    ("/api/export/grids?community=42011100201", "community"),
    ("/api/export/grids?format=gpkg&format=shp", "given 2 times"),
    ("/api/export/grids?street=420111002&district=420111", "at most one of"),
])
def test_bad_parameters_are_400_naming_what_is_allowed(client, query, expected):
    response = client.get(query)
    assert response.status_code == 400
    body = response.get_json()
    assert set(body) == {"error", "detail"} and expected in body["detail"], body


def test_unknown_layer_lists_the_known_ones(client):
    response = client.get("/api/export/nope")
    assert response.status_code == 404 and "grids" in response.get_json()["detail"]
