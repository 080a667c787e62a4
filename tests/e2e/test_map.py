"""End to end: gunicorn serves the app, headless Chromium at tablet size draws the district's
grids (from vector tiles) over its own roads and water, with nothing loaded from outside the
app."""
from __future__ import annotations

import re
import subprocess
from collections import Counter

from tests.e2e.mapdriver import grid_pieces, labels, open_map, set_view, view


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


def test_grids_come_from_vector_tiles_and_each_is_labelled_once(tablet, server, artifacts):
    asked: list[str] = []
    tablet.on("request", lambda request: asked.append(request.url.removeprefix(server)))
    open_map(tablet, server, "?district=420111")
    grid_tiles = [p for p in asked if p.startswith("/tiles/grids/")]
    assert grid_tiles and all(re.fullmatch(r"/tiles/grids/\d+/\d+/\d+\.mvt", p)
                              for p in grid_tiles)
    assert not any(p.startswith("/api/layers/grids/features") for p in asked)  # no GeoJSON
    assert any(p.startswith("/api/layers/grids/labels?bbox=") for p in asked)
    drawn = tablet.locator(".leaflet-layer-grids-pane .leaflet-tile path")
    assert drawn.count() >= 24  # the grids' polygons are the tiles' paths
    fit, lat, lon = view(tablet)
    for zoom in (fit, fit + 1.25):
        set_view(tablet, zoom, lat, lon)
        pieces = grid_pieces(tablet)
        shown = [l["id"] for l in labels(tablet) if l["layer"] == "grids"]
        assert shown and max(Counter(shown).values()) == 1  # one label a grid …
        cut = [code for code in shown if pieces.get(code, 0) >= 2]
        assert cut, f"no labelled grid crosses a tile edge at zoom {zoom}"  # … also when cut
    tablet.screenshot(path=str(artifacts / "map-grids-tiles.png"))


def test_a_tapped_grid_shows_its_details_from_its_tile(tablet, server):
    open_map(tablet, server, "?district=420111")
    tablet.click("#layers summary")
    tablet.uncheck("input[data-layer=buildings]")
    tablet.uncheck("input[data-layer=incidents]")
    label = max(labels(tablet), key=lambda l: l["w"] * l["h"])
    tablet.touchscreen.tap(label["x"] + label["w"] / 2, label["y"] + label["h"] / 2)
    tablet.wait_for_selector("#info table")
    info = tablet.inner_text("#info")
    assert label["id"] in tablet.inner_text("#info h2")
    for field in ("网格编码", "类型", "社区名称", "户数", "户数范围", "楼栋数", "面积"):
        assert field in info
    # the tapped grid outlined in every tile that draws a piece of it
    strokes = tablet.evaluate(f"""Object.values(gridmap.layers.tiled.grids.layer._vectorTiles)
        .map((tile) => tile._features['{label["id"]}']).filter(Boolean)
        .map((f) => f.feature._path.getAttribute('stroke'))""")
    assert strokes and set(strokes) == {"#e0115f"}


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
