"""A grid's translucent fill drawn from vector tiles looks the same on both sides of a tile
edge and on it: at fractional zooms (a pinch, the view fitted to a district: tiles scaled,
their edges inside a screen pixel) as at whole ones, in landscape and in portrait, and on a
screen of 1.5 pixels a CSS pixel (where an edge falls inside a screen pixel at whole zooms
too). Measured in the screenshot's pixels along every tile edge, inside the grids (their
shapes from the feature API), with everything but the grids hidden (tiled.js, seamless())."""
from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from PIL import Image
from shapely.geometry import LineString

from tests.e2e.mapdriver import features, idle, open_map, set_view, view

#: A whole zoom (seams showed there at 1.5 screen pixels a CSS pixel) and fractional ones
#: (the tiles of z16 scaled by 0.707 and 1.19; 15.5 is the portrait's fitted view).
ZOOMS = (16.0, 15.5, 16.25)
#: How far either side of an edge the fill is read (screen pixels), and how far inside a
#: grid's outline (CSS pixels: its stroke is 2 wide).
REACH = 6
INSIDE = 4
#: The most a pixel on an edge may differ from the fill beside it, per channel (0…255): a
#: seam differed by 4 to 16 before.
TOLERANCE = 2

_ONLY_GRIDS = """() => document.querySelectorAll('.leaflet-map-pane > .leaflet-pane')
  .forEach((pane) => { if (!pane.classList.contains('leaflet-layer-grids-pane')) {
                         pane.style.visibility = 'hidden'; } })"""

# the grids' tiles of the map's zoom all loaded, faded in, and no other zoom's left under them
_SETTLED = """() => { const layer = gridmap.layers.tiled.grids.layer;
  const tiles = Object.values(layer._tiles);
  return tiles.length > 0 && tiles.every((t) => t.loaded && t.active && t.current
                                          && t.coords.z === layer._tileZoom)
    && document.querySelectorAll('.leaflet-layer-grids-pane .leaflet-tile').length
       === tiles.length; }"""

# each tile's box on the page, by its x/y
_TILES = """() => Object.values(gridmap.layers.tiled.grids.layer._tiles).map((t) => {
  const r = t.el.getBoundingClientRect();
  return [t.coords.x, t.coords.y, r.left, r.top, r.right, r.bottom]; })"""

_TO_PAGE = """(points) => { const box = document.getElementById('map').getBoundingClientRect();
  return points.map(([lon, lat]) => { const p = gridmap.map.latLngToContainerPoint([lat, lon]);
                                       return [p.x + box.left, p.y + box.top]; }); }"""

# what a point of the page shows: 2 the grids pane, 1 the map under it, 0 anything else (the
# panel, a control)
_SHOWS = """(points) => points.map(([x, y]) => { const el = document.elementFromPoint(x, y);
  if (el && el.closest('.leaflet-layer-grids-pane')) { return 2; }
  return el && (el.id === 'map' || el.closest('.leaflet-map-pane')) ? 1 : 0; })"""
#: How far from the panel or a control a run stays (px): their shadows reach onto the map.
CLEAR = 16


def _settle(page) -> None:
    idle(page)
    page.wait_for_function(_SETTLED)
    page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def _grids_on_screen(page, grids: dict[str, dict], scale: float) -> list:
    """Each grid's shape in screen pixels (``scale`` a CSS pixel), shrunk by INSIDE: where its
    fill alone is drawn."""
    out = []
    for grid in grids.values():
        shape = shapely.transform(
            grid["shape"], lambda xy: np.array(page.evaluate(_TO_PAGE, xy.tolist())) * scale)
        out.append(shape.buffer(-INSIDE * scale))
    return out


