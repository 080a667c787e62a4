"""Planners edit grids on the map (1280×800 and 800×1280, touch): one merges two grids and
splits the result along a line drawn with taps, sees the preview (households per grid, the
validator's findings), saves the draft, applies it with a comment and finds the new codes and
the retired ones, then the map's grid tiles fetched again with the new shapes; a second
planner, who saved a draft of the same community before that, gets the 409 message on screen
when applying it or editing further."""
from __future__ import annotations

import secrets

import pytest
import shapely
from shapely.geometry import LineString, shape
from sqlalchemy import text

from gridmap.db import session_scope
from tests.e2e.conftest import PORTRAIT, TABLET, _page
from tests.e2e.mapdriver import features, grid_pieces, idle, open_map, page_point
from tests.plans.balanced import acceptable_merge_and_split, neighbours

pytestmark = pytest.mark.e2e
COMMUNITY = "320508002022"  # the shifted copy of the demo: no other e2e test names its grids
PLANNERS = ("e2e-planner-1", "e2e-planner-2")


@pytest.fixture(scope="module")
def planners(two_districts) -> dict[str, str]:
    """Two planners of the street (passwords random per run)."""
    from gridmap.auth import add_person
    from gridmap.config import load_settings

    settings = load_settings({"database_url": two_districts})
    passwords = {login: secrets.token_urlsafe(12) for login in PLANNERS}
    with session_scope(two_districts) as session:
        for login, password in passwords.items():
            add_person(session, login, role="planner", password=password,
                       scopes=(("street", COMMUNITY[:9]),), settings=settings)
    return passwords


@pytest.fixture()
def two_planners(browser, server, planners):
    pages = [_page(browser, server, TABLET, planners[login], login=login)
             for login in PLANNERS]
    yield [page for _, page in pages]
    for context, page in pages:
        assert page.errors == [] and page.outside_requests == []
        context.close()


def _grids(url: str) -> list[tuple[str, str, object]]:
    with session_scope(url) as session:
        return [(code, kind, shapely.from_wkb(bytes(wkb))) for code, kind, wkb in session.execute(
            text("select code, kind, ST_AsBinary(geom) from grid where community_code = :c "
                 "and valid_to is null order by code"), {"c": COMMUNITY})]


def _poster(page, server):
    csrf = page.evaluate("JSON.parse(document.getElementById('map-config').textContent).csrf")

    def post(url, body):
        answer = page.context.request.post(server + url, data=body,
                                           headers={"X-CSRFToken": csrf})
        return answer.status, answer.json()
    return post


def _until(page, condition: str, timeout_s: float = 30) -> None:
    """Wait until ``condition`` (a JavaScript expression) holds. Polled from here: the page's
    CSP refuses the evaluation of strings that Playwright's own polling would need."""
    for _ in range(int(timeout_s * 10)):
        if page.evaluate(f"() => Boolean({condition})"):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"not within {timeout_s} s: {condition}")


def _fit(page, geom, options: str = "{padding: [60, 60]}") -> None:
    """Fit the map to ``geom``'s bounds (no animation) and wait until it settles.

    A view change the page started just before (the chooser's animated fit after a tap) can
    land after this one on a busy machine: the fit is repeated until the map shows the bounds.
    """
    minx, miny, maxx, maxy = geom.bounds
    box = f"[[{miny}, {minx}], [{maxy}, {maxx}]]"
    for _ in range(20):
        page.evaluate(f"() => {{ gridmap.map.fitBounds({box}, "
                      f"Object.assign({{animate: false}}, {options})); }}")
        idle(page)
        page.wait_for_timeout(100)
        if page.evaluate(f"gridmap.map.getBounds().contains({box})"):
            return
        page.wait_for_timeout(300)
    raise AssertionError(f"the map did not stay on {geom.bounds}")


def _wait_ready(page) -> None:
    page.wait_for_selector("#editor[data-state=ready]")


def _start(page) -> None:
    page.locator("#edit-start").tap()
    _wait_ready(page)


