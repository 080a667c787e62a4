"""``/ogcapi``: OGC API – Features over every layer of the registry.

Views only parse the request (:func:`layers.features.parse_items_query`), pick the
representation (``f=json|html``, else the Accept header) and render; the queries live in
:mod:`layers.features`. Access: the collections named by the ``ogcapi_public_collections``
setting are open to anyone; the others need an agency's key in ``X-API-Key`` naming them (a
signed-in person reads what their scope reaches). Every request made with a key leaves one
line in the audit trail.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, current_app, g, render_template, request, url_for

from gridmap import audit
from gridmap.auth.scope import Scope
from gridmap.errors import AuthenticationFailed, InvalidInput
from gridmap.i18n import msg
from layers import get_layer
from layers.features import (district_zones, extent, feature, items, offered, parse_crs,
                             parse_items_query, queryables)
from layers.sql import SqlLayer
from webapp import params
from webapp.auth import access
from webapp.database import get_session
from webapp.ogcapi import documents as docs

bp = Blueprint("ogcapi", __name__, url_prefix="/ogcapi")
FORMATS = ("json", "html")


def _url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def _wants_html() -> bool:
    """``f=html|json`` decides; else the Accept header (JSON when it does not prefer HTML)."""
    chosen = params.single("f")
    if chosen is not None:
        if chosen not in FORMATS:
            raise InvalidInput(msg("f {value!r}: expected one of {items}", value=chosen,
                                   items=", ".join(FORMATS)))
        return chosen == "html"
    best = request.accept_mimetypes.best_match([docs.JSON, docs.GEOJSON, docs.HTML])
    return best == docs.HTML and request.accept_mimetypes[docs.HTML] > \
        request.accept_mimetypes[docs.JSON]


def _public() -> frozenset[str]:
    raw = current_app.config["GRIDMAP"]["ogcapi_public_collections"]
    return frozenset(n.strip() for n in raw.split(",") if n.strip())


def _scope() -> Scope:
    """The caller's scope, widened by the public collections."""
    scope = g.get("scope")
    if scope is None:
        return Scope.for_public(_public())
    if scope.collections is None:
        return scope
    return replace(scope, collections=scope.collections | _public())


def _layers() -> dict[str, SqlLayer]:
    return {name: layer for name, layer in current_app.extensions["gridmap_layers"].items()
            if isinstance(layer, SqlLayer)}


def _timezone() -> str:
    """The ``timezone`` setting: feature times are written in it, with its offset."""
    return current_app.config["GRIDMAP"]["timezone"]


def _visible() -> list[SqlLayer]:
    scope = _scope()
    return [layer for layer in _layers().values() if scope.allows_collection(layer.name)]


def _collection(name: str) -> SqlLayer:
    """The layer ``name`` if the caller may read it: 404, 401 (no key) or 403 (not the key's)."""
    layer = get_layer(_layers(), name)
    if g.get("scope") is None and name not in _public():
        raise AuthenticationFailed(msg("collection {name} needs an agency API key, in the "
                                       "X-API-Key header or as the password of HTTP Basic "
                                       "credentials; public collections: {items}",
                                       name=name, items=", ".join(sorted(_public())) or "none"))
    layer.check_collection(_scope())
    return layer


def _title(layer: SqlLayer) -> str:
    return layer.describe()["title"]


def _json(document: Any, media: str = docs.JSON) -> Response:
    return Response(json.dumps(document, ensure_ascii=False, default=str), mimetype=media)


def _render(document: dict[str, Any], media: str = docs.JSON, **page: Any) -> Response:
    if _wants_html():
        return Response(render_template("ogcapi.html", document=document, **page),
                        mimetype="text/html")
    return _json(document, media)


@bp.after_request
def _challenge(response: Response) -> Response:
    """A 401 says how to authenticate (RFC 9110 asks it to): Basic, the key as the password,
    which is how a GIS client that cannot add an ``X-API-Key`` header (QGIS 3.22) signs in."""
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="gridmap OGC API", charset="UTF-8"'
    return response


@bp.after_request
def _caching(response: Response) -> Response:
    """Say what an answer depends on (the credentials, the format, the language), and that it
    must not be stored: what a caller sees depends on who asks. QGIS keeps answers in its disk
    cache whatever ``Vary`` or ``no-cache`` say, and reused them for another caller: a
    connection given a key went on listing the collections seen without it."""
    response.vary.update(("Cookie", "X-API-Key", "Authorization", "Accept", "Accept-Language"))
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.after_request
def _audit(response: Response) -> Response:
    """One audit line for every request made with an agency's key."""
    actor = audit.current_actor()
    if actor.kind != "api_key":
        return response
    session = get_session(check_schema=False)
    try:
        session.rollback()
        audit.record(session, action="read", table="ogcapi", key=request.path,
                     after={"query": request.query_string.decode("utf-8", "replace")[:1000],
                            "status": response.status_code})
        session.commit()
    except Exception:  # noqa: BLE001 — the answer stands; the failure is logged
        current_app.logger.exception("could not record the OGC API request in the audit trail")
        session.rollback()
    return response


