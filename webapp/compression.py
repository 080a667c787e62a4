"""Responses compressed for the clients that accept it (Flask-Compress).

An items page of 1,000 buildings is ~370 kB of GeoJSON; an agency's QGIS or GDAL across a
city network, or a tablet on a mobile link, waits for every byte of it. Compressed it is
~52 kB. What each algorithm costs on such a page (measured 2026-12-05): zstd level 3 0.7 ms
(6.9×), brotli level 4 2.5 ms (7.1×), gzip level 1 1.6 ms (5.7×; level 6, Flask-Compress's
default, 5.2 ms for 7.0×). The client's ``Accept-Encoding`` chooses, in that order of
preference: Chromium asks for zstd, curl (GDAL) and Qt (QGIS) for gzip.

Compressed: the JSON family (the API, OGC API – Features and its documents) and pages.
Not compressed: responses a view streams (exports: downloads are already packed, and their
progress must not wait for a compressor's buffer), static files (sent as files, streamed),
tiles (stored gzipped, see :mod:`webapp.views.tiles`), anything under 1 kB, and errors.
Every response says ``Vary: Accept-Encoding``. A coding the client lists with ``q=0`` is one it
refuses (RFC 9110, 12.5.3); Flask-Compress 1.25 would still choose it, so such entries are
taken out of the header before it reads it.
"""
from __future__ import annotations

from flask import Flask, request
from flask_compress import Compress
from werkzeug.http import parse_accept_header

MIMETYPES = (
    "application/json",
    "application/geo+json",
    "application/schema+json",
    "application/vnd.oai.openapi+json",
    "text/html",
)


def _drop_refused_codings() -> None:
    raw = request.environ.get("HTTP_ACCEPT_ENCODING")
    if not raw or "q=0" not in raw.replace(" ", ""):
        return
    accepted = parse_accept_header(raw)
    request.environ["HTTP_ACCEPT_ENCODING"] = ", ".join(
        f"{value};q={quality:g}" for value, quality in accepted if quality > 0)


def init_app(app: Flask) -> None:
    """Compress ``app``'s responses; call it before any other ``after_request`` hook is
    registered, so that it runs last (Flask runs them in reverse), on the finished body."""
    app.config.update(
        COMPRESS_MIMETYPES=list(MIMETYPES),
        COMPRESS_ALGORITHM=["zstd", "br", "gzip", "deflate"],
        COMPRESS_ZSTD_LEVEL=3,
        COMPRESS_BR_LEVEL=4,
        COMPRESS_LEVEL=1,
        COMPRESS_MIN_SIZE=1024,
        COMPRESS_STREAMS=False,
    )
    app.before_request(_drop_refused_codings)
    Compress(app)
