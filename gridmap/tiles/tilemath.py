"""Web Mercator tile arithmetic (XYZ scheme, y down from the north), the same as the SQL
function ``tile_ranges`` the invalidation triggers use (migration 0015) — pure and
property-tested against it.

A tile's features reach :data:`BUFFER` of its width beyond its edges (what ``ST_AsMVTGeom``
keeps), so the tiles a box touches are those whose buffered square meets it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from gridmap.errors import InvalidInput
from gridmap.i18n import msg

#: Half the width of the Web Mercator square (EPSG:3857), metres.
HALF_WORLD = 20037508.342789244
WORLD = 2 * HALF_WORLD
#: The highest zoom served (a z18 tile is about 150 m wide; maps zoom further by scaling it).
MAX_ZOOM = 18
EXTENT = 4096
BUFFER_PX = 64
BUFFER = BUFFER_PX / EXTENT


@dataclass(frozen=True)
class TileAddress:
    """One tile, checked: ``0 ≤ z ≤ MAX_ZOOM`` and ``0 ≤ x, y < 2**z``."""

    z: int
    x: int
    y: int

    @classmethod
    def parse(cls, z: str, x: str, y: str) -> "TileAddress":
        """The tile at the path parts ``z``, ``x``, ``y``; InvalidInput naming the bad part."""
        values = {}
        for name, raw in (("z", z), ("x", x), ("y", y)):
            if not (raw.isascii() and raw.isdigit() and len(raw) <= 7):
                raise InvalidInput(msg("tile {name} {raw!r}: expected a whole number ≥ 0",
                                       name=name, raw=raw))
            values[name] = int(raw)
        if values["z"] > MAX_ZOOM:
            raise InvalidInput(msg("tile zoom {z}: expected 0…{max}", z=values["z"],
                                   max=MAX_ZOOM))
        n = 2 ** values["z"]
        for name in ("x", "y"):
            if values[name] >= n:
                raise InvalidInput(msg("tile {name} {value} at zoom {z}: expected 0…{max}",
                                       name=name, value=values[name], z=values["z"],
                                       max=n - 1))
        return cls(values["z"], values["x"], values["y"])

    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` in EPSG:3857."""
        size = tile_size(self.z)
        return (-HALF_WORLD + self.x * size, HALF_WORLD - (self.y + 1) * size,
                -HALF_WORLD + (self.x + 1) * size, HALF_WORLD - self.y * size)


def tile_size(z: int) -> float:
    """Width of a tile of zoom ``z`` in EPSG:3857 metres."""
    return WORLD / 2 ** z


def tile_range(box: tuple[float, float, float, float],
               z: int) -> tuple[int, int, int, int]:
    """``(x0, x1, y0, y1)``: the tiles of zoom ``z`` whose buffered square meets ``box``
    (``xmin, ymin, xmax, ymax`` in EPSG:3857), clamped to the world."""
    xmin, ymin, xmax, ymax = box
    size, n = tile_size(z), 2 ** z
    x0 = max(0, math.ceil((xmin + HALF_WORLD) / size - 1 - BUFFER))
    x1 = min(n - 1, math.floor((xmax + HALF_WORLD) / size + BUFFER))
    y0 = max(0, math.ceil((HALF_WORLD - ymax) / size - 1 - BUFFER))
    y1 = min(n - 1, math.floor((HALF_WORLD - ymin) / size + BUFFER))
    return x0, x1, y0, y1


def lonlat_to_mercator(lon: float, lat: float) -> tuple[float, float]:
    """EPSG:4326/4490 lon, lat → EPSG:3857 x, y (spherical Web Mercator)."""
    x = lon * HALF_WORLD / 180.0
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * WORLD / (2 * math.pi)
    return x, y


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The ``(x, y)`` of the tile of zoom ``z`` holding the point."""
    x, y = lonlat_to_mercator(lon, lat)
    size, n = tile_size(z), 2 ** z
    return (min(n - 1, int((x + HALF_WORLD) // size)),
            min(n - 1, int((HALF_WORLD - y) // size)))
