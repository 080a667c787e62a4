"""Web sessions kept in the database, so that signing out, a password change or disabling a
person ends them wherever their cookies are.

The browser's signed cookie carries a random token (256 bits); only its SHA-256 is stored, with
an absolute end (``session_max_hours`` after sign-in) on top of the idle limit the cookie's
signature enforces.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import Interval, delete, func, literal, select
from sqlalchemy.orm import Session

from gridmap.models import Person, WebSession


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def open_web_session(session: Session, person_id: int, *, hours: int,
                     address: str | None = None) -> str:
    """A new session of ``person_id``; returns the token for the cookie (never stored)."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_hash(token), person_id=person_id, address=address,
                           expires_at=func.now() + literal(dt.timedelta(hours=hours), Interval)))
    session.flush()
    return token


def web_session_person(session: Session, person_id: int, token: str) -> Person | None:
    """The person whose live session ``token`` is (None when it is not, or has ended), in
    one round trip: every signed-in request asks."""
    return session.execute(select(Person).join(WebSession, WebSession.person_id == Person.id)
                           .where(WebSession.token_hash == _hash(token),
                                  WebSession.person_id == person_id,
                                  WebSession.expires_at > func.now())).scalar_one_or_none()


def end_web_session(session: Session, token: str) -> None:
    """Sign-out: the session ends for every copy of its cookie."""
    session.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))


def end_web_sessions(session: Session, person_id: int, *, keep: str | None = None) -> None:
    """End every session of a person (but ``keep``'s): a password change, a disabled account.
    Expired rows of anyone are cleared on the way."""
    query = delete(WebSession).where(WebSession.person_id == person_id)
    if keep is not None:
        query = query.where(WebSession.token_hash != _hash(keep))
    session.execute(query)
    session.execute(delete(WebSession).where(WebSession.expires_at <= func.now()))
