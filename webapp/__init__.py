"""The gridmap web app: ``create_app(config=None)``; nothing is built at import time."""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask, Response
from werkzeug.routing import Map

from gridmap.config import load_settings


class _ExactMap(Map):
    """URL map that does not merge slashes: ``/api/layers/grids%2F/features`` is a 404, not a
    redirect to another path (whose absolute ``Location`` would be built from ``Host``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("merge_slashes", False)
        super().__init__(*args, **kwargs)


class GridmapFlask(Flask):
    """Flask with an exact URL map, answering OPTIONS with ``204 No Content`` and ``Allow``."""

    url_map_class = _ExactMap

    def make_default_options_response(self) -> Response:
        response = super().make_default_options_response()
        response.status_code = 204
        response.headers.pop("Content-Type", None)
        return response


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app. ``config`` overrides settings (see :mod:`gridmap.config`)."""
    app = GridmapFlask(__name__)
    settings = load_settings(config)
    app.config["GRIDMAP"] = settings
    app.json.ensure_ascii = False  # Chinese names as they are

    from layers import load_layers
    from webapp import auth, compression, database, errors, headers, i18n, params
    from webapp import ogcapi
    from webapp.views import (account, admin, api, devices, editing, exports, facilities,
                              hierarchy, incidents, jobs, open311, pages, plans, routes,
                              tiles)

    app.extensions["gridmap_layers"] = load_layers()
    compression.init_app(app)  # first: its hook runs last, on the finished body
    database.init_app(app)
    errors.init_app(app)
    headers.init_app(app)
    i18n.init_app(app)
    app.config["MAX_CONTENT_LENGTH"] = settings["max_request_kib"] * 1024
    if settings["trusted_proxies"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings["trusted_proxies"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore
    auth.init_app(app)  # who asks comes first: nothing of a body is read for a stranger
    params.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(hierarchy.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(plans.bp)
    app.register_blueprint(editing.bp)
    app.register_blueprint(jobs.bp)
    app.register_blueprint(incidents.bp)
    app.register_blueprint(open311.bp)
    app.register_blueprint(facilities.bp)
    app.register_blueprint(devices.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(ogcapi.bp)
    app.register_blueprint(tiles.bp)
    app.register_blueprint(routes.bp)
    return app
