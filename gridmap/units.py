"""The hierarchy as a tree to browse: a unit (district, street or community), its ancestors,
its children and their extents — what a map needs to offer a chooser and fit the chosen unit.

A unit's level follows from its code's length (6 district, 9 street, 12 community digits, as
in GB/T 2260 and GB/T 10114); a community's children are its active grids. Households are
the sum over the active grids below the unit. Extents are lon/lat boxes in CGCS2000.
Every listing is cut to the caller's :class:`~gridmap.auth.scope.Scope`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.auth.scope import Scope, grid_condition
from gridmap.errors import Forbidden, InvalidInput, NotFound
from gridmap.i18n import msg

LEVELS = {6: "district", 9: "street", 12: "community"}
"""Code length → level."""

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Unit:
    """One unit of the hierarchy (or a grid, as a community's child)."""

    level: str
    code: str
    name: str | None
    bbox: Box | None
    households: int
    kind: str | None = None  # grids only: residential | unit


@dataclass(frozen=True)
class UnitTree:
    """A unit with its ancestors (district first) and its children."""

    unit: Unit
    parents: list[Unit] = field(default_factory=list)
    children: list[Unit] = field(default_factory=list)


def level_of(code: str) -> str:
    """The level of a unit code, or :class:`InvalidInput` saying what a code looks like."""
    if not isinstance(code, str) or not code.isascii() or not code.isdigit() \
            or len(code) not in LEVELS:
        raise InvalidInput(msg("unit code {code!r}: expected 6 digits (district), 9 (street) or "
                               "12 (community)", code=code))
    return LEVELS[len(code)]


_BOX = "ST_XMin(g.geom::box2d), ST_YMin(g.geom::box2d), ST_XMax(g.geom::box2d), " \
       "ST_YMax(g.geom::box2d)"
_HOUSEHOLDS = "(select coalesce(sum(x.households), 0) from grid x where x.valid_to is null " \
              "and x.{column} = g.code)"
# level → (table, column of the grid table naming it, column naming its parent)
_TABLES = {"district": ("district", "district_code", None),
           "street": ("street", "street_code", "district_code"),
           "community": ("community", "community_code", "street_code")}
_CHILD = {"district": "street", "street": "community"}


def _units(session: Session, level: str, where: str, params: dict) -> list[Unit]:
    table, column, _ = _TABLES[level]
    rows = session.execute(text(
        f"select g.code, g.name, {_BOX}, {_HOUSEHOLDS.format(column=column)} as households "
        f"from {table} g where {where} order by g.code"), params).all()
    return [Unit(level, r[0], r[1], tuple(r[2:6]), int(r[6])) for r in rows]


def _grids(session: Session, community_code: str) -> list[Unit]:
    rows = session.execute(text(
        f"select g.code, g.name, {_BOX}, g.households, g.kind from grid g "
        f"where g.community_code = :code and g.valid_to is null order by g.code"),
        {"code": community_code}).all()
    return [Unit("grid", r[0], r[1], tuple(r[2:6]), int(r[6]), kind=r[7]) for r in rows]


def _within_scope(session: Session, units: list[Unit], scope: Scope) -> list[Unit]:
    """The division units with their households counted over the grids ``scope`` reaches
    only: a grid worker is not told the households of the grids around theirs."""
    if scope.reaches_everything or not units:
        return units
    condition, params = grid_condition(scope, "g")
    totals: dict[str, int] = {}
    for level in {u.level for u in units}:
        _, column, _ = _TABLES[level]
        rows = session.execute(text(
            f"select g.{column}, sum(g.households) from grid g where g.valid_to is null "
            f"and g.{column} = any(:codes) and {condition} group by 1"),
            {**params, "codes": [u.code for u in units if u.level == level]}).all()
        totals.update((code, int(total)) for code, total in rows)
    return [replace(u, households=totals.get(u.code, 0)) for u in units]


def districts(session: Session, scope: Scope) -> list[Unit]:
    """Every loaded district ``scope`` sees, by code."""
    return _within_scope(session, [u for u in _units(session, "district", "true", {})
                                   if scope.sees_division(u.code)], scope)


def browse(session: Session, code: str, scope: Scope) -> UnitTree:
    """The unit ``code`` with its ancestors and children.

    Parameters
    ----------
    session
        A session on the gridmap database.
    code
        A district (6 digits), street (9) or community (12) code.
    scope
        What the caller may see: children outside it are left out.

    Returns
    -------
    UnitTree
        The unit, its parents (district first) and its children: streets of a district,
        communities of a street, active grids of a community.

    Raises
    ------
    InvalidInput
        ``code`` is not a unit code.
    NotFound
        No such unit is loaded.
    Forbidden
        The unit lies outside ``scope``.
    """
    level = level_of(code)
    found = _units(session, level, "g.code = :code", {"code": code})
    if not found:
        raise NotFound(msg("{level} {code} is not loaded", level=level, code=code))
    if not scope.sees_division(code):
        raise Forbidden(msg("{level} {code} lies outside what {actor} may see", level=level,
                            code=code, actor=scope.actor))
    parents = []
    for digits in (6, 9):
        if digits < len(code):
            parents += _units(session, LEVELS[digits], "g.code = :code",
                              {"code": code[:digits]})
    if level == "community":
        # Division codes nest, as the parents above assume: the street is the first 9 digits.
        children = [g for g in _grids(session, code)
                    if scope.allows_grid(g.code, community=code, street=code[:9],
                                         district=code[:6])]
    else:
        child = _CHILD[level]
        children = _within_scope(session, [
            u for u in _units(session, child, f"g.{_TABLES[child][2]} = :code", {"code": code})
            if scope.sees_division(u.code)], scope)
    unit, *parents = _within_scope(session, [found[0], *parents], scope)
    return UnitTree(unit, parents, children)


def resolve_selection(district: str | None = None, street: str | None = None,
                      community: str | None = None) -> str | None:
    """The deepest unit a ``?district=&street=&community=`` query selects.

    Parameters
    ----------
    district, street, community
        The codes given (``None`` or empty when not given).

    Returns
    -------
    str or None
        The deepest code given, or ``None`` when none is.

    Raises
    ------
    InvalidInput
        A code has the wrong form for its level, or does not start with the code of a
        shallower level that is given.
    """
    given = [(level, code) for level, code in
             (("district", district), ("street", street), ("community", community)) if code]
    for level, code in given:
        if level_of(code) != level:
            raise InvalidInput(msg("{level} {code!r}: expected {value} digits", level=level,
                                   code=code,
                                   value=[k for k, v in LEVELS.items() if v == level][0]))
    for (outer, outer_code), (inner, inner_code) in zip(given, given[1:]):
        if not inner_code.startswith(outer_code):
            raise InvalidInput(msg("{inner} {inner_code} does not belong to {outer} "
                                   "{outer_code}: a {inner} code starts with its {outer}'s code",
                                   inner=inner, inner_code=inner_code, outer=outer,
                                   outer_code=outer_code))
    return given[-1][1] if given else None
