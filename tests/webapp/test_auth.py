"""Signing in and out, lockout, password change, idle expiry, CSRF, API keys, the shared
session key, and the audit rows of it all — through the real app and the real database."""
from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from sqlalchemy import select, text

from gridmap.audit import list_events
from gridmap.auth import add_person, issue_key
from gridmap.config import load_settings
from gridmap.db import session_scope
from gridmap.models import Person
from tests.webapp.signin import csrf_token, log_in, log_out
from webapp import create_app

REFUSED = "Login name or password not accepted"


@pytest.fixture()
def person(database_url, people):
    """A grid worker of its own (lockout state is per person), committed."""
    login = f"w-{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    settings = load_settings({"database_url": database_url})
    with session_scope(database_url) as session:
        add_person(session, login, role="grid_worker", password=password,
                   scopes=people["t-worker-a"].scopes, settings=settings)
    return login, password


def test_signing_in_sends_the_person_where_they_were_going(anonymous, person):
    login, password = person
    first = anonymous.get("/?community=420111002022")
    assert first.status_code == 302 and "/login?next=" in first.headers["Location"]
    response = log_in(anonymous, login, password, next="/?community=420111002022")
    assert response.status_code == 302
    assert response.headers["Location"] == "/?community=420111002022"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert anonymous.get("/").status_code == 200


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil",
                                    "javascript:alert(1)"])
def test_next_never_leaves_the_site(anonymous, person, target):
    response = log_in(anonymous, *person, next=target)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_over_https_the_cookie_is_secure(app, person):
    client = app.test_client()
    html = client.get("/login", base_url="https://localhost").get_data(as_text=True)
    token = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    form = {"login": person[0], "password": person[1], "csrf_token": token}
    # Over HTTPS the CSRF check also wants the request to come from this site's own page.
    refused = client.post("/login", base_url="https://localhost", data=form)
    assert refused.status_code == 400 and "referrer" in refused.get_data(as_text=True)
    response = client.post("/login", base_url="https://localhost", data=form,
                           headers={"Referer": "https://localhost/login"})
    assert response.status_code == 302 and "Secure" in response.headers["Set-Cookie"]


def test_unknown_name_and_wrong_password_get_the_same_answer(anonymous, person):
    unknown = log_in(anonymous, "nobody-" + uuid.uuid4().hex[:6], "whatever-password")
    wrong = log_in(anonymous, person[0], "wrong-password-123")
    assert unknown.status_code == wrong.status_code == 401
    texts = [r.get_data(as_text=True) for r in (unknown, wrong)]
    assert all(t.count(REFUSED) == 1 for t in texts)


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(anonymous, person,
                                                                       database_url):
    login, password = person
    for _ in range(5):
        assert log_in(anonymous, login, "wrong-password-xyz").status_code == 401
    response = log_in(anonymous, login, password)
    assert response.status_code == 401 and REFUSED in response.get_data(as_text=True)
    with session_scope(database_url) as session:
        found = session.execute(select(Person).where(Person.login == login)).scalar_one()
        assert found.failed_attempts == 5 and found.locked_until is not None


def test_signing_out_ends_the_session_and_needs_the_csrf_token(anonymous, person):
    assert log_in(anonymous, *person).status_code == 302
    refused = anonymous.post("/logout")
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    assert anonymous.get("/").status_code == 200  # still signed in
    assert log_out(anonymous).status_code == 302
    assert anonymous.get("/").status_code == 302
    assert anonymous.get("/api/layers").status_code == 401


def test_the_login_form_needs_the_csrf_token(anonymous, person):
    response = anonymous.post("/login", data={"login": person[0], "password": person[1]})
    assert response.status_code == 400
    assert anonymous.get("/").status_code == 302  # not signed in


def test_a_password_change_ends_every_other_session(app, person):
    login, password = person
    mine, other = app.test_client(), app.test_client()
    assert log_in(mine, login, password).status_code == 302
    assert log_in(other, login, password).status_code == 302
    new = "a brand new passphrase " + uuid.uuid4().hex[:6]
    token = csrf_token(mine, "/account/password")
    wrong = mine.post("/account/password", data={"current": "not it at all", "new": new,
                                                 "confirm": new, "csrf_token": token})
    assert wrong.status_code == 401
    weak = mine.post("/account/password", data={"current": password, "new": "password123",
                                                "confirm": "password123", "csrf_token": token})
    assert weak.status_code == 400
    done = mine.post("/account/password", data={"current": password, "new": new,
                                                "confirm": new, "csrf_token": token})
    assert done.status_code == 200
    assert mine.get("/").status_code == 200
    assert other.get("/").status_code == 302  # the other session has ended
    assert log_in(app.test_client(), login, new).status_code == 302


def test_a_session_ends_after_the_idle_time(database_url, person):
    app = create_app({"database_url": database_url})
    app.permanent_session_lifetime = dt.timedelta(seconds=1)
    client = app.test_client()
    assert log_in(client, *person).status_code == 302
    assert client.get("/api/layers").status_code == 200
    time.sleep(2.2)
    assert client.get("/api/layers").status_code == 401


def test_every_process_signs_with_the_same_key(database_url, person):
    """Two apps (as two gunicorn workers): a session from one is valid in the other."""
    first = create_app({"database_url": database_url}).test_client()
    second = create_app({"database_url": database_url})
    assert log_in(first, *person).status_code == 302
    cookie = first.get_cookie("gridmap_session")
    other = second.test_client()
    other.set_cookie("gridmap_session", cookie.value)
    assert other.get("/api/layers").status_code == 200


