"""Hand edits over HTTP: preview (nothing written), save as a draft, apply; stale versions are
409s naming who changed the grids; malformed edits are 400s with error and detail."""
from __future__ import annotations

import pytest
import shapely
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import text

from gridmap.db import session_scope
from tests.conftest import sign_in
from tests.plans.balanced import acceptable_merge_and_split, neighbours
from tests.webapp.signin import csrf_token


def _grids(url: str, community: str) -> list[tuple[str, str, object]]:
    with session_scope(url) as session:
        return [(code, kind, shapely.from_wkb(bytes(wkb))) for code, kind, wkb in session.execute(
            text("select code, kind, ST_AsBinary(geom) from grid where community_code = :c "
                 "and valid_to is null order by households desc, code"), {"c": community})]


def _across(geom) -> list[list[float]]:
    """A west–east line through the middle of ``geom``, from outside to outside."""
    minx, _, maxx, _ = geom.bounds
    y = geom.representative_point().y
    return [[minx - 0.001, y], [maxx + 0.001, y]]


@pytest.fixture()
def planner(app, people):
    client = app.test_client()
    sign_in(client, "t-planner")
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_token(client)
    return client


@pytest.fixture()
def community(people):
    """A community of the planner's street whose grids no other test names (the test that
    applies a plan puts the old shapes back, under new codes)."""
    assert people["t-planner"].scopes == (("street", "420111002"),)
    return "420111002046"


def _version(client, community) -> int:
    return client.get(f"/api/plans?community={community}").get_json()["version"]


def test_preview_of_a_split_shows_the_new_totals_and_writes_nothing(planner, community,
                                                                    database_url):
    grids = _grids(database_url, community)
    code, _, geom = next(g for g in grids if g[1] == "residential")
    version = _version(planner, community)
    body = {"community": community, "base_version": version,
            "edits": [{"op": "split", "grid": code, "line": _across(geom)}]}
    answer = planner.post("/api/plans/preview", json=body)
    assert answer.status_code == 200, answer.get_json()
    preview = answer.get_json()
    keys = [f["properties"]["key"] for f in preview["grids"]["features"]]
    assert code not in keys and "new-1" in keys and "new-2" in keys
    low, high = preview["bounds"]
    for feature in preview["grids"]["features"]:  # filled by load as on the map
        p = feature["properties"]
        expected = None if p["kind"] != "residential" else "under" if p["households"] < low \
            else "over" if p["households"] > high else "within"
        assert p["load"] == expected
    before = sum(g["households"] for g in preview["comparison"]["current"])
    after = sum(f["properties"]["households"] for f in preview["grids"]["features"])
    assert after == before
    assert all(k.startswith(("new-", community)) for v in preview["comparison"]["violations"]
               for k in v["codes"])
    # nothing was written: no plan, same version
    listed = planner.get(f"/api/plans?community={community}").get_json()
    assert listed["version"] == version
    assert all(p["source"] != "map edits" for p in listed["plans"])


def test_save_apply_and_a_stale_second_editor(planner, client, community, database_url):
    grids = _grids(database_url, community)
    version = _version(planner, community)

    def post(url, body):
        answer = planner.post(url, json=body)
        return answer.status_code, answer.get_json()

    merge, split, preview = acceptable_merge_and_split(post, community, version, grids)
    saved = planner.post("/api/plans/edits", json={
        "community": community, "base_version": version, "title": "merge and split",
        "edits": [merge, split]})
    assert saved.status_code == 201, saved.get_json()
    plan = saved.get_json()
    assert plan["status"] == "draft" and plan["source"] == "map edits"
    assert plan["comparison"]["violations"] == []
    assert [g["households"] for g in plan["comparison"]["grids"]] == [
        f["properties"]["households"] for f in preview["grids"]["features"]]
    # editing the draft further: its unchanged grids keep their codes as keys
    again = planner.post("/api/plans/preview", json={
        "community": community, "base_version": plan["base_version"], "plan": plan["id"],
        "edits": []}).get_json()
    keys = [f["id"] for f in again["grids"]["features"]]
    unchanged = {code for code, _, _ in grids} - set(merge["grids"])
    assert unchanged < set(keys) and len(keys) == len(unchanged) + 2
    assert all(k.startswith("draft-") for k in set(keys) - unchanged)
    # a second editor saves against the same version, before the first applies
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_token(client)
    other = client.post("/api/plans/edits", json={
        "community": community, "base_version": version, "edits": [merge]}).get_json()
    no_comment = planner.post(f"/api/plans/{plan['id']}/apply", json={"comment": ""})
    assert no_comment.status_code == 400
    applied = planner.post(f"/api/plans/{plan['id']}/apply", json={"comment": "rebalanced"})
    try:
        assert applied.status_code == 200, applied.get_json()
        result = applied.get_json()
        assert set(merge["grids"]) <= set(result["retired"]) and len(result["issued"]) == 2
        stale_apply = client.post(f"/api/plans/{other['id']}/apply", json={"comment": "x"})
        assert stale_apply.status_code == 409
        assert "t-planner" in stale_apply.get_json()["detail"]
        stale_save = client.post("/api/plans/edits", json={
            "community": community, "base_version": version, "edits": []})
        assert stale_save.status_code == 409
        stale_preview = client.post("/api/plans/preview", json={
            "community": community, "base_version": version, "edits": []})
        assert stale_preview.status_code == 409
        assert set(stale_preview.get_json()) == {"error", "detail"}
    finally:
        _restore(database_url, community, grids)


