"""Touch: a tap selects the shape under the finger (labels take no taps), and in portrait
(800×1280) the panel is a bottom sheet that leaves the map most of the screen."""
from __future__ import annotations

import shapely

from tests.e2e.mapdriver import (features, grid_at, idle, labels, lonlat_at, open_map,
                                 overlaps, page_point, set_view, view)


def _hide_buildings(page) -> None:
    """Leave the grids under the labels: buildings and incidents (circles drawn over the
    grids, an overdue one larger) hidden."""
    page.click("#layers summary")
    page.uncheck("input[data-layer=buildings]")
    page.uncheck("input[data-layer=incidents]")
    idle(page)


def _info_code(page) -> str:
    page.wait_for_selector("#info table")
    rows = dict(line.split("\t", 1) for line in page.inner_text("#info table").splitlines()
                if "\t" in line)
    return rows["网格编码"]


def test_a_tap_on_a_label_selects_the_grid_under_the_finger(tablet, server, artifacts):
    open_map(tablet, server, "?district=420111")
    _hide_buildings(tablet)
    fit, lat, lon = view(tablet)
    set_view(tablet, fit + 0.5, lat, lon)
    grids = features(tablet, server, "grids", district="420111")
    before = view(tablet)
    shown = labels(tablet)
    assert len(shown) >= 8
    for label in shown[:8]:
        for x, y in ((label["x"] + label["w"] / 2, label["y"] + label["h"] / 2),
                     (label["x"] + 2, label["y"] + 2),
                     (label["x"] + label["w"] - 2, label["y"] + label["h"] - 2)):
            assert tablet.evaluate(f"document.elementFromPoint({x}, {y}).tagName") == "path"
            tablet.touchscreen.tap(x, y)
            expected = grid_at(grids, *lonlat_at(tablet, x, y))
            assert expected == label["id"]  # a label lies inside the grid it names …
            assert _info_code(tablet) == expected  # … and a tap on it selects that grid
            tablet.wait_for_timeout(600)  # two quick taps are a double tap: a zoom
    assert view(tablet) == before
    info = tablet.inner_text("#info")
    assert "户数" in info and "面积" in info
    tablet.screenshot(path=str(artifacts / "map-grid-details.png"))


def test_a_tap_on_a_building_selects_the_building(tablet, server):
    open_map(tablet, server, "?district=420111")
    fit, lat, lon = view(tablet)
    set_view(tablet, fit + 1.5, lat, lon)
    buildings = features(tablet, server, "buildings", district="420111")
    west, south, east, north = tablet.evaluate("(() => { const b = gridmap.map.getBounds(); "
                                               "return [b.getWest(), b.getSouth(), "
                                               "b.getEast(), b.getNorth()]; })()")
    on_screen = [b for b in buildings.values() if b["shape"].area > 2e-8 and shapely.within(
        b["shape"].representative_point(), shapely.box(west, south, east, north))]
    for target in sorted(on_screen, key=lambda b: -b["shape"].area):
        point = target["shape"].representative_point()
        x, y = page_point(tablet, point.x, point.y)
        if tablet.evaluate(f"document.elementFromPoint({x}, {y}).tagName") == "path":
            break  # not under a control or the label pane's neighbour
    else:
        raise AssertionError("no building on screen can be tapped")
    tablet.touchscreen.tap(x, y)
    tablet.wait_for_selector("#info table")
    assert tablet.inner_text("#info h2").startswith("建筑")
    assert target["grid_code"] in tablet.inner_text("#info table")


def test_landscape_keeps_the_side_panel(tablet, server):
    open_map(tablet, server, "?district=420111")
    panel = tablet.locator("#panel").bounding_box()
    assert 300 <= panel["width"] <= 301 and panel["height"] == 800  # 300 px and its border
    assert not tablet.locator("#panel-toggle").is_visible()
    assert tablet.locator("#choose-district").is_visible()


def test_portrait_sheet_leaves_the_map_most_of_the_screen(portrait, server, artifacts):
    open_map(portrait, server, "?district=420111")
    closed = portrait.locator("#map").bounding_box()
    assert closed["width"] == 800 and closed["height"] >= 0.9 * 1280
    assert not portrait.locator("#choose-district").is_visible()
    shown = labels(portrait)
    assert shown and overlaps(shown) == []
    label = max(shown, key=lambda l: l["w"] * l["h"])
    portrait.touchscreen.tap(label["x"] + label["w"] / 2, label["y"] + label["h"] / 2)
    portrait.wait_for_function(f"document.getElementById('summary').textContent"
                               f".includes('{label['id']}')")
    portrait.screenshot(path=str(artifacts / "map-portrait.png"))

    portrait.touchscreen.tap(*_centre(portrait.locator("#panel-toggle").bounding_box()))
    idle(portrait)
    assert portrait.locator("#choose-district").is_visible()
    assert portrait.get_attribute("#panel-toggle", "aria-expanded") == "true"
    opened = portrait.locator("#map").bounding_box()
    assert opened["height"] >= 0.5 * 1280
    assert label["id"] in portrait.inner_text("#info")
    portrait.screenshot(path=str(artifacts / "map-portrait-open.png"))
    portrait.touchscreen.tap(*_centre(portrait.locator("#panel-toggle").bounding_box()))
    idle(portrait)
    assert portrait.locator("#map").bounding_box()["height"] >= 0.9 * 1280


def _centre(box) -> tuple[float, float]:
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
