"""Who may manage whom: administrators manage everyone; a community admin manages the people
of their community (its grid workers and its other community admins), as the role table says
("every grid, person and record of their community").

A person lies inside a manager's scope when every scope row of theirs does: a grid row when
the manager reaches that grid, a division row when the manager's scope covers that division.
Administrators are managed by administrators only.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridmap.auth.people import list_people
from gridmap.auth.scope import Scope
from gridmap.errors import Forbidden, NotFound
from gridmap.i18n import msg
from gridmap.models import Grid, Person

#: Roles a manager who is not an administrator may give (inside their scope).
GRANTABLE = {"community_admin": ("grid_worker", "community_admin")}


def _row_inside(session: Session, manager: Scope, level: str, code: str) -> bool:
    if level != "grid":
        return manager.covers_division(code)
    grid = session.execute(select(Grid.community_code, Grid.street_code, Grid.district_code)
                           .where(Grid.code == code).limit(1)).one_or_none()
    return grid is not None and manager.allows_grid(code, community=grid[0], street=grid[1],
                                                    district=grid[2])


def manages(session: Session, manager: Scope, person: Person) -> bool:
    """Whether ``manager`` may see and manage ``person``."""
    if not manager.may("people"):
        return False
    if manager.is_administrator:
        return True
    if person.role == "administrator" or not person.scopes:
        return False
    return all(_row_inside(session, manager, s.level, s.code) for s in person.scopes)


def people_managed(session: Session, manager: Scope) -> list[Person]:
    """The people ``manager`` sees on the people page."""
    return [p for p in list_people(session) if manages(session, manager, p)]


def check_manages(session: Session, manager: Scope, login: str) -> None:
    """Refuse to act on a person outside the manager's scope (404 if there is no such login,
    so that the refusal does not depend on knowing the name)."""
    person = session.execute(select(Person).where(Person.login == login)).scalar_one_or_none()
    if person is None or not manages(session, manager, person):
        if person is None or not manager.may("people"):
            raise NotFound(msg("person {login!r}: no such login name", login=login))
        raise Forbidden(msg("{actor} does not manage {login}: their grids or units lie "
                            "outside {actor}'s", actor=manager.actor, login=login))


def check_may_grant(session: Session, manager: Scope, role: str,
                    scopes: Iterable[tuple[str, str]]) -> None:
    """Refuse a role or scope the manager may not give."""
    if manager.is_administrator:
        return
    if role not in GRANTABLE.get(manager.role, ()):
        raise Forbidden(msg("{actor} may not give the role {role}", actor=manager.actor,
                            role=role))
    for level, code in scopes:
        if not _row_inside(session, manager, level, code):
            raise Forbidden(msg("{level} {code} lies outside what {actor} manages",
                                level=level, code=code, actor=manager.actor))
