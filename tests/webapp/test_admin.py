"""The administrator's pages: people, keys and the audit trail, through the real forms."""
from __future__ import annotations

import uuid

import pytest

from sqlalchemy import select

from gridmap.db import session_scope
from gridmap.models import ApiKey, Person
from tests.webapp.signin import csrf_token, log_in


def _post(client, url, **form):
    return client.post(url, data={**form, "csrf_token": csrf_token(client, "/admin/people")})


def test_an_administrator_adds_a_worker_who_then_signs_in(app, client, people, database_url):
    login = f"web-{uuid.uuid4().hex[:6]}"
    grid = people["t-worker-a"].scopes[0][1]
    password = "correct horse battery " + uuid.uuid4().hex[:4]
    response = _post(client, "/admin/people", login=login, display_name="王网格",
                     role="grid_worker", codes=grid, password=password)
    assert response.status_code == 302
    assert login in client.get("/admin/people").get_data(as_text=True)
    visitor = app.test_client()
    assert log_in(visitor, login, password).status_code == 302
    features = visitor.get("/api/layers/grids/features").get_json()["features"]
    assert [f["id"] for f in features] == [grid]


def test_a_refused_person_is_shown_with_the_reason_and_nothing_is_written(client,
                                                                          database_url):
    login = f"web-{uuid.uuid4().hex[:6]}"
    weak = _post(client, "/admin/people", login=login, role="grid_worker",
                 codes="420111002022001", password="password123")
    assert weak.status_code == 400 and "common" in weak.get_data(as_text=True)
    wrong_level = _post(client, "/admin/people", login=login, role="community_admin",
                        codes="420111002", password="a long passphrase here")
    assert wrong_level.status_code == 400
    assert "expected 12 digits (community)" in wrong_level.get_data(as_text=True)
    with session_scope(database_url) as session:
        assert session.execute(select(Person).where(Person.login == login)).first() is None


def test_disable_and_reset_password(app, client, database_url, people):
    login = f"web-{uuid.uuid4().hex[:6]}"
    password = "first passphrase " + uuid.uuid4().hex[:4]
    _post(client, "/admin/people", login=login, role="planner", codes="420111002",
          password=password)
    new = "second passphrase " + uuid.uuid4().hex[:4]
    assert _post(client, f"/admin/people/{login}/password", password=new).status_code == 302
    assert log_in(app.test_client(), login, new).status_code == 302
    assert _post(client, f"/admin/people/{login}/disable").status_code == 302
    assert log_in(app.test_client(), login, new).status_code == 401


def test_a_key_is_shown_once_and_works_until_revoked(app, client, database_url):
    agency = f"公安分局 {uuid.uuid4().hex[:4]}"
    response = client.post("/admin/keys", data={"agency": agency, "collections": "grids",
                                                "csrf_token": csrf_token(client, "/admin/keys")})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    secret = html.split('<code class="secret">')[1].split("</code>")[0]
    assert secret.startswith("gmk_") and secret not in client.get("/admin/keys").get_data(True)
    reader = app.test_client()
    assert reader.get("/api/layers/grids/features?limit=1",
                      headers={"X-API-Key": secret}).status_code == 200
    with session_scope(database_url) as session:
        key_id = session.execute(select(ApiKey.id).where(ApiKey.agency == agency)).scalar_one()
    revoke = client.post(f"/admin/keys/{key_id}/revoke",
                         data={"csrf_token": csrf_token(client, "/admin/keys")})
    assert revoke.status_code == 302
    assert reader.get("/api/layers", headers={"X-API-Key": secret}).status_code == 401


def test_an_unknown_collection_is_refused_by_name(client):
    response = client.post("/admin/keys", data={"agency": "x", "collections": "grids,houses",
                                                "csrf_token": csrf_token(client, "/admin/keys")})
    assert response.status_code == 400 and "houses" in response.get_data(as_text=True)


def test_the_audit_page_finds_a_workers_sign_in(app, client, people):
    worker = people["t-worker-b"]
    assert log_in(app.test_client(), worker.login, worker.password).status_code == 302
    html = client.get(f"/admin/audit?who={worker.login}").get_data(as_text=True)
    assert f"person:{worker.login}" in html and "login" in html
    assert client.get("/admin/audit?since=yesterday").status_code == 400


