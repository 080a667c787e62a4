"""Request parameters are parsed at the edge: any text gets a 2xx/4xx JSON answer, never a 500."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

# Any text a URL can carry (UTF-8 cannot encode lone surrogates).
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
_ANSWERS = {200, 400, 404}


@pytest.mark.parametrize("url, needle", [
    ("/api/grids?community=420111002022&limit=%C2%B2", "limit '²'"),
    ("/api/grids?community=420111002022&limit=%D9%A3", "ASCII digits"),
    ("/api/layers/buildings/features?limit=%2B5", "limit '+5'"),
    ("/api/layers/grids/features?limit=99999999999999999999", "from 1 to 5000"),
    ("/api/layers/grids/features?kind=%00", "U+0000"),
    ("/api/layers/grids/features?kind=a%0Ab", "U+000A at position 2"),
    ("/api/layers/grids/features?%00=x", "parameter name"),
    ("/api/layers/grids/features/%00", "path segment feature_id"),
    ("/api/layers/buildings/features/1%00", "U+0000"),
    ("/api/grids/%00", "U+0000"),
    ("/api/grids?community=%EF%BC%94%EF%BC%92", "expected 12 ASCII digits"),
    ("/api/grids?community=%D9%A4%D9%A2%D9%A0%D9%A1%D9%A1%D9%A1%D9%A0%D9%A0%D9%A5%D9%A0"
     "%D9%A0%D9%A1", "expected 12 ASCII digits"),
    ("/api/layers/grids/features?bbox=%EF%BC%91,30,115,31", "expected four numbers"),
    ("/api/layers/grids/features?bbox=nan,30,115,31", "expected four numbers"),
    ("/api/layers/grids/features?bbox=1_0,30,115,31", "expected four numbers"),
    ("/api/layers/grids/features?kind=unit&kind=residential", "given 2 times"),
    ("/api/grids?community=420111002022&limit=5&limit=6", "given 2 times"),
])
def test_malformed_parameters_are_400(client, url, needle):
    response = client.get(url)
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error", "detail"} and needle in body["detail"]


def test_well_formed_parameters_still_work(client):
    body = client.get("/api/layers/grids/features?kind=unit&limit=3&bbox=114,30,115,31"
                      ).get_json()
    assert 0 < body["numberReturned"] <= 3
    assert all(f["properties"]["kind"] == "unit" for f in body["features"])
    assert client.get("/api/layers/buildings/features?bbox=114.3e0,30.4,114.5,30.6&limit=1"
                      ).status_code == 200


def _check(response):
    assert response.status_code in _ANSWERS, (response.status_code, response.get_data())
    if response.status_code >= 400:
        assert set(response.get_json()) == {"error", "detail"}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=_TEXT, name=st.sampled_from(["limit", "bbox", "kind", "community", "street",
                                          "district", "colour"]))
def test_any_parameter_value_is_answered(client, value, name):
    _check(client.get("/api/layers/grids/features", query_string={name: value}))
    _check(client.get("/api/grids", query_string={name: value}))
    _check(client.get("/api/hierarchy", query_string={name: value}))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segment=_TEXT.filter(lambda s: s not in ("", ".", "..")))
def test_any_path_segment_is_answered(client, segment):
    part = quote(segment, safe="")
    for url in (f"/api/layers/grids/features/{part}", f"/api/layers/buildings/features/{part}",
                f"/api/grids/{part}", f"/api/layers/{part}/features",
                f"/api/hierarchy/{part}"):
        _check(client.get(url))


@pytest.mark.parametrize("path", ["/login", "/api/plans", "/logout"])
@pytest.mark.parametrize("body", ['"x"', "[1, 2]", "3", "{not json", "null"])
def test_a_json_body_that_is_not_an_object_is_a_400(client, path, body):
    from tests.webapp.signin import csrf_token

    response = client.post(path, data=body, content_type="application/json",
                           headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code == 400
    assert "expected a JSON object" in response.get_data(as_text=True)


def test_a_control_character_in_a_form_field_is_a_400(anonymous):
    from tests.webapp.signin import csrf_token

    token = csrf_token(anonymous)
    response = anonymous.post("/login", data={"login": "a\x00b", "password": "x" * 12,
                                              "csrf_token": token})
    assert response.status_code == 400 and "U+0000" in response.get_data(as_text=True)


def test_a_body_over_the_limit_is_413_and_not_read(database_url):
    from webapp import create_app

    app = create_app({"database_url": database_url, "max_request_kib": 16})
    response = app.test_client().post("/login", data=b"{" + b" " * 40_000 + b"}",
                                      content_type="application/json")
    assert response.status_code == 413
