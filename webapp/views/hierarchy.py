"""The hierarchy to browse (``/api/hierarchy``): what the map's district → street → community
chooser lists, with each unit's extent so the map can fit the chosen one — cut to what the
caller may see."""
from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, jsonify

from gridmap import units
from gridmap.errors import Forbidden
from gridmap.i18n import msg
from webapp.auth import access, caller_scope
from webapp.database import get_session

bp = Blueprint("hierarchy", __name__, url_prefix="/api/hierarchy")


#: The collection (layer) a listing reveals: the children of each level.
_LISTED = {"root": "districts", "district": "streets", "street": "communities",
           "community": "grids"}


def _check_collection(level: str) -> None:
    scope = caller_scope()
    if not scope.allows_collection(_LISTED[level]):
        raise Forbidden(msg("collection {name} is not among those {actor} may read",
                            name=_LISTED[level], actor=scope.actor))


def unit_json(unit: units.Unit) -> dict:
    out = asdict(unit)
    if out["kind"] is None:
        del out["kind"]
    return out


@bp.get("")
@access("reader")
def root():
    """The districts loaded: ``{"level": "root", "children": [...]}``."""
    _check_collection("root")
    found = units.districts(get_session(), caller_scope())
    return jsonify({"level": "root", "children": [unit_json(u) for u in found]})


@bp.get("/<code>")
@access("reader")
def unit(code: str):
    """One unit with its ``parents`` (district first) and ``children`` (streets, communities,
    or a community's active grids)."""
    _check_collection(units.level_of(code))
    tree = units.browse(get_session(), code, caller_scope())
    return jsonify({**unit_json(tree.unit), "parents": [unit_json(u) for u in tree.parents],
                    "children": [unit_json(u) for u in tree.children]})
