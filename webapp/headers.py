"""Headers every response carries: a strict Content-Security-Policy and friends, and
``Location`` values that never name a host the client chose.

The pages load only the app's own scripts and styles (no inline script, no CDN), so the policy
allows 'self' and nothing else; ``data:`` images are allowed for the empty favicon
(``<link rel="icon" href="data:,">``), which cannot run code.
"""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _relative_location(response: Response) -> None:
    """Routing redirects are built from the Host header; keep only path and query."""
    location = response.headers.get("Location")
    if not location:
        return
    parts = urlsplit(location)
    if parts.netloc and parts.netloc == request.host:
        response.headers["Location"] = urlunsplit(("", "", parts.path or "/", parts.query,
                                                   parts.fragment))


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        _relative_location(response)
        return response
