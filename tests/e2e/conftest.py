"""End-to-end fixtures: a database of two districts 650 km apart (the demo and its shifted copy,
both real geometry imported through the ordinary import path), gunicorn serving it, headless
Chromium at tablet size (1280×800) and in portrait (800×1280), both with touch. Nothing may
load from outside the app: every other request is aborted and recorded."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from click.testing import CliRunner
from playwright.sync_api import sync_playwright

from gridmap.db import session_scope
from tests.e2e.mapdriver import sign_in
from tests.conftest import REPO, TEST_URL, _reset_schema, free_port, wait_until_serving
from tests.shifted_district import load_shifted_district

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
E2E_URL = TEST_URL.rsplit("?", 1)[0] + "_e2e"
TABLET = {"width": 1280, "height": 800}
PORTRAIT = {"width": 800, "height": 1280}


@pytest.fixture(scope="session")
def two_districts(tmp_path_factory) -> str:
    """A database of its own (the shared test database keeps one district): demo + copy."""
    from gridmap.cli import cli

    subprocess.run(["bash", str(REPO / "scripts" / "ensure-db.sh"), E2E_URL], check=True,
                   capture_output=True)
    _reset_schema(E2E_URL)
    runner = CliRunner()
    for args in (["db", "upgrade"], ["demo"]):
        result = runner.invoke(cli, ["--database-url", E2E_URL, *args])
        assert result.exit_code == 0, result.output + repr(result.exception)
    with session_scope(E2E_URL) as session:
        load_shifted_district(session, tmp_path_factory.mktemp("shifted"))
    return E2E_URL


@pytest.fixture(scope="session")
def demo_passwords(two_districts) -> dict[str, str]:
    """New random passwords for the demo people of the e2e database (``gridmap demo`` showed
    theirs once, to nobody)."""
    from gridmap.auth import reset_password
    from gridmap.config import load_settings
    from gridmap.demo_people import ADMIN, WORKER

    settings = load_settings({"database_url": two_districts})
    passwords = {login: secrets.token_urlsafe(12) for login in (ADMIN, WORKER)}
    with session_scope(two_districts) as session:
        for login, password in passwords.items():
            reset_password(session, login, password, settings=settings)
    return passwords


#: Where the e2e server and a worker started by a test keep background exports; exports of
#: more features than this run as a job (the grids of a community do not, the buildings of a
#: district do).
EXPORT_DIRECT_MAX = "100"


@pytest.fixture(scope="session")
def export_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("exports")


@pytest.fixture(scope="session")
def server(two_districts, export_dir):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": two_districts, "GRIDMAP_EXPORT_DIR": str(export_dir),
           "GRIDMAP_EXPORT_DIRECT_MAX_FEATURES": EXPORT_DIRECT_MAX}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                             "--workers", "3", "webapp:create_app()"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_serving(proc, url, "gunicorn")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def _page(browser, server, viewport, password, login="demo-admin", scale=1):
    context = browser.new_context(viewport=viewport, has_touch=True, locale="zh-CN",
                                  device_scale_factor=scale)
    outside: list[str] = []
    context.route("**/*", lambda route: (outside.append(route.request.url), route.abort())
                  if not route.request.url.startswith(server) else route.continue_())
    page = context.new_page()
    page.outside_requests = outside
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    sign_in(page, server, login, password)
    return context, page


def _signed_in(browser, server, viewport, password, scale=1):
    """A page signed in as the demo administrator, for a fixture to yield: it ends with no
    error on the page and nothing asked of another site."""
    context, page = _page(browser, server, viewport, password, scale=scale)
    yield page
    assert page.errors == [] and page.outside_requests == []
    context.close()


@pytest.fixture()
def tablet(browser, server, demo_passwords):
    yield from _signed_in(browser, server, TABLET, demo_passwords["demo-admin"])


@pytest.fixture()
def portrait(browser, server, demo_passwords):
    yield from _signed_in(browser, server, PORTRAIT, demo_passwords["demo-admin"])


@pytest.fixture()
def tablet_hidpi(browser, server, demo_passwords):
    """The tablet at 1.5 screen pixels a CSS pixel, as many tablets are: a tile's edge at a
    whole CSS pixel may fall inside a screen pixel even at a whole zoom."""
    yield from _signed_in(browser, server, TABLET, demo_passwords["demo-admin"], scale=1.5)