def _restore(url, community, grids) -> None:
    """Put the community's grids back as they were (a plan of the old shapes), so that the
    other tests of the session find the demo's grids."""
    from gridmap.plans.apply import apply_plan
    from gridmap.plans.drafts import DraftGrid, create_draft

    with session_scope(url) as session:
        plan = create_draft(session, community, [DraftGrid(kind, geom) for _, kind, geom in grids],
                            title="restore", source="test")
        apply_plan(session, plan.id, comment="restore the demo's grids")


@pytest.mark.parametrize("edit, expected", [
    ({"op": "split", "grid": "X", "line": [[1, 2]]}, "line"),
    ({"op": "split", "grid": "X", "line": [[1, 2], [1, 200]]}, "lat"),
    ({"op": "split", "grid": 7, "line": [[1, 2], [1, 3]]}, "key"),
    ({"op": "merge", "grids": ["a"]}, "two keys"),
    ({"op": "move", "buildings": [True], "to": "a"}, "building ids"),
    ({"op": "redraw", "grid": "a", "geometry": {"type": "Point", "coordinates": [1, 2]}},
     "polygon"),
    ({"op": "explode"}, "expected split, merge, move or redraw"),
    ("split", "expected an object"),
    ({"op": "merge", "grids": ["nope", "nada"]}, "not among the grids"),
])
def test_malformed_edits_are_400s(planner, community, edit, expected):
    version = _version(planner, community)
    answer = planner.post("/api/plans/preview", json={
        "community": community, "base_version": version, "edits": [edit]})
    assert answer.status_code == 400
    body = answer.get_json()
    assert set(body) == {"error", "detail"} and expected in body["detail"]
    assert body["detail"].startswith("edit 1")


def test_bad_requests_are_400s(planner, community):
    for body in ({"community": community, "edits": []},
                 {"community": community, "base_version": "1", "edits": []},
                 {"community": community, "base_version": 0, "edits": {}},
                 {"community": community, "base_version": 0, "plan": "x", "edits": []},
                 {"community": "12", "base_version": 0, "edits": []}):
        answer = planner.post("/api/plans/preview", json=body)
        assert answer.status_code == 400, body
        assert set(answer.get_json()) == {"error", "detail"}


def _buildings_of(url: str, code: str) -> list[tuple[int, int]]:
    with session_scope(url) as session:
        return [tuple(r) for r in session.execute(text(
            "select b.id, coalesce(b.households, 0) from building b join grid g "
            "on g.id = b.grid_id where g.code = :c order by b.id"), {"c": code})]


def _preview(planner, community, edits):
    answer = planner.post("/api/plans/preview", json={
        "community": community, "base_version": _version(planner, community), "edits": edits})
    return answer.status_code, answer.get_json()


def test_moving_a_building_to_the_neighbour_moves_its_households(planner, community,
                                                                database_url):
    grids = _grids(database_url, community)
    a, b = neighbours(grids)[0]
    status, before = _preview(planner, community, [])
    totals = {f["id"]: f["properties"]["households"] for f in before["grids"]["features"]}
    refused = 0
    for building, households in _buildings_of(database_url, a):
        status, body = _preview(planner, community, [
            {"op": "move", "buildings": [building], "to": b}])
        if status == 400:
            assert "border" in body["detail"] or "pieces" in body["detail"]
            refused += 1
            continue
        after = {f["id"]: f["properties"]["households"] for f in body["grids"]["features"]}
        assert after["new-1"] == totals[a] - households  # the grid the building left
        assert after["new-2"] == totals[b] + households
        assert sum(after.values()) == sum(totals.values())
        break
    else:
        raise AssertionError(f"no building of {a} could move to {b} ({refused} refused)")


