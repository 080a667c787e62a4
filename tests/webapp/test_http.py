"""HTTP details: Allow, OPTIONS, no redirect off the path, security headers, no SQL published."""
from __future__ import annotations

import json
import re

import pytest

from webapp.auth import access
from webapp.headers import SECURITY_HEADERS


def test_405_keeps_allow_and_says_what_is_allowed(client):
    response = client.post("/api/layers")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    body = response.get_json()
    assert set(body) == {"error", "detail"}
    assert "POST is not allowed on /api/layers" in body["detail"] and "GET" in body["detail"]


@pytest.mark.parametrize("url", ["/api/layers", "/api/grids/420111002023001", "/"])
def test_options_is_204_with_allow(client, url):
    response = client.options(url)
    assert response.status_code == 204 and response.data == b""
    assert "GET" in response.headers["Allow"] and "Content-Type" not in response.headers


@pytest.mark.parametrize("url", ["/api/layers/grids%2F/features", "/api/layers//grids/features",
                                 "/api//layers"])
def test_no_redirect_built_from_the_host_header(client, url):
    response = client.get(url, headers={"Host": "evil.example"})
    assert response.status_code == 404 and "Location" not in response.headers
    assert set(response.get_json()) == {"error", "detail"}


def test_routing_redirects_are_relative(app):
    @app.get("/api/folder/")
    @access("public")
    def folder():
        return {}

    response = app.test_client().get("/api/folder?x=1", headers={"Host": "evil.example"})
    assert response.status_code == 308
    assert response.headers["Location"] == "/api/folder/?x=1"


@pytest.mark.parametrize("method, url", [
    ("GET", "/"), ("GET", "/api/layers"), ("GET", "/api/nope"), ("GET", "/nope"),
    ("POST", "/api/layers"), ("GET", "/static/gridmap.css"), ("OPTIONS", "/api/layers"),
    ("GET", "/api/grids?community=%00"),
])
def test_security_headers_on_every_response(client, method, url):
    response = client.open(url, method=method)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, url)
    csp = dict(part.strip().split(" ", 1) for part in
               response.headers["Content-Security-Policy"].split(";"))
    assert csp["default-src"] == "'self'" and csp["frame-ancestors"] == "'none'"
    assert all("unsafe" not in v and "*" not in v and "http" not in v for v in csp.values())


def test_api_errors_are_not_cached_but_data_may_be(client):
    assert client.get("/api/nope").headers["Cache-Control"] == "no-store"
    assert client.get("/api/grids?community=%00").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/api/layers").headers.get("Cache-Control", "")


def test_map_page_has_no_inline_script_or_style(client):
    html = client.get("/").get_data(as_text=True)
    for match in re.finditer(r"<script\b([^>]*)>(.*?)</script>", html, re.S):
        attrs, body = match.groups()
        assert "src=" in attrs or 'type="application/json"' in attrs, attrs
    assert "<style" not in html and " style=" not in html and "onclick" not in html


def _keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def test_layer_descriptions_publish_no_sql(client, app):
    described = client.get("/api/layers").get_json()
    page = client.get("/").get_data(as_text=True)
    embedded = json.loads(re.search(r'<script id="map-config" type="application/json">'
                                    r'(.*?)</script>', page, re.S).group(1))["layers"]
    for layers in (described, embedded):
        assert {"sql", "table", "where", "id", "geometry", "kind"}.isdisjoint(_keys(layers))
        text = json.dumps(layers, ensure_ascii=False).lower()
        for fragment in ("select ", "st_", "t.valid_to", "::"):
            assert fragment not in text, fragment
        for layer in layers:
            assert all(set(f) == {"name", "label"} for f in layer["fields"])
    grids = next(layer for layer in described if layer["name"] == "grids")
    assert "community_name" in [f["name"] for f in grids["fields"]]
    assert grids["filters"] == ["community", "district", "kind", "street"]
