"""Labels a planner can read: never two over each other at any zoom, short (the grid's number)
when zoomed out and full (code and households) when zoomed in, each inside its own grid, unit
grids by their name."""
from __future__ import annotations

import re

import shapely

from tests.e2e.mapdriver import (features, labels, lonlat_at, open_map, overlaps, set_view,
                                 view)

FULL_CODE = re.compile(r"\d{15}")


def _inside_own_grid(page, label, grids) -> bool:
    corners = [(label["x"] + dx, label["y"] + dy)
               for dx in (2, label["w"] - 2) for dy in (2, label["h"] - 2)]
    grid = grids[label["id"]]["shape"]
    return all(shapely.contains_xy(grid, *lonlat_at(page, x, y)) for x, y in corners)


def test_labels_never_overlap_at_any_zoom(tablet, server, artifacts):
    open_map(tablet, server, "?district=420111")
    grids = features(tablet, server, "grids", district="420111")
    fit, lat, lon = view(tablet)
    centres = [(lat, lon), (30.5050, 114.3880), (30.5120, 114.4010)]
    checked = 0
    for step in range(-3, 7):  # fit − 1.5 … fit + 3, by half zoom levels
        zoom = fit + step / 2
        for c_lat, c_lon in centres:
            set_view(tablet, zoom, c_lat, c_lon)
            shown = labels(tablet)
            assert overlaps(shown) == [], f"labels overlap at zoom {zoom}"
            assert all(_inside_own_grid(tablet, label, grids) for label in shown), zoom
            checked += len(shown)
        if step in (-2, 0, 2, 4):
            tablet.screenshot(path=str(artifacts / f"labels-z{zoom:g}.png"))
    assert checked > 100  # not vacuous: labels were on screen at these views


def test_labels_are_short_zoomed_out_and_full_zoomed_in(tablet, server):
    open_map(tablet, server, "?district=420111")
    fit, lat, lon = view(tablet)
    set_view(tablet, fit - 1, lat, lon)
    far = labels(tablet)
    assert far and not any(FULL_CODE.search(l["text"]) for l in far)
    assert any(re.fullmatch(r"\d+", l["text"]) for l in far)  # the sequence number
    set_view(tablet, fit + 1.5, lat, lon)
    near = labels(tablet)
    full = [l for l in near if FULL_CODE.search(l["text"])]
    assert full and all(("户" in l["text"]) == (l["kind"] == "kind-residential") for l in full)


def test_unit_grids_are_labelled_by_name_and_names_show(tablet, server):
    for district, lat, lon in (("420111", 30.5080, 114.3948), ("320508", 31.3080, 120.5948)):
        open_map(tablet, server, f"?district={district}&map=16.75/{lat}/{lon}")
        grids = features(tablet, server, "grids", district=district)
        seen = []
        for dlat, dlon in ((0.004, -0.006), (0.004, 0.006), (-0.004, -0.006), (-0.004, 0.006)):
            set_view(tablet, 16.75, lat + dlat, lon + dlon)
            seen += labels(tablet)
        units = [l for l in seen if l["kind"] == "kind-unit"]
        assert units and not any("户" in l["text"] for l in units)  # never "0 户"
        assert any(grids[l["id"]]["name"] in l["text"] for l in units)
    assert any("平江一网格" in l["text"] for l in seen)  # a residential grid with a name
