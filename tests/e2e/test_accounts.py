"""People in the browser: the demo grid worker signs in (in Chinese), sees only their grid,
switches to English and signs out; the administrator then finds that sign-in in the audit
trail. Headless Chromium at 1280×800 with touch, against gunicorn with two workers."""
from __future__ import annotations

import pytest

from tests.e2e.mapdriver import features, grid_pieces, idle, labels, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture()
def fresh(browser, server):
    """A new browser context, not signed in, in Chinese, at tablet size with touch."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, has_touch=True,
                                  locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == []


def _worker_grid(two_districts) -> str:
    from sqlalchemy import text

    from gridmap.db import session_scope

    with session_scope(two_districts) as session:
        return session.execute(text(
            "select s.code from person_scope s join person p on p.id = s.person_id "
            "where p.login = 'demo-worker'")).scalar_one()


def test_a_worker_sees_only_their_grid_switches_language_and_signs_out(
        fresh, server, demo_passwords, two_districts, artifacts):
    grid = _worker_grid(two_districts)
    fresh.goto(server + "/")
    assert "/login" in fresh.url
    assert fresh.evaluate("document.documentElement.lang") == "zh-CN"
    fresh.screenshot(path=str(artifacts / "login-zh.png"))
    sign_in(fresh, server, "demo-worker", demo_passwords["demo-worker"])
    fresh.wait_for_function("window.gridmap !== undefined")
    idle(fresh)
    # the map opened on the worker's community and drew their grid, and no other
    assert fresh.evaluate("new URL(location).searchParams.get('community')") == grid[:12]
    drawn = {label["id"] for label in labels(fresh) if label["layer"] == "grids"}
    assert drawn == {grid}
    assert set(grid_pieces(fresh)) == {grid}  # the grids' tiles are cut to the worker's scope
    assert set(features(fresh, server, "grids")) == {grid}
    fresh.screenshot(path=str(artifacts / "worker-map.png"))
    # English on request, kept on the next page
    fresh.click("a[hreflang=en]")
    fresh.wait_for_function("document.documentElement.lang === 'en'")
    fresh.goto(server + "/account/password")
    assert fresh.evaluate("document.documentElement.lang") == "en"
    with fresh.expect_navigation():
        fresh.click(".account-bar button[type=submit]")
    assert "/login" in fresh.url
    assert fresh.context.request.get(server + "/api/layers").status == 401


def test_the_administrator_finds_the_workers_sign_in(fresh, browser, server, demo_passwords):
    worker = browser.new_context()
    try:
        page = worker.new_page()
        sign_in(page, server, "demo-worker", demo_passwords["demo-worker"])
        # let the worker's map finish its requests, so the server is not left busy with
        # answers nobody reads when the context closes
        page.wait_for_function("window.gridmap !== undefined")
        idle(page)
    finally:
        worker.close()
    fresh.set_default_navigation_timeout(90_000)  # a busy 2-core machine, not a hang
    sign_in(fresh, server, "demo-admin", demo_passwords["demo-admin"])
    fresh.goto(server + "/admin/audit?who=demo-worker", wait_until="domcontentloaded")
    rows = fresh.locator("table.audit tbody tr")
    assert rows.count() >= 1
    first = rows.first.inner_text()
    assert "person:demo-worker" in first and "login" in first
