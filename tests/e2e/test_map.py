"""End to end: gunicorn serves the app, headless Chromium at tablet size draws the grids."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(database_url):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                             "--workers", "2", "webapp:create_app()"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/api/health", timeout=2)
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("gunicorn did not start: "
                                   + proc.stdout.read().decode(errors="replace"))
            time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def page(server):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800}, has_touch=True)
        outside = []
        context.route("**/*", lambda route: (outside.append(route.request.url), route.abort())
                      if not route.request.url.startswith(server) else route.continue_())
        page = context.new_page()
        page.outside_requests = outside
        yield page
        browser.close()


def test_map_draws_grid_layer_offline(page, server, artifacts):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server + "/")
    page.wait_for_selector("#map[data-loadedgrids]", timeout=20000)
    grids = int(page.get_attribute("#map", "data-loadedgrids"))
    assert grids == 24
    labels = page.locator(".grid-label")
    assert labels.count() == grids
    assert "420111002" in labels.first.inner_text()
    assert page.locator("path.leaflet-interactive").count() > grids  # grids + buildings + …
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "map-tablet.png"))
    assert errors == []
    assert page.outside_requests == []  # nothing loaded from outside the app


def test_tapping_a_grid_shows_its_details(page, server, artifacts):
    # The first grid of 鲁磨路社区: its label point has no building over it (a tap on a label
    # lying over a building shows the building, as it should).
    label = page.locator(".grid-label", has_text="420111002023001").first
    code = label.inner_text().split("\n")[0].strip()
    box = label.bounding_box()
    # Labels sit on a point inside their grid and let taps through to it.
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#info table", timeout=5000)
    info = page.locator("#info").inner_text()
    assert "网格编码" in info and "户数" in info and "面积" in info
    page.screenshot(path=str(artifacts / "map-grid-details.png"))
    assert f"网格编码 Code\t{code}" in info
