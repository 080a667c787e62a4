"""Draft plans over HTTP: a planner drafts from GeoJSON and sees the comparison; applying needs
a comment, refuses a broken draft (422) and a stale one (409 naming who changed the grids);
grid history and the grid that held a place on a date."""
from __future__ import annotations

import shapely
from shapely.geometry import mapping
from sqlalchemy import text

from gridmap.db import session_scope
from tests.conftest import sign_in
from tests.webapp.signin import csrf_token


def _planner(app):
    client = app.test_client()
    sign_in(client, "t-planner")
    return client, {"X-CSRFToken": csrf_token(client)}


def _version(client, community) -> int:
    return client.get(f"/api/plans?community={community}").get_json()["version"]


def _community_features(database_url, community, merge_first_two=False):
    with session_scope(database_url) as session:
        rows = session.execute(text(
            "select kind, name, ST_AsBinary(geom) from grid where community_code = :c "
            "and valid_to is null order by code"), {"c": community}).all()
    shapes = [(kind, name, shapely.from_wkb(bytes(wkb))) for kind, name, wkb in rows]
    if merge_first_two:
        (_, _, a), (_, _, b), *rest = shapes
        shapes = [("residential", None, shapely.union(a, b)), *rest]
    return [{"type": "Feature", "geometry": mapping(geom),
             "properties": {"kind": kind, "name": name}} for kind, name, geom in shapes]


def test_a_planner_drafts_and_applies_an_unchanged_plan(app, people, database_url):
    community = people["t-community"].scopes[0][1]
    client, headers = _planner(app)
    created = client.post("/api/plans", json={
        "community": community, "title": "as is", "base_version": _version(client, community),
        "features": _community_features(database_url, community)}, headers=headers)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "draft" and body["comparison"]["violations"] == []
    listed = client.get(f"/api/plans?community={community}").get_json()["plans"]
    assert body["id"] in [p["id"] for p in listed]
    no_comment = client.post(f"/api/plans/{body['id']}/apply", json={}, headers=headers)
    assert no_comment.status_code == 400 and "comment" in no_comment.get_json()["detail"]
    applied = client.post(f"/api/plans/{body['id']}/apply", json={"comment": "no change"},
                          headers=headers)
    assert applied.status_code == 200, applied.get_json()
    assert applied.get_json()["issued"] == [] and applied.get_json()["status"] == "applied"
    again = client.post(f"/api/plans/{body['id']}/apply", json={"comment": "again"},
                        headers=headers)
    assert again.status_code == 409


def test_a_broken_draft_is_422_and_a_stale_one_409(app, people, database_url):
    community = people["t-community"].scopes[0][1]
    client, headers = _planner(app)
    merged = client.post("/api/plans", json={
        "community": community, "base_version": _version(client, community),
        "features": _community_features(database_url, community, merge_first_two=True)},
        headers=headers).get_json()
    refused = client.post(f"/api/plans/{merged['id']}/apply", json={"comment": "merge"},
                          headers=headers)
    assert refused.status_code == 422 and "households" in refused.get_json()["detail"]
    drawn_from = _version(client, community)
    features = _community_features(database_url, community)
    same = client.post("/api/plans", json={"community": community, "features": features,
                                           "base_version": drawn_from},
                       headers=headers).get_json()
    with session_scope(database_url) as session:  # another planner's change, meanwhile
        session.execute(text(
            "insert into community_plan_version as v values (:c, 1, 'person:张规划', now()) "
            "on conflict (community_code) do update set version = v.version + 1, "
            "changed_by = 'person:张规划', changed_at = now()"), {"c": community})
    stale = client.post(f"/api/plans/{same['id']}/apply", json={"comment": "late"},
                        headers=headers)
    assert stale.status_code == 409 and "person:张规划 changed at" in stale.get_json()["detail"]
    # a draft drawn from the old version, saved after the change: refused when saved
    late = client.post("/api/plans", json={"community": community, "features": features,
                                           "base_version": drawn_from}, headers=headers)
    assert late.status_code == 409 and "person:张规划" in late.get_json()["detail"]