def _tap_grid(page, key: str) -> None:
    """Tap the editor's grid ``key`` at a point inside it."""
    feature = page.evaluate(f"gridmap.editor.preview.grids.features.find((f) => f.id === "
                            f"'{key}')")
    point = shape(feature["geometry"]).representative_point()
    x, y = page_point(page, point.x, point.y)
    box = page.locator("#map").bounding_box()
    if not (box["x"] + 40 < x < box["x"] + box["width"] - 40
            and box["y"] + 40 < y < box["y"] + box["height"] - 40):
        page.evaluate(f"() => {{ gridmap.map.panTo([{point.y}, {point.x}], "
                      "{animate: false}); }")
        idle(page)
        x, y = page_point(page, point.x, point.y)
    assert page.evaluate(f"document.elementFromPoint({x}, {y}).closest('#map') !== null")
    page.touchscreen.tap(x, y)


def _tool(page, tool: str) -> None:
    page.locator(f"#editor [data-tool={tool}]").tap()


def _edit_done(page, before: int) -> None:
    """Wait for the preview of one more edit."""
    _until(page, f"gridmap.editor.edits.length === {before + 1} && "
                 "document.getElementById('editor').dataset.state === 'ready'")


def _merge(page, a: str, b: str) -> None:
    before = page.evaluate("gridmap.editor.edits.length")
    _tap_grid(page, a)
    _tool(page, "merge")
    _tap_grid(page, b)
    _edit_done(page, before)


def _line_on_screen(page, line: list[list[float]], grid) -> list[tuple[float, float]]:
    """The line's ends brought in to just outside the grid (about 10 m), as page points."""
    _fit(page, grid)
    box = shapely.buffer(shapely.envelope(grid), 0.0001, join_style="mitre")
    inner = shapely.intersection(LineString(line), box)
    ends = [inner.coords[0], inner.coords[-1]]
    assert not any(shapely.contains_xy(grid, x, y) for x, y in ends)
    return [page_point(page, x, y) for x, y in ends]


