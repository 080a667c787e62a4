"""The incident API's lists and counts for the map's panels: a grid's open incidents, counts
per grid and department of a unit, and the actions offered to the caller."""
from __future__ import annotations

from sqlalchemy import text

from gridmap.db import session_scope
from tests.conftest import sign_in
from tests.webapp.signin import csrf_token


def _place(database_url, grid):
    with session_scope(database_url) as session:
        return session.execute(text(
            "select community_code, ST_X(ST_PointOnSurface(geom)), "
            "ST_Y(ST_PointOnSurface(geom)) from grid where code = :g"), {"g": grid}).one()


def test_a_grids_open_incidents_and_its_counts(app, client, people, database_url):
    grid = people["t-worker-a"].scopes[0][1]
    community, lon, lat = _place(database_url, grid)
    headers = {"X-CSRFToken": csrf_token(client, "/")}
    body = {"class": "0401", "lon": lon, "lat": lat, "description": "counts test"}
    kept = client.post("/api/incidents", json=body, headers=headers).get_json()
    gone = client.post("/api/incidents", json=body, headers=headers).get_json()
    assert kept["your_actions"] == ["register", "reject"]  # an administrator may do all
    rejected = client.post(f"/api/incidents/{gone['id']}/actions", headers=headers,
                           json={"action": "reject", "expected_stage": "reported"})
    assert rejected.status_code == 200 and rejected.get_json()["your_actions"] == []
    listed = client.get(f"/api/incidents?grid={grid}&open=1").get_json()["incidents"]
    ids = {i["id"] for i in listed}
    assert kept["id"] in ids and gone["id"] not in ids
    assert all(i["grid"] == grid and i["stage"] not in ("closed", "rejected") for i in listed)
    counts = client.get(f"/api/incidents/counts?unit={community}").get_json()
    by_grid = {g["grid"]: g for g in counts["grids"]}
    assert by_grid[grid]["open"] == len(listed)
    assert counts["open"] == sum(g["open"] for g in counts["grids"])
    undispatched = [d for d in counts["departments"] if d["department"] is None]
    assert undispatched and undispatched[0]["open"] >= 1
    # the worker of grid B sees no count of grid A
    worker_b = app.test_client()
    sign_in(worker_b, "t-worker-b")
    theirs = worker_b.get(f"/api/incidents/counts?unit={community}").get_json()
    assert grid not in {g["grid"] for g in theirs["grids"]}
    assert worker_b.get(f"/api/incidents?grid={grid}").get_json()["incidents"] == []


def test_bad_list_parameters_are_named(client):
    response = client.get("/api/incidents?open=yes")
    assert response.status_code == 400
    assert "open 'yes': expected 1 or 0" in response.get_json()["detail"]
