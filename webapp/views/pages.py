"""HTML pages: the map."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("pages", __name__)


@bp.get("/")
def map_page():
    layers = [layer.describe() for layer in current_app.extensions["gridmap_layers"].values()]
    return render_template("map.html", layers=layers)
