"""One error handler: JSON ``{"error", "detail"}`` on /api paths, an HTML page elsewhere.

No traceback ever reaches a user: unexpected errors are logged and answered with a 500 that
says only that something went wrong; an unreachable database is a 503.
"""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from gridmap.errors import DatabaseUnavailable, GridmapError


def _respond(status: int, title: str, detail: str):
    if request.path.startswith("/api"):
        response = jsonify({"error": title, "detail": detail})
        response.status_code = status
        return response
    return render_template("error.html", status=status, title=title, detail=detail), status


def init_app(app: Flask) -> None:
    @app.errorhandler(GridmapError)
    def _gridmap_error(exc: GridmapError):
        return _respond(exc.status, exc.title, exc.detail)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return _respond(exc.code or 500, (exc.name or "error").lower(), exc.description or "")

    @app.errorhandler(OperationalError)
    def _database_down(exc: OperationalError):
        current_app.logger.warning("database unavailable: %s", exc.orig)
        err = DatabaseUnavailable("the database does not answer; try again shortly")
        return _respond(err.status, err.title, err.detail)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return _database_down(exc)  # type: ignore[arg-type]
        current_app.logger.exception("unhandled error on %s", request.path)
        return _respond(500, "internal error", "something went wrong on the server; "
                                                "it has been logged")
