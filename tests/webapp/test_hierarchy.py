"""The hierarchy the map's chooser browses (/api/hierarchy), the map page's URL parameters,
and the layer definitions the map draws (roads and water, labels)."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from gridmap.errors import InvalidInput
from gridmap.units import resolve_selection
from webapp.views.pages import parse_view


def test_root_lists_the_districts_with_their_extent(client):
    body = client.get("/api/hierarchy").get_json()
    assert body["level"] == "root"
    (district,) = body["children"]
    assert (district["code"], district["level"]) == ("420111", "district")
    west, south, east, north = district["bbox"]
    assert 114.38 < west < east < 114.41 and 30.50 < south < north < 30.52
    assert district["households"] == 5665


def test_a_unit_has_its_parents_and_children(client):
    street = client.get("/api/hierarchy/420111002").get_json()
    assert street["name"] == "关山街道" and [p["code"] for p in street["parents"]] == ["420111"]
    assert [c["code"] for c in street["children"]] == [
        "420111002015", "420111002022", "420111002023", "420111002046"]
    assert sum(c["households"] for c in street["children"]) == street["households"]
    community = client.get("/api/hierarchy/420111002022").get_json()
    assert [p["level"] for p in community["parents"]] == ["district", "street"]
    grids = community["children"]
    assert {g["kind"] for g in grids} == {"residential", "unit"}
    assert {g["name"] for g in grids if g["kind"] == "unit"} == {"华美达大酒店", "光谷广场地铁站"}
    for grid in grids:
        west, south, east, north = grid["bbox"]
        cw, cs, ce, cn = community["bbox"]
        eps = 1e-9  # degrees; extents are computed per unit
        assert cw - eps <= west < east <= ce + eps and cs - eps <= south < north <= cn + eps


@pytest.mark.parametrize("url, status, needle", [
    ("/api/hierarchy/42011", 400, "expected 6 digits (district), 9 (street) or 12"),
    ("/api/hierarchy/4201110020010", 400, "expected 6 digits"),
    ("/api/hierarchy/42011１", 400, "expected 6 digits"),  # a full-width digit
    ("/api/hierarchy/110101", 404, "district 110101 is not loaded"),
    ("/api/hierarchy/420111099", 404, "street 420111099 is not loaded"),
])
def test_hierarchy_errors_are_json(client, url, status, needle):
    response = client.get(url)
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error", "detail"} and needle in body["detail"]


@pytest.mark.parametrize("query, status, needle", [
    ("?district=42011", 400, "expected 6 digits"),
    ("?street=420111", 400, "street &#39;420111&#39;: expected 9 digits"),
    ("?district=420111&street=320508002", 400, "does not belong to district 420111"),
    ("?district=110101", 404, "district 110101 is not loaded"),
    ("?community=420111002009", 404, "community 420111002009 is not loaded"),
    ("?map=16/30.5", 400, "expected zoom/lat/lon"),
    ("?map=30/30.5/114.4", 400, "zoom 0–22"),
    ("?map=16/nan/114.4", 400, "expected zoom/lat/lon"),
])
def test_map_page_refuses_bad_parameters_with_a_page(client, query, status, needle):
    response = client.get("/" + query)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert "<html" in html and needle in html


def test_map_page_passes_the_choice_to_the_script(client):
    html = client.get("/?district=420111&street=420111002&map=16.5/30.508/114.395"
                      ).get_data(as_text=True)
    assert '"unit": "420111002"' in html and '"view": [16.5, 30.508, 114.395]' in html
    assert 'type="module"' in html and "/static/js/main.js" in html
    assert "/static/vendor/rbush/rbush.min.js" in html


def test_static_assets_are_local_and_licensed(client):
    html = client.get("/").get_data(as_text=True)
    assert "http://" not in html and "https://" not in html
    for path in ("js/main.js", "js/labels.js", "js/layers.js", "js/chooser.js", "js/panel.js",
                 "js/style.js", "js/util.js", "vendor/rbush/rbush.min.js",
                 "vendor/rbush/LICENSE", "vendor/rbush/LICENSE.quickselect"):
        response = client.get(f"/static/{path}")
        assert response.status_code == 200, path
        if path.startswith("js/"):
            text = response.get_data(as_text=True)
            assert "http://" not in text and "https://" not in text, path


def test_roads_and_water_layers_are_described_and_served(client):
    layers = {l["name"]: l for l in client.get("/api/layers").get_json()}
    assert layers["roads"]["min_zoom"] == 14 and layers["roads"]["style"]["interactive"] is False
    assert layers["water"]["order"] < layers["roads"]["order"] < layers["grids"]["order"]
    assert "district" in layers["roads"]["filters"] and "district" in layers["water"]["filters"]
    roads = client.get("/api/layers/roads/features?district=420111").get_json()
    assert len(roads["features"]) == 210
    assert {f["geometry"]["type"] for f in roads["features"]} == {"MultiLineString"}
    tunnels = [f for f in roads["features"] if f["properties"]["tunnel"]]
    assert tunnels and all(isinstance(f["properties"]["bridge"], bool) for f in tunnels)
    water = client.get("/api/layers/water/features?district=420111").get_json()
    assert [f["properties"]["name"] for f in water["features"]] == ["叠翠湖"]
    none = client.get("/api/layers/roads/features?district=320508").get_json()
    assert none["features"] == []


def test_grid_labels_offer_variants_by_kind(client):
    grids = {l["name"]: l for l in client.get("/api/layers").get_json()}["grids"]
    label = grids["label"]
    assert label["by"] == "kind"
    assert all("户" not in v for v in label["variants"]["unit"])
    assert all(v[-1] == "{sequence}" for v in label["variants"].values())
    feature = client.get("/api/grids/420111002023001").get_json()
    assert isinstance(feature["properties"]["sequence"], int)
    lon, lat = feature["properties"]["label_point"]
    assert 114.38 < lon < 114.41 and 30.50 < lat < 30.52


@given(st.floats(0, 22), st.floats(-90, 90), st.floats(-180, 180))
def test_any_view_in_range_round_trips(zoom, lat, lon):
    assert parse_view(f"{zoom!r}/{lat!r}/{lon!r}") == [zoom, lat, lon]


@given(st.from_regex(r"[0-9]{6}", fullmatch=True), st.from_regex(r"[0-9]{3}", fullmatch=True),
       st.from_regex(r"[0-9]{3}", fullmatch=True))
def test_a_selection_is_its_deepest_code(district, street, community):
    assert resolve_selection(district) == district
    assert resolve_selection(district, district + street) == district + street
    assert resolve_selection(None, None, district + street + community) == \
        district + street + community
    assert resolve_selection(district, None, district + street + community) == \
        district + street + community
    other = str((int(district[0]) + 1) % 10) + district[1:]
    with pytest.raises(InvalidInput, match="does not belong to"):
        resolve_selection(other, district + street)


def test_a_grid_worker_is_told_only_the_households_of_their_own_grid(app, people):
    from tests.conftest import sign_in

    client = app.test_client()
    sign_in(client, "t-worker-a")
    grid = people["t-worker-a"].scopes[0][1]
    tree = client.get(f"/api/hierarchy/{grid[:12]}").get_json()
    assert [c["code"] for c in tree["children"]] == [grid]
    own = tree["children"][0]["households"]
    assert tree["households"] == own
    assert all(p["households"] == own for p in tree["parents"])
    root = client.get("/api/hierarchy").get_json()
    assert [d["households"] for d in root["children"]] == [own]


def test_the_community_layer_counts_only_the_workers_households(app, people):
    from tests.conftest import sign_in

    client = app.test_client()
    sign_in(client, "t-worker-a")
    grid = people["t-worker-a"].scopes[0][1]
    own = client.get(f"/api/grids/{grid}").get_json()["properties"]["households"]
    communities = client.get("/api/layers/communities/features").get_json()["features"]
    assert [(c["id"], c["properties"]["households"]) for c in communities] == [(grid[:12], own)]
    admin = app.test_client()
    sign_in(admin, "t-admin")
    everything = admin.get(f"/api/layers/communities/features/{grid[:12]}").get_json()
    assert everything["properties"]["households"] > own
