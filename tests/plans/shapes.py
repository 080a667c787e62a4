"""Shapes the property tests draw with."""
from __future__ import annotations

import shapely


def cut_across(geom, fraction: float, vertical: bool) -> list:
    """The polygonal parts of ``geom`` on either side of a straight line across its bounding
    box at ``fraction`` of its width (``vertical``) or height; empty parts left out."""
    x0, y0, x1, y1 = geom.bounds
    if vertical:
        x = x0 + (x1 - x0) * fraction
        halves = shapely.box(x0 - 1, y0 - 1, x, y1 + 1), shapely.box(x, y0 - 1, x1 + 1, y1 + 1)
    else:
        y = y0 + (y1 - y0) * fraction
        halves = shapely.box(x0 - 1, y0 - 1, x1 + 1, y), shapely.box(x0 - 1, y, x1 + 1, y1 + 1)
    parts = [shapely.intersection(geom, half) for half in halves]
    return [p for p in parts if p.geom_type in ("Polygon", "MultiPolygon") and p.area > 0]
