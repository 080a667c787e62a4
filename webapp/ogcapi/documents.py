"""The documents of the OGC API – Features service: landing page, conformance, collections,
queryables and the OpenAPI 3.0 description, as plain dicts (the views add the links' base)."""
from __future__ import annotations

from typing import Any, Callable

from layers.features import (CRS84, DEFAULT_LIMIT, GEOMETRY, MAX_LIMIT, FeatureCrs, Queryable,
                             parameter_filters)
from layers.features.cql_parse import ALIASES, LANGUAGES
from layers.features.crs import STORAGE
from layers.sql import SqlLayer

_F1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
_F2 = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/"
_F3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
CONFORMANCE = [
    _F1 + "core", _F1 + "geojson", _F1 + "html", _F1 + "oas30",
    _F2 + "crs",
    _F3 + "filter", _F3 + "features-filter", _F3 + "queryables",
    _F3 + "queryables-query-parameters",
    _CQL2 + "cql2-text", _CQL2 + "cql2-json", _CQL2 + "basic-cql2",
    _CQL2 + "advanced-comparison-operators", _CQL2 + "case-insensitive-comparison",
    _CQL2 + "basic-spatial-functions", _CQL2 + "basic-spatial-functions-plus-points",
    _CQL2 + "spatial-functions", _CQL2 + "temporal-functions", _CQL2 + "property-property",
]
GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"

Url = Callable[..., str]  # url(endpoint, **values) → absolute URL


def link(href: str, rel: str, media: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media, "title": title}


def landing(url: Url, title: str, description: str) -> dict[str, Any]:
    return {"title": title, "description": description, "links": [
        link(url(".landing", f="json"), "self", JSON, "this document"),
        link(url(".landing", f="html"), "alternate", HTML, "this document as HTML"),
        link(url(".openapi"), "service-desc", OPENAPI, "the API definition"),
        link(url(".conformance"), "conformance", JSON, "conformance classes"),
        link(url(".collections"), "data", JSON, "the collections"),
    ]}


def collection(url: Url, layer: SqlLayer, title: str, extent: dict[str, Any],
               crss: list[FeatureCrs]) -> dict[str, Any]:
    """The description of one collection."""
    name = layer.name
    return {
        "id": name, "title": title, "itemType": "feature",
        "links": [
            link(url(".collection", name=name, f="json"), "self", JSON, title),
            link(url(".collection", name=name, f="html"), "alternate", HTML, title),
            link(url(".items", name=name, f="json"), "items", GEOJSON, title),
            link(url(".items", name=name, f="html"), "items", HTML, title),
            link(url(".queryables", name=name), QUERYABLES_REL, "application/schema+json",
                 title),
        ],
        "extent": extent,
        "crs": [c.uri for c in crss],
        "storageCrs": STORAGE.uri,
    }


def queryables_schema(url: Url, layer: SqlLayer, found: dict[str, Queryable],
                      title: str) -> dict[str, Any]:
    """The queryables as a JSON Schema (Part 3)."""
    properties: dict[str, Any] = {GEOMETRY: {"format": "geometry-any", "title": "geometry"}}
    properties.update({name: q.schema() for name, q in found.items()})
    return {"$schema": "https://json-schema.org/draft/2019-09/schema",
            "$id": url(".queryables", name=layer.name), "type": "object", "title": title,
            "properties": properties, "additionalProperties": False}


_SCHEMAS = {"string": {"type": "string"}, "integer": {"type": "integer"},
            "number": {"type": "number"}, "boolean": {"type": "boolean"}}


def _parameter(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema, **extra}


