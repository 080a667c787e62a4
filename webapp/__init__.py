"""The gridmap web app: ``create_app(config=None)``; nothing is built at import time."""
from __future__ import annotations

import secrets
from typing import Any, Mapping

from flask import Flask

from gridmap.config import load_settings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app. ``config`` overrides settings (see :mod:`gridmap.config`)."""
    app = Flask(__name__)
    settings = load_settings(config)
    app.config["GRIDMAP"] = settings
    app.config["SECRET_KEY"] = settings["secret_key"] or secrets.token_hex(32)
    app.json.ensure_ascii = False  # Chinese names as they are

    from layers import load_layers
    from webapp import database, errors
    from webapp.views import api, hierarchy, pages

    app.extensions["gridmap_layers"] = load_layers()
    database.init_app(app)
    errors.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(hierarchy.bp)
    return app
