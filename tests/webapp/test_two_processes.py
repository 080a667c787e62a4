"""Two real server processes on one database: a lockout counted across both, and a session
signed by one accepted by the other (the signing key is shared through the database)."""
from __future__ import annotations

import re
import uuid

import pytest
import requests

from gridmap.auth import add_person
from gridmap.config import load_settings
from gridmap.db import session_scope
from tests.conftest import gridmap_server

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')  # as tests/webapp/signin.py


@pytest.fixture(scope="module")
def second_server(database_url):
    """A second ``gridmap serve`` process beside the session's ``served`` one."""
    with gridmap_server(database_url, "second gridmap serve") as port:
        yield port


@pytest.fixture()
def account(database_url, people):
    login, password = f"p-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    with session_scope(database_url) as session:
        add_person(session, login, role="grid_worker", password=password,
                   scopes=people["t-worker-a"].scopes,
                   settings=load_settings({"database_url": database_url}))
    return login, password


def _log_in(browser: requests.Session, base: str, login: str, password: str):
    token = _TOKEN.search(browser.get(base + "/login").text).group(1)
    return browser.post(base + "/login", data={"login": login, "password": password,
                                               "csrf_token": token}, allow_redirects=False)


def test_five_failures_spread_over_two_processes_lock_the_account(served, second_server,
                                                                   account):
    login, password = account
    bases = [f"http://127.0.0.1:{served}", f"http://127.0.0.1:{second_server}"]
    for attempt in range(5):
        answer = _log_in(requests.Session(), bases[attempt % 2], login, "wrong " + str(attempt))
        assert answer.status_code == 401
    for base in bases:
        assert _log_in(requests.Session(), base, login, password).status_code == 401


def test_a_session_from_one_process_is_valid_in_the_other(served, second_server, account):
    browser = requests.Session()
    first, second = f"http://127.0.0.1:{served}", f"http://127.0.0.1:{second_server}"
    assert _log_in(browser, first, *account).status_code == 302
    assert browser.get(second + "/api/layers", allow_redirects=False).status_code == 200
    # and a form token issued by one process is accepted by the other
    token = _TOKEN.search(browser.get(first + "/account/password").text).group(1)
    out = browser.post(second + "/logout", data={"csrf_token": token}, allow_redirects=False)
    assert out.status_code == 302
    assert browser.get(first + "/api/layers", allow_redirects=False).status_code == 401
