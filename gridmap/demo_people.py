"""The demo's people: an administrator, a grid worker, and the command centre's dispatcher and
a department's handler for the incident loop, so that ``make run`` can be tried.

They are created once, with random passwords that are shown once (by ``gridmap demo``) and
never written anywhere; no password is in the repository. A later ``gridmap demo`` leaves them
as they are. ``gridmap user reset-password demo-admin`` sets a new password at any time.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gridmap.auth import add_person
from gridmap.models import Person

ADMIN = "demo-admin"
WORKER = "demo-worker"
DISPATCHER = "demo-dispatcher"
HANDLER = "demo-handler"
_NAMES = {"administrator": "演示管理员", "grid_worker": "演示网格员", "dispatcher": "演示派遣员",
          "handler": "演示处置员"}


@dataclass(frozen=True)
class DemoPerson:
    login: str
    role: str
    reaches: str
    password: str | None  # None: the person existed already


def _worker_grid(session: Session, district: str) -> str:
    """The first residential grid of the district's first community with grids."""
    return session.execute(text(
        "select code from grid where district_code = :d and valid_to is null "
        "and kind = 'residential' order by community_code, code limit 1"),
        {"d": district}).scalar_one()


def ensure_demo_people(session: Session, district: str, *,
                       settings: Mapping[str, Any]) -> list[DemoPerson]:
    """Create the demo administrator, grid worker, dispatcher and handler unless they
    exist."""
    made = []
    grid = _worker_grid(session, district)
    for login, role, scopes, reaches in (
            (ADMIN, "administrator", [], "everything"),
            (WORKER, "grid_worker", [("grid", grid)], f"grid {grid}"),
            (DISPATCHER, "dispatcher", [("district", district)], f"district {district}"),
            (HANDLER, "handler", [("district", district)], f"district {district}")):
        exists = session.execute(select(Person.id).where(Person.login == login)).first()
        if exists:
            made.append(DemoPerson(login, role, reaches, None))
            continue
        # 12 URL-safe characters: 72 random bits, never in the common-password list.
        password = secrets.token_urlsafe(9)
        add_person(session, login, role=role, password=password, scopes=scopes,
                   display_name=_NAMES[role],
                   settings=settings)
        made.append(DemoPerson(login, role, reaches, password))
    return made
