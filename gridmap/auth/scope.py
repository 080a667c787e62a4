"""The Scope: the one value that says what a caller may see and do.

Every layer query and service call will take a :class:`Scope`, so no view decides access by
itself. A scope is built from data — a person's role and scope rows, or an API key's
collections — never from ``if role == …`` spread over the code:

=============== ====================================== ====== ===================
caller          grids reached                          writes collections
=============== ====================================== ====== ===================
grid worker     their grids (whole codes)              yes    all
community admin their communities (code prefixes)      yes    all
planner         their streets or districts (prefixes)  yes    all
administrator   everything                             yes    all, people, keys
agency key      everything                             no     those the key names
=============== ====================================== ====== ===================

Grid codes are hierarchical (district 6 + street 3 + community 3 + sequence in the gbt30428
and cjt213 profiles), so "inside community C" is "code starts with C", which a B-tree index on
``grid.code`` answers with ``code LIKE 'C%'``. The cjt349 profile puts a 6-digit
service-object prefix first; scopes over such districts need the hierarchy columns
(``grid.community_code`` …) instead, which :meth:`Scope.grid_codes_filter` does not yet offer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from gridmap.errors import InvalidInput
from gridmap.models.person import ROLES, SCOPE_LEVELS

#: The scope levels each role may hold; an administrator holds none (it reaches everything).
ROLE_LEVELS: dict[str, frozenset[str]] = {
    "grid_worker": frozenset({"grid"}),
    "community_admin": frozenset({"community"}),
    "planner": frozenset({"street", "district"}),
    "administrator": frozenset(),
}
#: Code length of each level (gbt30428 / cjt213 hierarchy codes; grids vary by profile).
LEVEL_LENGTHS = {"district": 6, "street": 9, "community": 12}


def check_role_levels(role: str, levels: Iterable[str]) -> None:
    """Refuse scope levels the role cannot hold, or a non-administrator with no scope.

    Raises
    ------
    InvalidInput
        Unknown role, a level the role does not take, or no scope where one is needed.
    """
    if role not in ROLES:
        raise InvalidInput(f"role {role!r}: expected one of {', '.join(ROLES)}")
    allowed = ROLE_LEVELS[role]
    levels = list(levels)
    for level in levels:
        if level not in SCOPE_LEVELS:
            raise InvalidInput(f"scope level {level!r}: expected one of "
                               f"{', '.join(SCOPE_LEVELS)}")
        if level not in allowed:
            expected = (f"only {' or '.join('--' + a for a in sorted(allowed))}" if allowed
                        else "no scope (an administrator reaches everything)")
            raise InvalidInput(f"--{level} given for role {role}: expected {expected}")
    if allowed and not levels:
        raise InvalidInput(f"role {role} with no scope: expected at least one of "
                           f"{', '.join('--' + a for a in sorted(allowed))}")


@dataclass(frozen=True)
class Scope:
    """What a caller may see and do.

    Attributes
    ----------
    actor
        Who the scope belongs to, for messages (``person:NAME`` or ``api_key:PREFIX``).
    role
        A person's role, or ``agency`` for an API key.
    prefixes
        Grid-code prefixes reached (a grid worker's are whole grid codes); None for all.
    collections
        Collections reached; None for all.
    may_write
        Whether the caller may change anything at all (API keys never may).
    """

    actor: str
    role: str
    prefixes: frozenset[str] | None
    collections: frozenset[str] | None
    may_write: bool

    @classmethod
    def for_person(cls, login: str, role: str,
                   scopes: Iterable[tuple[str, str]]) -> "Scope":
        """The scope of a person with ``role`` and scope rows ``(level, code)``."""
        rows = list(scopes)
        check_role_levels(role, (level for level, _ in rows))
        prefixes = None if role == "administrator" else frozenset(code for _, code in rows)
        return cls(f"person:{login}", role, prefixes, None, True)

    @classmethod
    def for_api_key(cls, prefix: str, collections: Iterable[str] | None) -> "Scope":
        """The read-only scope of an agency's key; ``collections`` None means all."""
        names = None if collections is None else frozenset(collections)
        return cls(f"api_key:{prefix}", "agency", None, names, False)

    @property
    def is_administrator(self) -> bool:
        """May manage people and keys (and reaches everything)."""
        return self.role == "administrator"

    def allows_grid(self, code: str) -> bool:
        """Whether the grid with this code lies inside the scope."""
        return self.prefixes is None or any(code.startswith(p) for p in self.prefixes)

    def grid_codes_filter(self) -> list[str] | None:
        """Sorted grid-code prefixes for a query (``code LIKE p || '%'`` for any ``p``), or
        None when every grid is reached. An empty list reaches nothing."""
        return None if self.prefixes is None else sorted(self.prefixes)

    def allows_collection(self, name: str) -> bool:
        """Whether the collection (layer) ``name`` may be read at all."""
        return self.collections is None or name in self.collections
