"""End to end: gunicorn serves the app, headless Chromium at tablet size draws the district's
grids over its own roads and water, with nothing loaded from outside the app."""
from __future__ import annotations

import subprocess

from tests.e2e.mapdriver import open_map


def test_map_draws_grids_roads_and_water_offline(tablet, server, artifacts):
    open_map(tablet, server, "?district=420111")
    loaded = tablet.evaluate("({...document.getElementById('map').dataset})")
    assert int(loaded["loadedgrids"]) == 24
    assert int(loaded["loadedroads"]) == 210  # demo zoom (15.75) is over roads' min zoom 14
    assert int(loaded["loadedwater"]) == 1
    assert tablet.locator(".leaflet-layer-water-pane path").count() == 1
    assert tablet.locator(".leaflet-layer-roads-pane path").count() == 210
    # buildings from vector tiles, also at the fractional zoom the district is fitted to (a
    # reload once asked for tiles at z15.75: 400s and no buildings)
    assert int(loaded["loadedbuildings"]) >= 200
    assert tablet.locator(".leaflet-layer-buildings-pane path").count() >= 200
    tablet.screenshot(path=str(artifacts / "map-tablet.png"))
    assert tablet.outside_requests == []  # nothing loaded from outside the app


def test_roads_and_water_lie_under_the_grids_and_take_no_taps(tablet, server):
    open_map(tablet, server, "?district=420111")
    z = tablet.evaluate("""(() => Object.fromEntries(['water', 'roads', 'grids', 'buildings',
        'communities'].map((n) => [n, Number(getComputedStyle(document.querySelector(
        `.leaflet-layer-${n}-pane`)).zIndex)])))()""")
    assert z["water"] < z["roads"] < z["grids"] < z["buildings"] < z["communities"]
    label_z = tablet.evaluate("Number(getComputedStyle(document.querySelector("
                              "'.leaflet-label-pane')).zIndex)")
    assert label_z > max(z.values())
    interactive = tablet.evaluate("""(() => ['water', 'roads'].map((n) => document
        .querySelectorAll(`.leaflet-layer-${n}-pane path.leaflet-interactive`).length))()""")
    assert interactive == [0, 0]
    lake = tablet.locator(".leaflet-layer-water-pane path").first
    assert lake.get_attribute("fill") == "#a9cdeb"


def test_chinese_text_has_a_font():
    # Labels and names are Chinese: without a CJK font Chromium draws empty boxes.
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    assert fonts.stdout.strip(), "no font covers Chinese (fonts-wqy-microhei)"