def _common_parameters(crss: list[FeatureCrs]) -> list[dict[str, Any]]:
    uris = [c.uri for c in crss]
    return [
        _parameter("f", "the format of the response", {"type": "string",
                                                        "enum": ["json", "html"]}),
        _parameter("limit", "features per page", {"type": "integer", "minimum": 1,
                                                   "maximum": MAX_LIMIT,
                                                   "default": DEFAULT_LIMIT}),
        _parameter("bbox", "minx,miny,maxx,maxy in bbox-crs (its axis order)",
                   {"type": "array", "minItems": 4, "maxItems": 4,
                    "items": {"type": "number"}}, style="form", explode=False),
        _parameter("bbox-crs", "the CRS of bbox", {"type": "string", "format": "uri",
                                                  "enum": uris, "default": CRS84.uri}),
        _parameter("crs", "the CRS of the response", {"type": "string", "format": "uri",
                                                     "enum": uris, "default": CRS84.uri}),
        _parameter("datetime", "an instant or interval (dated collections)",
                   {"type": "string"}),
        _parameter("filter", "a CQL2 filter", {"type": "string"}),
        _parameter("filter-lang", "the language of filter",
                   {"type": "string", "enum": [*LANGUAGES, *ALIASES],
                    "default": LANGUAGES[0]}),
        _parameter("filter-crs", "the CRS of geometries in filter",
                   {"type": "string", "format": "uri", "enum": uris,
                    "default": CRS84.uri}),
        _parameter("after", "the id after which the page starts (from a next link)",
                   {"type": "string"}),
    ]


def _response(description: str, media: str) -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": {"type": "object"}}}}


_ERRORS = {str(code): _response(text, JSON) for code, text in (
    (400, "invalid parameter"), (401, "an API key is needed"), (403, "not the key's"),
    (404, "no such collection or feature"))}


def openapi(url: Url, layers: list[tuple[SqlLayer, dict[str, Queryable]]],
            crss: list[FeatureCrs], title: str) -> dict[str, Any]:
    """The OpenAPI 3.0 description: one items path per collection, with its property
    parameters (the simple queryables) beside the common ones."""
    common = _common_parameters(crss)
    paths: dict[str, Any] = {
        "/": {"get": {"summary": "landing page", "operationId": "getLandingPage",
                      "responses": {"200": _response("landing page", JSON)}}},
        "/conformance": {"get": {"summary": "conformance classes",
                                 "operationId": "getConformance",
                                 "responses": {"200": _response("conformance", JSON)}}},
        "/collections": {"get": {"summary": "collections", "operationId": "getCollections",
                                 "responses": {"200": _response("collections", JSON)}}},
    }
    for layer, found in layers:
        name = layer.name
        own = [_parameter(p, f"features whose {p} equals the value", _SCHEMAS[q.type])
               for p, q in sorted(parameter_filters(layer, found).items())]
        paths[f"/collections/{name}"] = {"get": {
            "summary": f"the collection {name}", "operationId": f"describe_{name}",
            "responses": {"200": _response("collection", JSON), **_ERRORS}}}
        paths[f"/collections/{name}/queryables"] = {"get": {
            "summary": f"queryables of {name}", "operationId": f"queryables_{name}",
            "responses": {"200": _response("queryables", "application/schema+json"),
                          **_ERRORS}}}
        paths[f"/collections/{name}/items"] = {"get": {
            "summary": f"features of {name}", "operationId": f"items_{name}",
            "parameters": common + own,
            "responses": {"200": _response("features", GEOJSON), **_ERRORS}}}
        paths[f"/collections/{name}/items/{{featureId}}"] = {"get": {
            "summary": f"one feature of {name}", "operationId": f"item_{name}",
            "parameters": [{"name": "featureId", "in": "path", "required": True,
                            "schema": {"type": "string"}}, common[0], common[4]],
            "responses": {"200": _response("feature", GEOJSON), **_ERRORS}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": "1.0.0",
                 "description": "OGC API – Features (Parts 1, 2 and 3) over gridmap's layers"},
        "servers": [{"url": url(".landing").rstrip("/")}],
        "components": {"securitySchemes": {"apiKey": {"type": "apiKey", "in": "header",
                                                      "name": "X-API-Key"}}},
        "paths": paths,
    }