@bp.get("")
@bp.get("/")
@access("public")
def landing():
    title = msg("gridmap OGC API – Features")
    document = docs.landing(_url, str(title), str(msg(
        "Grids, buildings and the other layers of gridmap for GIS clients (QGIS, GDAL)")))
    return _render(document, heading=title)


@bp.get("/conformance")
@access("public")
def conformance():
    return _render({"conformsTo": docs.CONFORMANCE}, heading=msg("Conformance classes"))


@bp.get("/api")
@access("public")
def openapi():
    session = get_session()
    crss = offered(district_zones(session))
    found = [(layer, queryables(session, layer)) for layer in _visible()]
    return _json(docs.openapi(_url, found, crss, str(msg("gridmap OGC API – Features"))),
                 docs.OPENAPI)


def _describe(layer: SqlLayer, crss) -> dict[str, Any]:
    return docs.collection(_url, layer, _title(layer), extent(get_session(), layer), crss)


@bp.get("/collections")
@access("public")
def collections():
    crss = offered(district_zones(get_session()))
    document = {"links": [docs.link(_url(".collections", f="json"), "self", docs.JSON,
                                    "collections"),
                          docs.link(_url(".collections", f="html"), "alternate", docs.HTML,
                                    "collections")],
                "collections": [_describe(layer, crss) for layer in _visible()],
                "crs": [c.uri for c in crss]}
    return _render(document, heading=msg("Collections"))


@bp.get("/collections/<name>")
@access("public")
def collection(name: str):
    layer = _collection(name)
    document = _describe(layer, offered(district_zones(get_session())))
    return _render(document, heading=document["title"])


@bp.get("/collections/<name>/queryables", endpoint="queryables")
@access("public")
def queryables_document(name: str):
    layer = _collection(name)
    document = docs.queryables_schema(_url, layer, queryables(get_session(), layer),
                                      _title(layer))
    return _render(document, "application/schema+json", heading=document["title"])



def _page_links(name: str, next_after: str | None) -> list[dict[str, str]]:
    args = {k: v for k, v in request.args.items() if k not in ("after", "f")}
    links = [docs.link(_url(".items", name=name, **args, f="json"), "self", docs.GEOJSON,
                       "this page"),
             docs.link(_url(".items", name=name, **args, f="html"), "alternate", docs.HTML,
                       "this page as HTML"),
             docs.link(_url(".collection", name=name), "collection", docs.JSON,
                       "the collection")]
    if next_after is not None:
        links.append(docs.link(_url(".items", name=name, **args, after=next_after),
                               "next", docs.GEOJSON, "next page"))
    return links


@bp.get("/collections/<name>/items", endpoint="items")
@access("public")
def items_page(name: str):
    layer = _collection(name)
    session = get_session()
    query = parse_items_query(session, layer, request.args.to_dict(flat=False),
                              timezone=_timezone())
    page = items(session, layer, query, scope=_scope(), timezone=_timezone())
    html = _wants_html()
    links = _page_links(name, page.next_after)
    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    if html:
        return Response(render_template("ogcapi.html", heading=_title(layer),
                                        document={"links": links}, features=page.features()),
                        mimetype="text/html")
    # the features arrive as GeoJSON text from PostGIS: joined, never parsed again
    body = (f'{{"type":"FeatureCollection","features":[{page.body}],'
            f'"numberReturned":{page.returned},"timeStamp":"{stamp}",'
            f'"links":{json.dumps(links, ensure_ascii=False)}}}')
    response = Response(body, mimetype=docs.GEOJSON)
    response.headers["Content-Crs"] = f"<{query.crs.uri}>"
    return response



@bp.get("/collections/<name>/items/<feature_id>")
@access("public")
def item(name: str, feature_id: str):
    layer = _collection(name)
    crs = parse_crs(params.single("crs"), "crs")
    body = feature(get_session(), layer, feature_id, crs, scope=_scope(),
                   timezone=_timezone())
    if _wants_html():
        return Response(render_template("ogcapi.html", heading=_title(layer), document={},
                                        features=[json.loads(body)]), mimetype="text/html")
    response = Response(body, mimetype=docs.GEOJSON)
    response.headers["Content-Crs"] = f"<{crs.uri}>"
    return response
