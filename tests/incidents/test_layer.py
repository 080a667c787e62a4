"""Incidents as a map layer: the feature API gives them as points with stage, age band and
overdue flag, cut to the caller's grids like every layer."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from gridmap.auth.scope import Scope
from gridmap.db import session_scope
from gridmap.incidents.service import report_incident
from tests.conftest import sign_in


def test_incidents_are_a_layer_cut_to_the_callers_grids(app, people, database_url):
    a = people["t-worker-a"].scopes[0][1]
    b = people["t-worker-b"].scopes[0][1]
    made = {}
    with session_scope(database_url) as session:
        for code in (a, b):
            lon, lat = session.execute(text(
                "select ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
                "from grid where code = :c"), {"c": code}).one()
            made[code] = report_incident(
                session, Scope.for_person("t-admin", "administrator", ()), class_code="0101",
                lon=lon, lat=lat, description="layer test",
                now=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3)).id
    client = app.test_client()
    sign_in(client, "t-worker-a")
    answer = client.get("/api/layers/incidents/features?stage=reported")
    assert answer.status_code == 200
    found = {f["id"]: f for f in answer.get_json()["features"]}
    assert made[a] in found and made[b] not in found
    mine = found[made[a]]
    assert mine["geometry"]["type"] == "Point"
    assert (mine["properties"]["stage"], mine["properties"]["age"],
            mine["properties"]["overdue"], mine["properties"]["grid_code"]) == \
        ("reported", "week", False, a)
    layers = client.get("/api/layers").get_json()
    assert "incidents" in [layer["name"] for layer in layers]
