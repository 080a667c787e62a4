"""The Scope: the one value that says what a caller may see and do.

Every layer query and service call takes a :class:`Scope`, so no view decides access by
itself. A scope is built from data — a person's role and scope rows, or an API key's
collections — never from ``if role == …`` spread over the code:

=============== ====================================== ====== ===================
caller          grids reached                          writes collections
=============== ====================================== ====== ===================
grid worker     their grids                            yes    all
community admin the grids of their communities         yes    all
planner         the grids of their streets / districts yes    all
administrator   everything                             yes    all, people, keys
agency key      everything                             no     those the key names
=============== ====================================== ====== ===================

A grid is reached when its own code, or its community, street or district code, is one of the
scope's units of that level — the grid's hierarchy columns, not a prefix of its code, so the
rule holds for every code profile (cjt349 codes start with a service-object prefix). Records
inside a grid (buildings, later facilities and incidents) are reached through their grid.
Hierarchy units (districts, streets, communities) are seen when they contain what the scope
reaches or lie inside it: a grid worker sees the outline of their own community, street and
district, and no other community. Division codes nest (6 → 9 → 12 digits), so "contains or lies
inside" is "one code starts with the other".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from gridmap.errors import InvalidInput
from gridmap.facilities import CAPABILITIES as FACILITY_CAPABILITIES
from gridmap.i18n import msg
from gridmap.incidents.stages import CAPABILITIES as INCIDENT_CAPABILITIES
from gridmap.roles import ROLES, SCOPE_LEVELS

#: The scope levels each role may hold; an administrator holds none (it reaches everything).
ROLE_LEVELS: dict[str, frozenset[str]] = {
    "grid_worker": frozenset({"grid"}),
    "community_admin": frozenset({"community"}),
    "planner": frozenset({"street", "district"}),
    "dispatcher": frozenset({"street", "district"}),
    "handler": frozenset({"street", "district"}),
    "administrator": frozenset(),
}
#: What each role may do beyond reading, as data: ``plan`` drafts and applies grid plans (in
#: the divisions the scope covers), ``people`` manages the people inside the scope
#: (:mod:`gridmap.auth.management`), ``keys`` manages agencies' API keys; ``incident.*`` are
#: the actions of the incident loop (:mod:`gridmap.incidents.stages`): grid workers report
#: and verify on site, the command centre's dispatchers register, dispatch, approve deferrals
#: and close, departments' handlers handle; ``facility.*`` (:mod:`gridmap.facilities`):
#: whoever walks, dispatches or repairs reports a facility's state, planners and
#: administrators register, import and retire facilities; ``route.visit`` records a stop of
#: an inspection route as done (:mod:`gridmap.inspection`), ``route.station`` sets a
#: community's service station and working day.
ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    "grid_worker": frozenset({"incident.report", "incident.verify", "facility.report",
                              "route.visit"}),
    "community_admin": frozenset({"people", "incident.report", "facility.report",
                                  "route.visit", "route.station"}),
    "planner": frozenset({"plan", "facility.edit"}),
    "dispatcher": frozenset({"incident.report", "incident.register", "incident.dispatch",
                             "incident.approve", "incident.close", "facility.report"}),
    "handler": frozenset({"incident.handle", "facility.report"}),
    "administrator": frozenset({"plan", "people", "keys", "route.visit", "route.station"}
                               | INCIDENT_CAPABILITIES | FACILITY_CAPABILITIES),
    "agency": frozenset(),
    # an agency's or a citizen app's key that names the open311 service: reports only
    "open311_client": frozenset({"incident.report"}),
    # the device alarm processing (gridmap.devices.alarms): opens incidents and notes on them
    "device_alarms": frozenset({"incident.report"}),
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
        raise InvalidInput(msg("role {role!r}: expected one of {items}", role=role,
                               items=', '.join(ROLES)))
    allowed = ROLE_LEVELS[role]
    levels = list(levels)
    for level in levels:
        if level not in SCOPE_LEVELS:
            raise InvalidInput(msg("scope level {level!r}: expected one of {items}", level=level,
                                   items=', '.join(SCOPE_LEVELS)))
        if level not in allowed:
            expected = (f"only {' or '.join('--' + a for a in sorted(allowed))}" if allowed
                        else "no scope (an administrator reaches everything)")
            raise InvalidInput(msg("--{level} given for role {role}: expected {expected}",
                                   level=level, role=role, expected=expected))
    if allowed and not levels:
        raise InvalidInput(msg("role {role} with no scope: expected at least one of {items}",
                               role=role, items=', '.join('--' + a for a in sorted(allowed))))


@dataclass(frozen=True)
class Scope:
    """What a caller may see and do.

    Attributes
    ----------
    actor
        Who the scope belongs to, for messages (``person:NAME`` or ``api_key:PREFIX``).
    role
        A person's role, or ``agency`` for an API key.
    units
        The codes reached per level (``grid``, ``community``, ``street``, ``district``); None
        for everything.
    divisions
        The division codes (district, street, community) whose outlines the caller sees, with
        everything that starts with them: the scope's own division units and the communities
        of its grids. None for everything.
    collections
        Collections reached; None for all.
    may_write
        Whether the caller may change anything at all (API keys never may).
    department
        A handler's department: they handle only the cases dispatched to it (None: any).
    """

    actor: str
    role: str
    units: Mapping[str, frozenset[str]] | None
    divisions: frozenset[str] | None
    collections: frozenset[str] | None
    may_write: bool
    department: str | None = None

    @classmethod
    def for_person(cls, login: str, role: str, scopes: Iterable[tuple[str, str]], *,
                   grid_communities: Iterable[str] = (),
                   department: str | None = None) -> "Scope":
        """The scope of a person with ``role`` and scope rows ``(level, code)``;
        ``grid_communities`` are the community codes of their grids (looked up by
        :func:`gridmap.auth.people.scope_of`)."""
        rows = list(scopes)
        check_role_levels(role, (level for level, _ in rows))
        if role == "administrator":
            return cls(f"person:{login}", role, None, None, None, True)
        units = {level: frozenset(code for lvl, code in rows if lvl == level)
                 for level in SCOPE_LEVELS}
        divisions = frozenset(code for level, code in rows if level != "grid") \
            | frozenset(grid_communities)
        return cls(f"person:{login}", role, units, divisions, None, True, department)

    @classmethod
    def for_api_key(cls, prefix: str, collections: Iterable[str] | None) -> "Scope":
        """The read-only scope of an agency's key; ``collections`` None means all."""
        names = None if collections is None else frozenset(collections)
        return cls(f"api_key:{prefix}", "agency", None, None, names, False)

    @classmethod
    def for_public(cls, collections: Iterable[str]) -> "Scope":
        """The scope of an anonymous caller of a public service (OGC API – Features): the
        ``collections`` configured as public, read-only, every place."""
        return cls("anonymous", "agency", None, None, frozenset(collections), False)

    @classmethod
    def for_service_client(cls, prefix: str) -> "Scope":
        """The scope of a key submitting Open311 service requests: it may report anywhere
        (as a citizen may), nothing else (role ``open311_client``)."""
        return cls(f"api_key:{prefix}", "open311_client", None, None, None, True)

    @property
    def is_administrator(self) -> bool:
        """May manage people and keys (and reaches everything)."""
        return self.role == "administrator"

    @property
    def reaches_everything(self) -> bool:
        """No place limit (administrators and agency keys)."""
        return self.units is None

    def allows_grid(self, code: str, *, community: str, street: str, district: str) -> bool:
        """Whether the grid with this code and these hierarchy codes lies inside the scope."""
        if self.units is None:
            return True
        return (code in self.units["grid"] or community in self.units["community"]
                or street in self.units["street"] or district in self.units["district"])

    def sees_division(self, code: str) -> bool:
        """Whether the division unit (district, street or community) with this code contains
        or lies inside what the scope reaches."""
        if self.divisions is None:
            return True
        return any(code.startswith(d) or d.startswith(code) for d in self.divisions)

    def unit_lists(self) -> dict[str, list[str]]:
        """The reached codes per level as sorted lists, for bound query parameters."""
        if self.units is None:
            raise ValueError("a scope that reaches everything has no unit lists")
        return {level: sorted(codes) for level, codes in self.units.items()}

    def may(self, capability: str) -> bool:
        """Whether the role carries ``capability`` (see :data:`ROLE_CAPABILITIES`)."""
        return self.may_write and capability in ROLE_CAPABILITIES.get(self.role, frozenset())

    def covers_division(self, code: str) -> bool:
        """Whether the division unit ``code`` lies wholly inside the scope (a planner's street
        covers its communities; a grid worker covers no division)."""
        if self.units is None:
            return True
        return any(code.startswith(d) for level in ("district", "street", "community")
                   for d in self.units[level])

    def allows_collection(self, name: str) -> bool:
        """Whether the collection (layer) ``name`` may be read at all."""
        return self.collections is None or name in self.collections


_LEVEL_COLUMNS = (("grid", "code"), ("community", "community_code"),
                  ("street", "street_code"), ("district", "district_code"))


def grid_condition(scope: Scope, alias: str) -> tuple[str, dict[str, list[str]]]:
    """SQL over the grid table alias ``alias`` keeping the grids ``scope`` reaches (the rule
    of :meth:`Scope.allows_grid`), with its bound parameters ``scope_<level>``."""
    if scope.reaches_everything:
        return "true", {}
    lists = scope.unit_lists()
    terms = [f"{alias}.{column} = any(cast(:scope_{level} as text[]))"
             for level, column in _LEVEL_COLUMNS if lists[level]]
    return ("(" + " or ".join(terms) + ")" if terms else "false",
            {f"scope_{level}": codes for level, codes in lists.items() if codes})
