"""The scope of an actor named by text (``person:LOGIN``), for work done later on someone's
behalf (a background job): their scope as it is when the work runs, so a person disabled or
moved in the meantime gets what they may have now. API keys start no jobs (they are read-only),
and a key's shown prefix names no key uniquely, so only people are looked up."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridmap.auth.people import scope_of
from gridmap.auth.scope import Scope
from gridmap.errors import Forbidden
from gridmap.i18n import msg
from gridmap.models import Person


def scope_of_actor(session: Session, actor: str) -> Scope:
    """The :class:`Scope` of ``actor`` now.

    Raises
    ------
    Forbidden
        The actor is no person, or one unknown or disabled.
    """
    kind, _, name = actor.partition(":")
    if kind == "person":
        person = session.execute(select(Person).where(Person.login == name)
                                 ).scalar_one_or_none()
        if person is not None and not person.disabled:
            return scope_of(session, person)
    raise Forbidden(msg("{actor} may no longer act here (unknown or disabled)",
                        actor=actor))
