"""Vector tiles: tile arithmetic (:mod:`gridmap.tiles.tilemath`) and the shared cache with its
exact invalidation (:mod:`gridmap.tiles.cache`). The SQL of each layer's tile is built by
:mod:`layers.tiles`; the HTTP side is ``webapp/views/tiles.py``."""
from gridmap.tiles.cache import Tile, cached_layers, scope_key, tile
from gridmap.tiles.tilemath import MAX_ZOOM, TileAddress, tile_range

__all__ = ["MAX_ZOOM", "Tile", "TileAddress", "cached_layers", "scope_key", "tile",
           "tile_range"]
