"""Import: read → validate → normalise CRS → upsert, all or nothing."""
from gridmap.ingest.recipe import Recipe, load_recipe
from gridmap.ingest.run import import_recipe

__all__ = ["Recipe", "load_recipe", "import_recipe"]
