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
Every response says ``Vary: Accept-Encoding``.
"""
from __future__ import annotations

from flask import Flask
from flask_compress import Compress

MIMETYPES = (
    "application/json",
    "application/geo+json",
    "application/schema+json",
    "application/vnd.oai.openapi+json",
    "text/html",
)


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
    Compress(app)