def _edges(page, scale: float):
    """The tile edges on the screen: (axis, position, start, end) in screen pixels, axis "x"
    for an edge between a tile and the next to its right (a vertical line at x = position),
    "y" below."""
    boxes = {(x, y): tuple(v * scale for v in box)
             for x, y, *box in page.evaluate(_TILES)}
    for (x, y), (left, top, right, bottom) in boxes.items():
        if (x + 1, y) in boxes:
            _, top2, _, bottom2 = boxes[(x + 1, y)]
            yield "x", right, max(top, top2), min(bottom, bottom2)
        if (x, y + 1) in boxes:
            left2, _, right2, _ = boxes[(x, y + 1)]
            yield "y", bottom, max(left, left2), min(right, right2)


def _seams(page, shapes, picture: np.ndarray, scale: float) -> tuple[dict[str, int], list]:
    """Runs of pixels across the tile edges, each inside one grid: how many across vertical
    ("x") and horizontal ("y") edges, and those in which a pixel differs from the fill beside
    the edge by more than TOLERANCE."""
    candidates = []
    for axis, at, start, end in _edges(page, scale):
        edge = math.floor(at)  # the pixel the edge falls in
        for along in range(math.ceil(start) + REACH, math.floor(end) - REACH):
            a, b = (edge - REACH + 0.5, edge + REACH + 0.5)
            mid = along + 0.5
            line = LineString([(a, mid), (b, mid)] if axis == "x" else [(mid, a), (mid, b)])
            if any(shape.contains(line) for shape in shapes):
                candidates.append((axis, at, edge, along, line))
    # the run's middle shows the grids, and the map is all there is about it: no panel or
    # control (the attribution, the report button) nor their shadows
    points = []
    for *_, line in candidates:
        (x0, y0), (x1, y1) = [(x / scale, y / scale) for x, y in line.coords]  # CSS px
        points += [((x0 + x1) / 2, (y0 + y1) / 2)] + [(x, y) for x in (x0 - CLEAR, x1 + CLEAR)
                                                      for y in (y0 - CLEAR, y1 + CLEAR)]
    shown = page.evaluate(_SHOWS, points) if points else []
    samples = [c for i, c in enumerate(candidates)
               if shown[5 * i] == 2 and all(shown[5 * i + 1:5 * i + 5])]
    bad = []
    for axis, at, edge, along, _ in samples:
        across = range(edge - REACH, edge + REACH + 1)
        run = (picture[along, across.start:across.stop] if axis == "x"
               else picture[across.start:across.stop, along]).astype(int)
        beside = np.concatenate([run[:REACH - 2], run[REACH + 3:]])  # 3 px off the edge pixel
        fill = np.median(beside, axis=0)
        off = int(np.abs(run - fill).max())
        if off > TOLERANCE:
            bad.append((axis, round(at, 3), along, off, run[REACH - 2:REACH + 3].tolist(),
                        fill.tolist()))
    return {axis: sum(1 for s in samples if s[0] == axis) for axis in "xy"}, bad


@pytest.mark.parametrize("viewport", ["tablet", "portrait", "tablet_hidpi"])
def test_translucent_fills_show_no_seam_along_tile_edges(viewport, request, server, artifacts):
    page = request.getfixturevalue(viewport)
    scale = page.evaluate("window.devicePixelRatio")
    open_map(page, server, "?district=420111")
    grids = features(page, server, "grids", district="420111")
    page.evaluate(_ONLY_GRIDS)
    _, lat, lon = view(page)
    for zoom in ZOOMS:
        set_view(page, zoom, lat, lon)
        _settle(page)
        path = artifacts / f"tile-seams-{viewport}-z{zoom:g}.png"
        page.screenshot(path=str(path))
        picture = np.asarray(Image.open(path).convert("RGB"))
        counts, bad = _seams(page, _grids_on_screen(page, grids, scale), picture, scale)
        # not vacuous: many runs across both vertical and horizontal edges, inside grids
        assert min(counts.values()) >= 100, f"too few runs across tile edges at z{zoom}: {counts}"
        assert not bad, (f"z{zoom}: {len(bad)} of {sum(counts.values())} pixel runs across "
                         f"tile edges show a seam, e.g. {bad[:3]}")