def test_a_planner_splits_on_the_map_applies_and_a_stale_planner_gets_409(
        two_planners, server, two_districts, artifacts):
    first, second = two_planners
    for page in (first, second):
        open_map(page, server, f"?community={COMMUNITY}")
        assert page.locator("#edit-start").is_visible()
    grids = _grids(two_districts)
    version = first.evaluate(f"fetch('/api/plans?community={COMMUNITY}').then(r => r.json())"
                             )["version"]
    merge, split, expected = acceptable_merge_and_split(_poster(first, server), COMMUNITY,
                                                        version, grids)
    a, b = merge["grids"]

    # the second planner merges the same two grids and saves that draft first
    _start(second)
    _merge(second, a, b)
    second.locator("#edit-save-button").tap()
    _until(second, "document.getElementById('edit-result').textContent.includes('草案')")
    _wait_ready(second)

    # the first planner merges, then splits the merged grid along a line drawn with taps;
    # while editing, the editor draws the community's grids (GeoJSON), the map's tiles are off
    _start(first)
    assert not first.evaluate("gridmap.layers.isOn('grids')")
    assert first.evaluate("gridmap.labels.groups.has('grids')") is False
    _merge(first, a, b)
    merged = first.evaluate("gridmap.editor.preview.grids.features.find((f) => "
                            "f.id === 'new-1')")
    assert merged is not None
    _tap_grid(first, "new-1")
    _tool(first, "split")
    assert first.locator("#edit-finish").is_visible()
    for x, y in _line_on_screen(first, split["line"], shape(merged["geometry"])):
        assert 300 < x < 1280 and 0 < y < 800  # on the map, not the panel
        first.touchscreen.tap(x, y)
        first.wait_for_timeout(400)  # two quick taps are a double tap
    first.screenshot(path=str(artifacts / "edit-split-line.png"))
    first.locator("#edit-finish").tap()
    _edit_done(first, 1)

    # the preview: households per grid, nothing saved yet, the validator content
    rows = first.locator("#edit-preview table.edit-table tbody tr")
    keys = [rows.nth(i).get_attribute("data-key") for i in range(rows.count())]
    assert "new-2" in keys and "new-3" in keys and a not in keys and b not in keys
    shown = {rows.nth(i).get_attribute("data-key"): rows.nth(i).inner_text()
             for i in range(rows.count())}
    for feature in expected["grids"]["features"]:
        if feature["id"].startswith("new-"):
            households = feature["properties"]["households"]
            assert f"{households:,}" in shown[feature["id"]]
    assert first.locator("#edit-preview .no-findings").is_visible()
    assert first.locator("#edit-apply").is_disabled()  # saved first, then applied
    assert first.locator(".edit-label").count() == len(keys)  # one label a grid
    first.screenshot(path=str(artifacts / "edit-split-preview.png"))

    # save, then apply with a comment: the new codes and the retired ones
    first.locator("#edit-save-button").tap()
    _until(first, "document.getElementById('edit-result').textContent.includes('草案')")
    _wait_ready(first)
    first.locator("#edit-apply").tap()
    assert "原因" in first.inner_text("#edit-error") or first.locator("#edit-error").is_visible()
    first.fill("#edit-comment", "合并两格再按线拆分，户数均衡")
    tiles_after_apply: list[str] = []
    first.on("request", lambda r: tiles_after_apply.append(r.url)
             if "/tiles/grids/" in r.url else None)
    first.locator("#edit-apply").tap()
    first.wait_for_selector("#editor[data-state=applied]")
    issued = first.locator("#edit-result ul.issued li").all_inner_texts()
    retired = first.locator("#edit-result ul.retired li").all_inner_texts()
    assert set(retired) == {a, b}
    assert len(issued) == 2 and all(len(c) == 15 and c.startswith(COMMUNITY) for c in issued)
    assert not set(issued) & {code for code, _, _ in grids}  # a code is never reused
    first.screenshot(path=str(artifacts / "edit-applied.png"))
    now = first.evaluate(f"fetch('/api/grids?community={COMMUNITY}').then(r => r.json())")
    codes = {f["properties"]["code"] for f in now["features"]}
    assert set(issued) <= codes and not set(retired) & codes
    lineage = set()  # each new grid came from the old ones it covers
    for old in (a, b):
        history = first.evaluate(f"fetch('/api/grids/{old}/history').then(r => r.json())")
        assert history["status"] == "retired"
        lineage |= {d["code"] for d in history["descendants"]}
    assert lineage == set(issued)

    # the map draws the grids from their tiles again, fetched anew: the new grids in their new
    # shapes, labelled, and nothing of the retired ones
    idle(first)
    assert first.evaluate("gridmap.layers.isOn('grids')") and tiles_after_apply
    shapes = {code: geom for code, _, geom in _grids(two_districts)}
    _fit(first, shapely.union_all([shapes[code] for code in issued]))
    pieces = grid_pieces(first)
    assert set(issued) <= set(pieces) and not set(retired) & set(pieces)
    for code in issued:
        inside = shapes[code].representative_point()
        assert first.evaluate(f"gridmap.layers.tiled.grids.contains('{code}', "
                              f"L.latLng({inside.y}, {inside.x}))")
    labelled = first.evaluate("gridmap.labels.groups.get('grids').map((item) => item.id)")
    assert set(issued) <= set(labelled) and not set(retired) & set(labelled)
    first.screenshot(path=str(artifacts / "edit-applied-map.png"))

    # the second planner's draft was drawn from the old grids: 409 on screen
    second.fill("#edit-comment", "合并")
    second.locator("#edit-apply").tap()
    error = second.locator("#edit-error")
    error.wait_for(state="visible")
    assert PLANNERS[0] in error.inner_text()
    second.screenshot(path=str(artifacts / "edit-stale-409.png"))
    # … and so is any further edit of the old grids
    second.locator("#edit-undo").tap() if not second.locator("#edit-undo").is_disabled() \
        else None
    _tap_grid(second, second.evaluate("gridmap.editor.preview.grids.features[0].id"))
    _tool(second, "merge")
    _tap_grid(second, second.evaluate("gridmap.editor.preview.grids.features[1].id"))
    _until(second, "!document.getElementById('edit-error').hidden && document."
                   f"getElementById('edit-error').textContent.includes('{PLANNERS[0]}')")