def _square(lon, lat, size, z=None):
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size],
            [lon, lat]]
    if z is not None:
        ring = [[x, y, z] for x, y in ring]
    return {"type": "Polygon", "coordinates": [ring]}


def test_a_draft_with_a_bad_feature_is_a_400(app, people, database_url):
    community = people["t-community"].scopes[0][1]
    client, headers = _planner(app)
    version = _version(client, community)
    inside = _community_features(database_url, community)[0]
    other = "420111002015" if community != "420111002015" else "420111002022"
    elsewhere = _community_features(database_url, other)[0]
    cases = (
        ([{"type": "Feature"}], "feature 1"),
        ([{"geometry": {"type": "Point", "coordinates": [114, 30]}}], "expected a polygon"),
        ("nope", "non-empty list"),
        ([{**inside, "properties": "x"}], "properties must be an object"),
        ([{**inside, "properties": [1]}], "properties must be an object"),
        ([{**inside, "properties": {"name": 7}}], "expected text of at most 100"),
        ([{**inside, "properties": {"name": "长" * 101}}], "expected text of at most 100"),
        ([{**inside, "properties": {"kind": ["unit"]}}], "expected one of residential"),
        ([{"geometry": _square(-1000, -1000, 2000)}], "outside longitude"),
        ([{"geometry": _square(1e300, 1e300, 1e300)}], "outside longitude"),
        ([{"geometry": _square(110, 25, 10)}], "lie outside community"),
        ([elsewhere], "lie outside community"),
    )
    for features, needle in cases:
        response = client.post("/api/plans", json={"community": community, "features": features,
                                                   "base_version": version}, headers=headers)
        assert response.status_code == 400, (needle, response.get_json())
        assert needle in response.get_json()["detail"], (needle, response.get_json())
    missing = client.post("/api/plans", json={"community": community, "features": [inside]},
                          headers=headers)
    assert missing.status_code == 400 and "base_version" in missing.get_json()["detail"]
    three_d = {**inside, "geometry": {"type": inside["geometry"]["type"], "coordinates": [
        [[x, y, 12.5] for x, y in ring] for ring in inside["geometry"]["coordinates"]]}} \
        if inside["geometry"]["type"] == "Polygon" else inside
    flat = client.post("/api/plans", json={"community": community, "features": [three_d],
                                           "base_version": version}, headers=headers)
    assert flat.status_code == 201


def test_out_of_range_ids_are_404s(client):
    from tests.webapp.signin import csrf_token as token

    assert client.get("/api/plans/99999999999999999999").status_code == 404
    revoke = client.post("/admin/keys/99999999999999999999/revoke",
                         data={"csrf_token": token(client, "/admin/keys")})
    assert revoke.status_code == 404


def test_history_and_grid_on_a_date(client, people, database_url):
    grid = people["t-worker-a"].scopes[0][1]
    assert client.get(f"/api/grids/{grid}/history").get_json()["code"] == grid
    with session_scope(database_url) as session:
        lon, lat = session.execute(text(
            "select ST_X(p), ST_Y(p) from (select ST_PointOnSurface(geom) p from grid "
            "where code = :c) x"), {"c": grid}).one()
    today = client.get(f"/api/grids?at=2099-12-31&lon={lon}&lat={lat}").get_json()
    assert today["code"] == grid
    assert client.get(f"/api/grids?at=2000-01-01&lon={lon}&lat={lat}").status_code == 404
    assert client.get(f"/api/grids?at=2000-01-01&lon=east&lat={lat}").status_code == 400
    assert client.get("/api/grids/420111002022099/history").status_code == 404
    assert client.get("/api/grids/420111999999999/history").status_code == 400