def test_redrawing_a_boundary_hands_land_to_the_neighbour(planner, community, database_url):
    grids = _grids(database_url, community)
    a, b = neighbours(grids)[0]
    shapes = {code: geom for code, _, geom in grids}
    # grid a takes a bite of grid b around a point of their shared boundary
    shared = shapely.intersection(shapely.buffer(shapes[a], 2e-6), shapes[b])
    bite = shapely.intersection(shapes[b], shapely.buffer(shared.centroid, 0.0003))
    redrawn = shapely.union(shapes[a], bite)
    status, body = _preview(planner, community, [
        {"op": "redraw", "grid": a, "geometry": shapely.geometry.mapping(redrawn)}])
    assert status == 200, body
    keys = [f["id"] for f in body["grids"]["features"]]
    assert a not in keys and b not in keys and {"new-1", "new-2"} <= set(keys)
    after = sum(f["properties"]["households"] for f in body["grids"]["features"])
    assert after == sum(g["households"] for g in body["comparison"]["current"])
    shaped = {f["id"]: shapely.geometry.shape(f["geometry"]) for f in body["grids"]["features"]}
    assert shaped["new-1"].area > shapes[a].area and shaped["new-2"].area < shapes[b].area
    assert not [v for v in body["comparison"]["violations"]
                if v["check"] in ("no_overlap", "no_gap", "within_parent")]


def test_the_map_offers_editing_to_planners_only(app, people):
    for login, offered in (("t-planner", True), ("t-admin", True), ("t-community", False),
                           ("t-worker-a", False)):
        client = app.test_client()
        sign_in(client, login)
        page = client.get("/").get_data(as_text=True)
        assert ('id="editor"' in page) is offered, login
        assert ("leaflet-geoman" in page) is offered, login


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 40, 2 ** 40) | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                  max_size=4),
    max_leaves=12)
ops = st.sampled_from(["split", "merge", "move", "redraw", "x"])
keys = st.sampled_from(["420111002046001", "420111002046002", "new-1", "draft-1", ""])
coordinate = st.lists(st.floats(-200, 200, allow_nan=False), min_size=2, max_size=2)
edit_bodies = st.one_of(
    st.fixed_dictionaries({"op": ops, "grid": keys | json_values,
                           "line": st.lists(coordinate, max_size=4) | json_values}),
    st.fixed_dictionaries({"op": ops, "grids": st.lists(keys, max_size=3) | json_values}),
    st.fixed_dictionaries({"op": ops, "buildings": st.lists(st.integers(-5, 2 ** 64),
                                                             max_size=3) | json_values,
                           "to": keys | json_values}),
    st.fixed_dictionaries({"op": ops, "grid": keys, "geometry": st.fixed_dictionaries({
        "type": st.sampled_from(["Polygon", "LineString", "Point"]),
        "coordinates": st.lists(st.lists(coordinate, max_size=5), max_size=2) | json_values})}),
    json_values)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(edit_bodies, max_size=3))
def test_any_edit_list_answers_a_4xx_or_a_preview_never_a_500(planner, community, edits):
    answer = planner.post("/api/plans/preview", json={
        "community": community, "base_version": _version(planner, community), "edits": edits})
    assert answer.status_code in (200, 400), answer.get_data(as_text=True)[:300]
    if answer.status_code == 400:
        assert set(answer.get_json()) == {"error", "detail"}


@pytest.mark.parametrize("make_edit", [
    lambda a, g: {"op": "split", "grid": a, "line": [[g.centroid.x, g.centroid.y]] * 2},
    lambda a, g: {"op": "split", "grid": a, "line": [[g.centroid.x, g.centroid.y],
                                                     [g.centroid.x + 1e-9, g.centroid.y]]},
    lambda a, g: {"op": "redraw", "grid": a, "geometry": {"type": "Polygon", "coordinates": [
        [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}},  # a bow tie, far away
    lambda a, g: {"op": "redraw", "grid": a, "geometry": {"type": "Polygon", "coordinates": [
        [[g.centroid.x, g.centroid.y]] * 4]}},  # no area
    lambda a, g: {"op": "merge", "grids": [a, a]},
    lambda a, g: {"op": "move", "buildings": [2 ** 62], "to": a},
])
def test_degenerate_edits_are_400s(planner, community, database_url, make_edit):
    code, _, geom = _grids(database_url, community)[0]
    status, body = _preview(planner, community, [make_edit(code, geom)])
    assert status == 400, body
    assert set(body) == {"error", "detail"} and body["detail"].startswith("edit 1")
