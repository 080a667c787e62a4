"""The hierarchy to browse (``/api/hierarchy``): what the map's district → street → community
chooser lists, with each unit's extent so the map can fit the chosen one."""
from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, jsonify

from gridmap import units
from webapp.database import get_session

bp = Blueprint("hierarchy", __name__, url_prefix="/api/hierarchy")


def unit_json(unit: units.Unit) -> dict:
    out = asdict(unit)
    if out["kind"] is None:
        del out["kind"]
    return out


@bp.get("")
def root():
    """The districts loaded: ``{"level": "root", "children": [...]}``."""
    return jsonify({"level": "root",
                    "children": [unit_json(u) for u in units.districts(get_session())]})


@bp.get("/<code>")
def unit(code: str):
    """One unit with its ``parents`` (district first) and ``children`` (streets, communities,
    or a community's active grids)."""
    tree = units.browse(get_session(), code)
    return jsonify({**unit_json(tree.unit), "parents": [unit_json(u) for u in tree.parents],
                    "children": [unit_json(u) for u in tree.children]})
