"""The JSON API and the error handler."""
from __future__ import annotations

import pytest

from webapp.auth import access

from gridmap.codes import parse


def test_districts_is_a_feature_collection(client):
    body = client.get("/api/districts").get_json()
    assert body["type"] == "FeatureCollection"
    assert [f["properties"]["code"] for f in body["features"]] == ["420111"]
    ring = body["features"][0]["geometry"]["coordinates"][0][0]
    lon, lat = ring[0]
    assert 114.3 < lon < 114.5 and 30.4 < lat < 30.6  # lon, lat order (RFC 7946)


def test_grids_of_a_community(client):
    body = client.get("/api/grids?community=420111002022").get_json()
    codes = [f["properties"]["code"] for f in body["features"]]
    assert codes and all(c.startswith("420111002022") for c in codes)
    assert codes == sorted(codes)
    for feature in body["features"]:
        props = feature["properties"]
        parse(props["code"])
        assert props["kind"] in ("residential", "unit")
        assert props["area_m2"] > 0
        if props["kind"] == "residential":
            assert 250 <= props["households"] <= 500


def test_one_grid(client):
    body = client.get("/api/grids/420111002023001").get_json()
    assert body["type"] == "Feature" and body["id"] == "420111002023001"
    assert body["properties"]["community_name"] == "鲁磨路社区"
    assert body["properties"]["building_count"] >= 1


@pytest.mark.parametrize("url, status, needle", [
    ("/api/grids/42011100202300x", 400, "character 15"),
    ("/api/grids/420111605001001", 400, "street '605'"),
    ("/api/grids/420111002023999", 404, "no active grid has code 420111002023999"),
    ("/api/grids", 400, "give exactly one of"),
    ("/api/grids?community=12", 400, "expected 12 digits"),
    ("/api/grids?district=４２０１１１", 400, "character 1 is '４'"),
    ("/api/grids?community=420111002099", 404, "community 420111002099 is not loaded"),
    ("/api/grids?community=420111002023&limit=0", 400, "limit '0'"),
    ("/api/layers/nope/features", 404, "no layer 'nope'"),
    ("/api/layers/grids/features?bbox=a,b,c,d", 400, "expected four numbers"),
    ("/api/layers/grids/features?colour=red", 400, "has no filter 'colour'"),
    ("/api/no/such/path", 404, ""),
])
def test_client_errors_are_json(client, url, status, needle):
    response = client.get(url)
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error", "detail"} and needle in body["detail"]


def test_bbox_query_limits_features(client):
    everything = client.get("/api/layers/buildings/features").get_json()
    corner = client.get("/api/layers/buildings/features?bbox=114.383,30.500,114.390,30.505"
                        ).get_json()
    assert 0 < len(corner["features"]) < len(everything["features"])
    capped = client.get("/api/layers/buildings/features?limit=5").get_json()
    assert len(capped["features"]) == 5 and capped["truncated"] is True


def test_label_points_carry_what_the_label_reads(client):
    """One point per grid in the bbox, at its label point, with the label's fields and its
    priority (area) only: the map labels the tiled grids from these."""
    grids = {f["id"]: f for f in client.get(
        "/api/layers/grids/features?district=420111").get_json()["features"]}
    body = client.get("/api/layers/grids/labels?district=420111").get_json()
    assert body["type"] == "FeatureCollection" and body["truncated"] is False
    assert {f["id"] for f in body["features"]} == set(grids)
    for feature in body["features"]:
        grid = grids[feature["id"]]["properties"]
        assert feature["geometry"] == {"type": "Point", "coordinates": grid["label_point"]}
        assert set(feature["properties"]) == {"kind", "name", "code", "households", "sequence",
                                              "area_m2"}
        assert all(feature["properties"][k] == grid[k] for k in feature["properties"])
    corner = client.get("/api/layers/grids/labels?bbox=114.383,30.500,114.390,30.505"
                        ).get_json()
    assert 0 < len(corner["features"]) < len(body["features"])
    capped = client.get("/api/layers/grids/labels?limit=2").get_json()
    assert len(capped["features"]) == 2 and capped["truncated"] is True
    none = client.get("/api/layers/roads/labels")
    assert none.status_code == 404 and "no labels" in none.get_json()["detail"]


def test_layers_describe_without_sql(client):
    layers = client.get("/api/layers").get_json()
    assert [l["name"] for l in layers] == ["water", "roads", "grids", "buildings",
                                            "communities", "streets", "districts",
                                            "facilities", "incidents", "devices"]
    assert all("table" not in l and "where" not in l for l in layers)


def test_html_error_page_is_not_json(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and b"<html" in response.data


def test_map_page_uses_only_local_assets(client):
    html = client.get("/").get_data(as_text=True)
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert "http://" not in html and "https://" not in html
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200
    js = client.get("/static/gridmap.js").get_data(as_text=True)
    assert "http" not in js


def test_unreachable_database_is_503():
    from webapp import create_app

    app = create_app({"database_url": "postgresql://postgres@127.0.0.1:1/nowhere"})
    response = app.test_client().get("/api/grids?community=420111002023")
    assert response.status_code == 503
    assert response.get_json()["error"] == "database unavailable"


def test_unexpected_error_hides_the_traceback(app):
    @app.get("/api/boom")
    @access("public")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/api/boom")
    assert response.status_code == 500
    assert "secret" not in response.get_data(as_text=True)


def test_one_feature_by_id_uses_the_column_type(client, db):
    from sqlalchemy import text

    building = db.execute(text("select id from building order by id limit 1")).scalar()
    found = client.get(f"/api/layers/buildings/features/{building}")
    assert found.status_code == 200 and found.get_json()["id"] == building
    for bad in ("abc", "99999999999999999999", "-1"):
        missing = client.get(f"/api/layers/buildings/features/{bad}")
        assert missing.status_code == 404 and missing.get_json()["error"] == "not found"
    code = db.execute(text("select code from grid where valid_to is null limit 1")).scalar()
    assert client.get(f"/api/layers/grids/features/{code}").get_json()["id"] == code