def test_a_sign_in_is_in_the_audit_trail_with_address_and_request_id(anonymous, person, db):
    response = log_in(anonymous, *person, **{"X-Request-Id": "req-abc-123"})
    assert response.headers["X-Request-Id"] == "req-abc-123"
    event = list_events(db, who=person[0], table="person", limit=1)[0]
    assert (event.action, event.actor_kind, event.row_key) == ("login", "person", person[0])
    assert event.request_id == "req-abc-123" and str(event.address) == "127.0.0.1"


def test_a_refused_sign_in_is_in_the_audit_trail(anonymous, person, db):
    log_in(anonymous, person[0], "wrong-password-xyz")
    event = list_events(db, table="person", limit=1)[0]
    assert event.action == "login_refused" and event.row_key == person[0]
    assert (event.actor_kind, event.actor) == ("anonymous", "visitor")


@pytest.fixture()
def grids_key(database_url):
    with session_scope(database_url) as session:
        return issue_key(session, "测绘院", ["grids"]).secret


def test_an_api_key_reads_its_collections_only(anonymous, grids_key):
    headers = {"X-API-Key": grids_key}
    assert anonymous.get("/api/layers/grids/features?limit=2", headers=headers).status_code == 200
    refused = anonymous.get("/api/layers/buildings/features?limit=2", headers=headers)
    assert refused.status_code == 403 and "buildings" in refused.get_json()["detail"]
    assert [l["name"] for l in anonymous.get("/api/layers", headers=headers).get_json()] \
        == ["grids"]


def test_an_api_key_never_writes_nor_opens_pages(anonymous, grids_key):
    headers = {"X-API-Key": grids_key}
    assert anonymous.post("/logout", headers=headers).status_code == 403
    assert anonymous.get("/", headers=headers).status_code == 403
    assert anonymous.get("/admin/audit", headers=headers).status_code == 403


@pytest.mark.parametrize("key", ["gmk_" + "A" * 43, "not-a-key", ""])
def test_a_bad_api_key_is_401_with_one_message(anonymous, key):
    response = anonymous.get("/api/layers", headers={"X-API-Key": key})
    assert response.status_code == 401
    assert response.get_json()["detail"] == "API key not accepted (unknown, malformed or revoked)"


def _cookie(client):
    return client.get_cookie("gridmap_session").value


def test_a_cookie_copied_before_signing_out_is_refused_after(app, person):
    browser = app.test_client()
    assert log_in(browser, *person).status_code == 302
    copy = _cookie(browser)
    assert log_out(browser).status_code == 302
    thief = app.test_client()
    thief.set_cookie("gridmap_session", copy)
    assert thief.get("/api/layers/grids/features").status_code == 401


def test_a_session_ends_at_its_absolute_end_and_when_the_person_is_disabled(
        app, person, database_url):
    from gridmap.auth import disable_person

    first, second = app.test_client(), app.test_client()
    assert log_in(first, *person).status_code == 302
    assert log_in(second, *person).status_code == 302
    with session_scope(database_url) as session:
        session.execute(text("update web_session set expires_at = now() - interval '1 second' "
                             "where person_id = (select id from person where login = :l) "
                             "and created_at = (select min(w.created_at) from web_session w "
                             "join person p on p.id = w.person_id where p.login = :l)"),
                        {"l": person[0]})
    assert first.get("/api/layers").status_code == 401
    assert second.get("/api/layers").status_code == 200
    with session_scope(database_url) as session:
        disable_person(session, person[0])
    assert second.get("/api/layers").status_code == 401


def test_the_language_switch_never_writes_and_the_account_page_keeps_a_preference(
        app, person, database_url):
    browser = app.test_client()
    log_in(browser, *person)

    def stored():
        with session_scope(database_url) as session:
            return session.execute(text("select locale from person where login = :l"),
                                   {"l": person[0]}).scalar()
    assert browser.get("/?lang=en").status_code == 200 and stored() is None
    token = csrf_token(browser, "/account/password")
    assert browser.post("/account/language", data={"locale": "en",
                                                   "csrf_token": token}).status_code == 302
    assert stored() == "en"
    bad = browser.post("/account/language", data={"locale": "fr", "csrf_token": token})
    assert bad.status_code == 400 and stored() == "en"


@pytest.mark.parametrize("target", ["/\r\nSet-Cookie: x=1", "/ok\x00"])
def test_a_next_with_control_characters_never_becomes_a_header(app, anonymous, person, target):
    from webapp.views.account import safe_next

    response = log_in(anonymous, *person, next=target)
    assert response.status_code == 400 and "Location" not in response.headers
    with app.test_request_context():
        assert safe_next(target) == "/"


def test_an_unknown_name_is_refused_with_the_same_work_as_a_wrong_password(anonymous, db):
    name = "nobody-" + uuid.uuid4().hex[:6]
    log_in(anonymous, name, "whatever password")
    event = list_events(db, table="person", limit=1)[0]
    assert (event.action, event.row_key, event.actor_kind) == ("login_refused", name,
                                                                "anonymous")


def test_behind_a_trusted_proxy_the_trail_has_the_clients_address(database_url, person, db):
    app = create_app({"database_url": database_url, "trusted_proxies": 1})
    client = app.test_client()
    token = csrf_token(client)
    client.post("/login", data={"login": person[0], "password": person[1], "csrf_token": token},
                headers={"X-Forwarded-For": "10.1.2.3"})
    event = list_events(db, who=person[0], table="person", limit=1)[0]
    assert str(event.address) == "10.1.2.3"
    # without the setting the header is not believed
    plain = create_app({"database_url": database_url}).test_client()
    plain.post("/login", data={"login": person[0], "password": person[1],
                               "csrf_token": csrf_token(plain)},
               headers={"X-Forwarded-For": "10.9.9.9"})
    assert str(list_events(db, who=person[0], table="person", limit=1)[0].address) \
        == "127.0.0.1"
