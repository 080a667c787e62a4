"""One error handler: JSON ``{"error", "detail"}`` on /api paths, Open311's own error list on
/open311 paths (its clients read that form), an HTML page elsewhere.

No traceback ever reaches a user: unexpected errors are logged and answered with a 500 that
says only that something went wrong. Database failures a user can act on (unreachable, busy,
schema out of date) are 503s saying so, with ``Retry-After`` when trying again will help.
JSON errors are never cached; Werkzeug's headers (``Allow`` on a 405) are kept.

Titles and details are rendered here, at the edge, in the request's locale (``webapp/i18n.py``):
errors carry English msgids and lazy messages (``gridmap.i18n.msg``) until this point.
"""
from __future__ import annotations

from typing import Iterable

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from gridmap.db import user_error_in
from gridmap.errors import GridmapError
from gridmap.i18n import N_, Message, msg, render, translate
from webapp.i18n import request_locale

_BODY_HEADERS = {"content-type", "content-length"}
#: Paths whose clients are programs: errors there are JSON, a stranger gets 401, not a login page.
DATA_PREFIXES = ("/api", "/ogcapi", "/tiles")


def is_data_path(path: str) -> bool:
    """Whether ``path`` belongs to the data API, the OGC API or the vector tiles."""
    return any(path == p or path.startswith(p + "/") for p in DATA_PREFIXES)


#: Werkzeug's names of the statuses a user meets, lowercased, marked for the catalogue.
_HTTP_TITLES = (N_("bad request"), N_("not found"), N_("method not allowed"),
                N_("request entity too large"), N_("too many requests"), N_("unauthorized"),
                N_("forbidden"), N_("unsupported media type"), N_("request uri too large"))


def _respond(status: int, title: str, detail: str | Message,
             headers: Iterable[tuple[str, str]] = ()):
    locale = request_locale()
    title, detail = translate(title, locale), render(detail, locale)
    if request.path.startswith("/open311/"):
        from webapp.views.open311 import error_response  # its clients read the spec's form

        response = error_response(status, detail)
    elif is_data_path(request.path):
        response = jsonify({"error": title, "detail": detail})
        response.headers["Cache-Control"] = "no-store"
    else:
        response = current_app.make_response(
            render_template("error.html", status=status, title=title, detail=detail))
    response.status_code = status
    for name, value in headers:
        if name.lower() not in _BODY_HEADERS:
            response.headers[name] = value
    return response


def _gridmap_error(exc: GridmapError):
    retry = getattr(exc, "retry_after", None)
    return _respond(exc.status, exc.title, exc.detail,
                    [("Retry-After", str(retry))] if retry else [])


def _http_error(exc: HTTPException):
    detail = exc.description or ""
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        detail = msg("{method} is not allowed on {path}; expected one of {allowed}",
                     method=request.method, path=request.path,
                     allowed=", ".join(sorted(exc.valid_methods)))
    elif isinstance(exc, NotFound) and request.path.startswith("/ogcapi"):
        detail = msg("no OGC API resource at {path}; the collections are listed at "
                     "/ogcapi/collections", path=request.path)
    elif isinstance(exc, NotFound) and request.path.startswith("/tiles/"):
        detail = msg("no tile at {path}; tiles are at /tiles/LAYER/Z/X/Y.mvt, their "
                     "TileJSON at /tiles/LAYER.json", path=request.path)
    elif isinstance(exc, NotFound) and request.path.startswith("/api"):
        detail = msg("no API endpoint at {path}; the layers are listed at /api/layers",
                     path=request.path)
    elif isinstance(exc, NotFound):
        detail = msg("no page at {path}; the map is at /", path=request.path)
    return _respond(exc.code or 500, (exc.name or "error").lower(), detail, exc.get_headers())


def _unexpected(exc: Exception):
    meaning = user_error_in(exc, timeouts=current_app.extensions.get("gridmap_timeouts"))
    if meaning is not None:
        current_app.logger.warning("%s on %s: %s", meaning.title, request.path, meaning.detail)
        return _gridmap_error(meaning)
    current_app.logger.exception("unhandled error on %s", request.path)
    return _respond(500, N_("internal error"),
                    msg("something went wrong on the server; it has been logged"))


def init_app(app: Flask) -> None:
    app.register_error_handler(GridmapError, _gridmap_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
