"""Scope as SQL: the condition that keeps a layer's rows to what a :class:`Scope` reaches.

Every layer definition says how its rows relate to the grid hierarchy (``scope:``); a definition
without one does not load, so a new layer cannot be published unscoped by omission:

``grid``
    the rows are grids (columns ``code``, ``community_code``, ``street_code``,
    ``district_code``): reached as :meth:`Scope.allows_grid` says;
``{grid_id: COLUMN}``
    the rows lie in a grid, referenced by ``COLUMN`` (buildings, later facilities and
    incidents): reached when their grid is; a row in no grid is reached only by callers who
    reach everything;
``division``
    the rows are division units (districts, streets, communities) keyed by their code: seen
    when they contain or lie inside what the scope reaches (:meth:`Scope.sees_division`);
``public``
    context every caller of the collection sees (roads, water: the base map).

The conditions bind the scope's codes as array parameters; nothing of the scope is ever
formatted into SQL text.
"""
from __future__ import annotations

from typing import Any

from gridmap.auth.scope import Scope, grid_condition
from gridmap.errors import ConfigurationError
from gridmap.i18n import msg

KINDS = ("grid", "grid_id", "division", "public")


def parse_scope(definition: Any, layer: str, ident) -> tuple[str, str | None]:
    """``(kind, column)`` of a definition's ``scope`` value (see the module docstring)."""
    if isinstance(definition, dict) and list(definition) == ["grid_id"]:
        return "grid_id", ident(definition["grid_id"], "scope grid_id column", layer)
    if definition in ("grid", "division", "public"):
        return definition, None
    raise ConfigurationError(msg("layer {layer}: scope {definition!r}; expected grid, division, "
                                 "public or {{grid_id: COLUMN}}", layer=layer,
                                 definition=definition))


def grid_scope(alias: str, scope: Scope) -> tuple[str, dict[str, Any]]:
    """SQL keeping the grids (table alias ``alias``) that ``scope`` reaches: what a field's
    ``{grid_scope}`` placeholder becomes, so that a total over grids (a community's
    households) counts only the caller's."""
    return grid_condition(scope, alias)


def scope_condition(kind: str, column: str | None, key_column: str,
                    scope: Scope) -> tuple[str, dict[str, Any]]:
    """SQL over the alias ``t`` and its parameters, keeping the rows ``scope`` reaches."""
    if kind == "public" or scope.reaches_everything:
        return "true", {}
    if kind == "grid":
        return grid_condition(scope, "t")
    if kind == "grid_id":
        condition, params = grid_condition(scope, "g")
        return f"t.{column} in (select g.id from grid g where {condition})", params
    if kind == "division":
        divisions = sorted(scope.divisions or ())
        return (f"exists (select 1 from unnest(cast(:scope_divisions as text[])) d "
                f"where starts_with(t.{key_column}, d) or starts_with(d, t.{key_column}))",
                {"scope_divisions": divisions})
    raise ConfigurationError(msg("scope kind {kind!r}; expected one of {items}", kind=kind,
                                 items=', '.join(KINDS)))
