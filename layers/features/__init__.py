"""OGC API – Features over the layer registry: CRSs (Part 2), queryables and CQL2 (Part 3),
and items pages built by PostGIS. The web blueprint (``webapp/views/ogcapi.py``) only parses
the request into an :class:`ItemsQuery` and renders what these return."""
from layers.features.crs import CRS84, FeatureCrs, offered, parse_crs
from layers.features.items import (DEFAULT_LIMIT, MAX_LIMIT, RESERVED, ItemsPage, ItemsQuery,
                                   district_zones, extent, feature, items, parse_items_query)
from layers.features.queryables import GEOMETRY, Queryable, parameter_filters, queryables

__all__ = ["CRS84", "FeatureCrs", "offered", "parse_crs", "DEFAULT_LIMIT", "MAX_LIMIT",
           "RESERVED", "ItemsPage", "ItemsQuery", "district_zones", "extent", "feature",
           "items", "parse_items_query", "GEOMETRY", "Queryable", "parameter_filters",
           "queryables"]