def test_the_editor_in_portrait(browser, server, planners, artifacts):
    context, page = _page(browser, server, PORTRAIT, planners[PLANNERS[0]], login=PLANNERS[0])
    try:
        open_map(page, server, f"?community={COMMUNITY}")
        page.locator("#panel-toggle").tap()
        _start(page)
        key = page.evaluate("gridmap.editor.preview.grids.features[0].id")
        _tap_grid(page, key)
        assert page.locator("#editor [data-tool=split]").is_visible()
        assert page.locator("#edit-preview table.edit-table").is_visible()
        page.screenshot(path=str(artifacts / "edit-portrait.png"))
        assert page.errors == [] and page.outside_requests == []
    finally:
        context.close()


OTHER = "320508002046"  # a community the split test leaves alone


def _movable_building(page, server, grids) -> tuple[int, str, str]:
    """(building id, its grid, the neighbour it can move to), found through the preview."""
    post = _poster(page, server)
    version = page.evaluate(f"fetch('/api/plans?community={OTHER}').then(r => r.json())"
                            )["version"]
    buildings = features(page, server, "buildings", district=OTHER[:6])
    for a, b in neighbours(grids):
        mine = sorted((bid for bid, props in buildings.items() if props["grid_code"] == a),
                      key=lambda bid: -buildings[bid]["shape"].area)
        for bid in mine:
            status, _ = post("/api/plans/preview", {
                "community": OTHER, "base_version": version,
                "edits": [{"op": "move", "buildings": [int(bid)], "to": b}]})
            if status == 200:
                return int(bid), a, b
    raise AssertionError("no building can move")


def test_a_planner_moves_a_building_and_redraws_a_boundary(browser, server, planners,
                                                          two_districts, artifacts):
    context, page = _page(browser, server, TABLET, planners[PLANNERS[1]], login=PLANNERS[1])
    try:
        open_map(page, server, f"?community={OTHER}")
        with session_scope(two_districts) as session:
            grids = [(code, kind, shapely.from_wkb(bytes(wkb))) for code, kind, wkb in
                     session.execute(text(
                         "select code, kind, ST_AsBinary(geom) from grid where "
                         "community_code = :c and valid_to is null order by code"),
                         {"c": OTHER})]
        building, a, b = _movable_building(page, server, grids)
        footprint = features(page, server, "buildings", district=OTHER[:6])[str(building)]
        _start(page)
        totals = {f["id"]: f["properties"]["households"] for f in
                  page.evaluate("gridmap.editor.preview.grids.features")}

        # move: tap the building, then the neighbouring grid
        _tool(page, "move")
        _fit(page, footprint["shape"], "{maxZoom: 18}")
        point = footprint["shape"].representative_point()
        page.touchscreen.tap(*page_point(page, point.x, point.y))
        _until(page, "gridmap.editor.moving.size === 1")
        page.screenshot(path=str(artifacts / "edit-move-chosen.png"))
        _tap_grid(page, b)
        _edit_done(page, 0)
        after = {f["id"]: f["properties"]["households"] for f in
                 page.evaluate("gridmap.editor.preview.grids.features")}
        households = footprint["households"] or 0
        assert after["new-1"] == totals[a] - households
        assert after["new-2"] == totals[b] + households
        assert sum(after.values()) == sum(totals.values())

        # redraw: drag a corner of new-2 that new-1 shares, into new-1
        feature = page.evaluate("gridmap.editor.preview.grids.features.find((f) => "
                                "f.id === 'new-2')")
        shared = shape(page.evaluate("gridmap.editor.preview.grids.features.find((f) => "
                                     "f.id === 'new-1')")["geometry"])
        taker = shape(feature["geometry"])
        corners = [c for c in shapely.get_coordinates(taker).tolist()
                   if shapely.distance(shapely.Point(c), shared) < 1e-7]
        assert corners
        _tap_grid(page, "new-2")
        _tool(page, "redraw")
        # clear of the side panel (its left 320 px), so every corner of the grid can be reached
        _fit(page, taker, "{paddingTopLeft: [360, 80], paddingBottomRight: [80, 80]}")
        inside = shared.representative_point()
        for cx, cy in corners:
            x, y = page_point(page, cx, cy)
            tx, ty = page_point(page, inside.x, inside.y)
            if 320 < x < 1260 and 20 < y < 780:
                break
        else:
            raise AssertionError("no shared corner on screen")
        # a vertex is dragged with the mouse: Playwright's touchscreen only taps
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + (tx - x) * 0.3, y + (ty - y) * 0.3, steps=8)
        page.mouse.up()
        page.locator("#edit-finish").tap()
        _edit_done(page, 1)
        redrawn = {f["id"]: f["properties"]["households"] for f in
                   page.evaluate("gridmap.editor.preview.grids.features")}
        assert "new-3" in redrawn and sum(redrawn.values()) == sum(totals.values())
        page.screenshot(path=str(artifacts / "edit-redraw-preview.png"))
        page.locator("#edit-undo").tap()
        _until(page, "gridmap.editor.edits.length === 1 && "
                     "document.getElementById('editor').dataset.state === 'ready'")
        page.locator("#edit-leave").tap()
        assert page.locator("#edit-start").is_visible()
        assert page.errors == [] and page.outside_requests == []
    finally:
        context.close()


