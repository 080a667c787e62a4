"""Facilities as a map layer: the feature API gives them as points with class, state and
grid code, cut to the caller's grids like every layer; retired ones are not drawn."""
from __future__ import annotations

from gridmap.auth.scope import Scope
from gridmap.db import session_scope
from gridmap.facilities.service import create_facility, retire_facility
from tests.conftest import sign_in
from tests.facilities.conftest import grid_point


def test_facilities_are_a_layer_cut_to_the_callers_grids(app, people, database_url):
    a = people["t-worker-a"].scopes[0][1]
    b = people["t-worker-b"].scopes[0][1]
    admin = Scope.for_person("t-admin", "administrator", ())
    made = {}
    with session_scope(database_url) as session:
        for code in (a, b):
            lon, lat = grid_point(session, code)
            made[code] = create_facility(session, admin, class_code="0302", lon=lon, lat=lat,
                                         state="occupied").id
        gone = create_facility(session, admin, class_code="0302", lon=lon, lat=lat,
                               state="occupied").id
        retire_facility(session, admin, gone)
    client = app.test_client()
    sign_in(client, "t-worker-a")
    answer = client.get("/api/layers/facilities/features?state=occupied&class=0302")
    assert answer.status_code == 200
    found = {f["id"]: f for f in answer.get_json()["features"]}
    assert made[a] in found and made[b] not in found and gone not in found
    mine = found[made[a]]
    assert mine["geometry"]["type"] == "Point"
    assert (mine["properties"]["class_name"], mine["properties"]["state"],
            mine["properties"]["grid_code"]) == ("果皮箱", "occupied", a)
    assert "facilities" in [layer["name"] for layer in client.get("/api/layers").get_json()]
    one = client.get(f"/api/layers/facilities/features/{made[a]}")
    assert one.status_code == 200 and one.get_json()["id"] == made[a]