def test_a_community_admin_manages_the_people_of_their_community_only(app, people):
    from tests.conftest import sign_in

    manager = app.test_client()
    sign_in(manager, "t-community")
    page = manager.get("/admin/people").get_data(as_text=True)
    assert "t-worker-a" in page and "t-worker-b" in page
    assert "t-admin" not in page and "t-planner" not in page
    grid = people["t-worker-a"].scopes[0][1]
    login = f"cw-{uuid.uuid4().hex[:6]}"
    token = csrf_token(manager, "/admin/people")
    made = manager.post("/admin/people", data={
        "login": login, "role": "grid_worker", "codes": grid,
        "password": "a long passphrase " + uuid.uuid4().hex[:4], "csrf_token": token})
    assert made.status_code == 302
    for role, codes in (("administrator", ""), ("planner", "420111002")):
        refused = manager.post("/admin/people", data={
            "login": login + role[:3], "role": role, "codes": codes,
            "password": "a long passphrase x1", "csrf_token": token})
        assert refused.status_code == 403, role
    outside = manager.post("/admin/people", data={
        "login": login + "x", "role": "grid_worker", "codes": "420111002015001",
        "password": "a long passphrase x2", "csrf_token": token})
    assert outside.status_code == (302 if grid.startswith("420111002015") else 403)
    assert manager.post("/admin/people/t-planner/disable",
                        data={"csrf_token": token}).status_code == 403
    assert manager.get("/admin/keys").status_code == 403
    assert manager.get("/admin/audit").status_code == 403


def test_the_audit_page_shows_times_in_the_configured_time_zone(database_url, people):
    import re

    from tests.conftest import sign_in
    from webapp import create_app

    def shown(zone):
        app = create_app({"database_url": database_url, "timezone": zone})
        client = app.test_client()
        sign_in(client, "t-admin")
        html = client.get("/admin/audit").get_data(as_text=True)  # the demo's rows at least
        return re.search(r"<td>([^<]*\d:\d\d:\d\d[^<]*)</td>", html).group(1)
    def hour(text):  # "Nov 24, 2026, 9:38:47 AM" (the tests ask for English)
        h = int(re.search(r"(\d+):\d\d:\d\d", text).group(1)) % 12
        return h + 12 if "PM" in text else h
    assert (hour(shown("UTC")) + 8) % 24 == hour(shown("Asia/Shanghai"))


def _rules(database_url):
    from gridmap.incidents.dispatch import list_rules

    with session_scope(database_url) as session:
        return {(r.class_pattern, r.area_code): r.department_code
                for r in list_rules(session)}


def test_an_administrator_edits_the_dispatch_matrix(client, database_url):
    from gridmap.audit import list_events

    token = csrf_token(client, "/admin/dispatch")
    page = client.get("/admin/dispatch").get_data(as_text=True)
    assert "0404" in page and "traffic_police" in page  # the shipped rules are listed
    added = client.post("/admin/dispatch", data={"csrf_token": token, "class_pattern": "0101",
                                                 "area_code": "420111", "department": "parks"})
    assert added.status_code == 302
    assert _rules(database_url)[("0101", "420111")] == "parks"
    assert 'data-class="0101" data-area="420111"' in \
        client.get("/admin/dispatch").get_data(as_text=True)
    removed = client.post("/admin/dispatch/remove", data={
        "csrf_token": token, "class_pattern": "0101", "area_code": "420111"})
    assert removed.status_code == 302
    assert ("0101", "420111") not in _rules(database_url)
    with session_scope(database_url) as session:
        actions = [e.action for e in list_events(session, table="dispatch_rule", limit=5)]
    assert actions[:2] == ["dispatch.unset", "dispatch.set"]


@pytest.mark.parametrize("form, status, problem", [
    ({"class_pattern": "4", "area_code": "*", "department": "parks"}, 400,
     "expected a minor class (4 digits)"),
    ({"class_pattern": "0101", "area_code": "42011", "department": "parks"}, 400,
     "expected a district (6 digits)"),
    ({"class_pattern": "0101", "area_code": "*", "department": "nobody"}, 400,
     "is not loaded"),
])
def test_a_bad_dispatch_rule_is_named_on_the_page(client, database_url, form, status, problem):
    before = _rules(database_url)
    token = csrf_token(client, "/admin/dispatch")
    response = client.post("/admin/dispatch", data={"csrf_token": token, **form})
    assert response.status_code == status
    assert problem in response.get_data(as_text=True)
    assert _rules(database_url) == before
    gone = client.post("/admin/dispatch/remove", data={
        "csrf_token": token, "class_pattern": "0101", "area_code": "420100"})
    assert gone.status_code == 404 and "no dispatch rule" in gone.get_data(as_text=True)
