"""The district → street → community chooser and the URL: the map fits the chosen unit only,
the URL says what is shown (and can be shared), back and forward walk the choices."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from tests.e2e.mapdriver import bounds, idle, labels, open_map, set_view, sign_in, view

WUHAN = (114.3830496, 30.5005077, 114.4066181, 30.5155373)
SUZHOU = (120.5830496, 31.3005077, 120.6066181, 31.3155373)


def _contains(outer, inner) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] \
        and outer[3] >= inner[3]


def _intersects(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def _selected(page) -> list[str]:
    return [page.input_value(f"#choose-{level}") for level in ("district", "street", "community")]


def test_district_in_the_url_fits_that_district_only(tablet, server):
    open_map(tablet, server, "?district=420111")
    shown = bounds(tablet)
    assert _contains(shown, WUHAN) and not _intersects(shown, SUZHOU)
    assert shown[2] - shown[0] < 0.1  # a district's width, not 650 km
    ids = [l["id"] for l in labels(tablet)]
    assert ids and all(i.startswith("420111") for i in ids)
    assert _selected(tablet) == ["420111", "", ""]


def test_without_a_choice_the_map_shows_one_district(tablet, server):
    open_map(tablet, server)
    shown = bounds(tablet)
    assert _intersects(shown, WUHAN) != _intersects(shown, SUZHOU)
    options = tablet.locator("#choose-district option").all_inner_texts()
    assert any("洪山区" in o for o in options) and any("姑苏区" in o for o in options)


def test_choosing_walks_down_and_history_walks_back(tablet, server, artifacts):
    open_map(tablet, server, "?district=420111")
    tablet.select_option("#choose-district", "320508")
    idle(tablet)
    assert _query(tablet)["district"] == "320508"
    assert _contains(bounds(tablet), SUZHOU)
    tablet.select_option("#choose-street", "320508002")
    idle(tablet)
    tablet.select_option("#choose-community", "320508002046")
    idle(tablet)
    query = _query(tablet)
    assert (query["district"], query["street"], query["community"]) == (
        "320508", "320508002", "320508002046")
    community = tablet.evaluate("fetch('/api/hierarchy/320508002046').then(r => r.json())")
    shown = bounds(tablet)
    assert _contains(shown, community["bbox"])
    assert (shown[2] - shown[0]) < (SUZHOU[2] - SUZHOU[0])  # zoomed to the community
    assert "华中科技大学社区" in tablet.inner_text("#info")
    outlined = tablet.locator(".leaflet-layer-communities-pane path[stroke='#6a1b9a']")
    assert outlined.count() == 1  # the chosen community's boundary stands out
    tablet.screenshot(path=str(artifacts / "chooser-community.png"))

    tablet.go_back()
    idle(tablet)
    assert _selected(tablet) == ["320508", "320508002", ""]
    tablet.go_back()
    idle(tablet)
    assert _selected(tablet) == ["320508", "", ""]
    tablet.go_back()
    idle(tablet)
    assert _selected(tablet) == ["420111", "", ""] and _contains(bounds(tablet), WUHAN)
    tablet.go_forward()
    idle(tablet)
    assert _selected(tablet) == ["320508", "", ""] and _contains(bounds(tablet), SUZHOU)


def test_a_shared_url_opens_the_same_view(tablet, server, browser, demo_passwords):
    open_map(tablet, server, "?district=420111")
    set_view(tablet, 17.25, 30.5060, 114.3900)
    shared = tablet.url
    assert _query(tablet)["map"] == "17.25/30.50600/114.39000"
    context = browser.new_context(viewport={"width": 1280, "height": 800}, has_touch=True)
    try:
        other = context.new_page()
        other.goto(shared)  # someone not signed in is sent to sign in, then to the view
        assert "/login?next=" in other.url
        sign_in(other, server, "demo-admin", demo_passwords["demo-admin"])
        other.wait_for_function("window.gridmap !== undefined")
        idle(other)
        zoom, lat, lon = view(other)
        assert zoom == 17.25 and abs(lat - 30.5060) < 1e-5 and abs(lon - 114.3900) < 1e-5
        assert _selected(other) == ["420111", "", ""]
    finally:
        context.close()
