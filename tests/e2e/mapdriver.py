"""Driving the map page in the end-to-end tests: open it, wait until it settles, read what it
shows (labels with their boxes on screen, the view), and an oracle of the grids' real shapes
from the API to check what the page shows against."""
from __future__ import annotations

import itertools

import shapely
from shapely.geometry import shape

_LABELS = """() => [...document.querySelectorAll('.map-label:not(.map-label-measure)')]
  .filter((el) => !el.hidden)
  .map((el) => { const r = el.getBoundingClientRect();
                 return {id: el.dataset.id, layer: el.dataset.layer, text: el.innerText,
                         kind: [...el.classList].find((c) => c.startsWith('kind-')),
                         x: r.left, y: r.top, w: r.width, h: r.height}; })"""


_PIECES = """(() => { const n = {};
  Object.values(gridmap.layers.tiled.grids.layer._vectorTiles).forEach((tile) =>
    Object.keys(tile._features).forEach((id) => { n[id] = (n[id] || 0) + 1; }));
  return n; })()"""


def grid_pieces(page) -> dict[str, int]:
    """How many loaded vector tiles of the grids layer draw a piece of each grid, by code."""
    return page.evaluate(_PIECES)


def idle(page) -> None:
    """Wait until no layer request is pending and labels are placed."""
    page.evaluate("gridmap.idle()")


def sign_in(page, server: str, login: str, password: str) -> None:
    """Sign in on the login page (where any page sends a visitor who has not signed in)."""
    if "/login" not in page.url:
        page.goto(server + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form.card button[type=submit]")


def open_map(page, server: str, query: str = "") -> None:
    page.goto(server + "/" + query)
    page.wait_for_function("window.gridmap !== undefined")
    idle(page)


def set_view(page, zoom: float, lat: float | None = None, lon: float | None = None) -> None:
    if lat is None:
        page.evaluate(f"gridmap.map.setZoom({zoom}, {{animate: false}})")
    else:
        page.evaluate(f"gridmap.map.setView([{lat}, {lon}], {zoom}, {{animate: false}})")
    idle(page)


def view(page) -> tuple[float, float, float]:
    return tuple(page.evaluate("(() => { const c = gridmap.map.getCenter(); "
                               "return [gridmap.map.getZoom(), c.lat, c.lng]; })()"))


def bounds(page) -> tuple[float, float, float, float]:
    """The map's view as minlon, minlat, maxlon, maxlat."""
    return tuple(page.evaluate("(() => { const b = gridmap.map.getBounds(); return "
                               "[b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()"))


def labels(page) -> list[dict]:
    """The labels on screen, each with its box in page pixels."""
    return page.evaluate(_LABELS)


def overlaps(boxes: list[dict]) -> list[tuple[str, str]]:
    """Pairs of boxes whose areas intersect (touching edges do not count)."""
    out = []
    for a, b in itertools.combinations(boxes, 2):
        if (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
                and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]):
            out.append((a["text"], b["text"]))
    return out


def map_origin(page) -> tuple[float, float]:
    box = page.locator("#map").bounding_box()
    return box["x"], box["y"]


def lonlat_at(page, x: float, y: float) -> tuple[float, float]:
    """The lon/lat under a point of the page (page pixels)."""
    ox, oy = map_origin(page)
    return tuple(page.evaluate(f"(() => {{ const ll = gridmap.map.containerPointToLatLng("
                               f"[{x - ox}, {y - oy}]); return [ll.lng, ll.lat]; }})()"))


def page_point(page, lon: float, lat: float) -> tuple[float, float]:
    """The page pixel of a lon/lat."""
    ox, oy = map_origin(page)
    x, y = page.evaluate(f"(() => {{ const p = gridmap.map.latLngToContainerPoint("
                         f"[{lat}, {lon}]); return [p.x, p.y]; }})()")
    return ox + x, oy + y


def features(page, server: str, layer: str, **filters: str) -> dict[str, dict]:
    """The layer's features from the API as the page's signed-in person gets them, by id,
    with their shapely geometry."""
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    response = page.context.request.get(f"{server}/api/layers/{layer}/features?{query}")
    assert response.ok, response.text()
    body = response.json()
    return {str(f["id"]): {**f["properties"], "shape": shape(f["geometry"])}
            for f in body["features"]}


def grid_at(grids: dict[str, dict], lon: float, lat: float) -> str | None:
    hits = [code for code, g in grids.items() if shapely.contains_xy(g["shape"], lon, lat)]
    return hits[0] if len(hits) == 1 else None
