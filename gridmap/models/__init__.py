"""SQLAlchemy models of the grid hierarchy, buildings and the code registry."""
from gridmap.models.base import Base
from gridmap.models.hierarchy import Community, District, Grid, Street
from gridmap.models.registry import CodeRegistryEntry, GridLineage
from gridmap.models.building import Building
from gridmap.models.context import Road, Water
from gridmap.models.division import Division

__all__ = ["Base", "District", "Street", "Community", "Grid", "Building", "CodeRegistryEntry",
           "GridLineage", "Road", "Water", "Division"]