def test_partition_from_the_web_app(browser, server, planners, two_districts, artifacts):
    """The button proposes a draft for the chosen community, shown with its comparison; for a
    street it runs a job (a worker takes it) whose end shows each community's draft."""
    import subprocess
    import sys

    context, page = _page(browser, server, TABLET, planners[PLANNERS[1]], login=PLANNERS[1])
    try:
        open_map(page, server, "?community=320508002023")
        page.locator("#partition-start").tap()
        _wait_ready(page)
        assert page.locator("#edit-tools").is_visible()
        assert "草案" in page.inner_text("#partition-result")
        keys = page.evaluate("gridmap.editor.preview.grids.features.map((f) => f.id)")
        assert keys and all(k.startswith("draft-") for k in keys)
        assert page.locator("#edit-preview table.edit-table tbody tr").count() == len(keys)
        assert not page.locator("#edit-apply").is_disabled()  # a kept draft can be applied
        page.screenshot(path=str(artifacts / "partition-community.png"))
        page.locator("#edit-leave").tap()

        page.select_option("#choose-community", "")
        idle(page)
        assert page.locator("#partition-start").is_visible()
        assert not page.locator("#edit-start").is_visible()  # a street is not edited by hand
        page.locator("#partition-start").tap()
        page.locator("#partition-progress").wait_for(state="visible")
        page.screenshot(path=str(artifacts / "partition-street-waiting.png"))
        worker = subprocess.run([sys.executable, "-m", "gridmap.cli", "worker", "--once"],
                                env={**__import__("os").environ, "DATABASE_URL": two_districts},
                                capture_output=True, text=True, timeout=300)
        assert worker.returncode == 0, worker.stdout + worker.stderr
        _until(page, "document.getElementById('editor').dataset.partition === 'done'", 60)
        rows = page.locator("#partition-result tbody tr")
        communities = [rows.nth(i).get_attribute("data-community") for i in range(rows.count())]
        assert "320508002046" in communities and all(c.startswith("320508002")
                                                      for c in communities)
        page.screenshot(path=str(artifacts / "partition-street-done.png"))
        rows.nth(0).locator("button").tap()
        _wait_ready(page)
        assert page.evaluate("gridmap.editor.community") == communities[0]
        assert page.evaluate("gridmap.editor.plan") is not None
        assert page.errors == [] and page.outside_requests == []
    finally:
        context.close()
