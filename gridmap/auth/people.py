"""People: create, list, disable, reset a password, authenticate, and their :class:`Scope`.

Every change goes through :func:`gridmap.audit.record` with what changed and never a password
or a hash. Lockout lives in the ``person`` row (``failed_attempts``, ``locked_until``, compared
with the database's clock), so every server process sees the same count.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterable, Mapping

from sqlalchemy import Interval, and_, case, func, literal, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from gridmap.audit import Actor, acting_as, record
from gridmap.auth.passwords import (check_password, dummy_hash, hash_password, password_hasher,
                                    verify_password)
from gridmap.auth.sessions import end_web_sessions
from gridmap.auth.scope import LEVEL_LENGTHS, Scope, check_role_levels
from gridmap.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from gridmap.i18n import msg
from gridmap.models import Community, District, Grid, Person, PersonScope, Street

# Letters of any script (张三 is a fine login), digits and . _ @ -; no spaces or controls.
_LOGIN = re.compile(r"[\w.@-]{1,64}")
#: The one answer to every failed login: it never says whether the name or the password
#: was wrong, nor whether the account is locked or disabled.
LOGIN_REFUSED = ("login name or password not accepted (after repeated failures an account is "
                 "locked for a while)")


def check_login(login: str) -> str:
    """The login name, checked: 1–64 letters, digits or ``. _ @ -``."""
    if not _LOGIN.fullmatch(login):
        raise InvalidInput(msg("login name {login!r}: expected 1–64 letters, digits or . _ @ - "
                               "(no spaces)", login=login))
    return login


def _scope_tables() -> dict[str, Any]:
    return {"district": District.code, "street": Street.code, "community": Community.code,
            "grid": Grid.code}


def check_scopes_exist(session: Session, scopes: Iterable[tuple[str, str]]) -> None:
    """Refuse a scope code that is not loaded (a grid must be current, not retired)."""
    columns = _scope_tables()
    for level, code in scopes:
        length = LEVEL_LENGTHS.get(level)
        if not code.isascii() or not code.isdigit() or (length and len(code) != length):
            size = f"{length} digits" if length else "digits only"
            raise InvalidInput(msg("--{level} {code!r}: expected a {level} code of {size}",
                                   level=level, code=code, size=size))
        query = select(func.count()).where(columns[level] == code)
        if level == "grid":
            query = query.where(Grid.valid_to.is_(None))
        if not session.execute(query).scalar():
            raise NotFound(msg("--{level} {code}: no such grid in the database (or the grid is "
                               "retired)", level=level, code=code) if level == "grid" else
                           msg("--{level} {code}: no such {level} in the database",
                               level=level, code=code))


def _find(session: Session, login: str, *, lock: bool = False) -> Person:
    query = select(Person).where(Person.login == login)
    if lock:
        query = query.with_for_update()
    person = session.execute(query).scalar_one_or_none()
    if person is None:
        raise NotFound(msg("person {login!r}: no such login name", login=login))
    return person


def _summary(person: Person) -> dict[str, Any]:
    """What the audit trail keeps of a person: never the hash."""
    return {"login": person.login, "display_name": person.display_name, "role": person.role,
            "disabled": person.disabled, "department": person.department_code,
            "scopes": [f"{s.level}:{s.code}" for s in person.scopes]}


def check_department(session: Session, role: str, department: str | None) -> None:
    """Only handlers have a department, and it must be loaded (data/taxonomy)."""
    if department is None:
        return
    if role != "handler":
        raise InvalidInput(msg("--department given for role {role}: only handlers belong to "
                               "a department", role=role))
    from gridmap.models.incident import Department

    if session.get(Department, department) is None:
        raise InvalidInput(msg("department {value!r} is not loaded (data/taxonomy/"
                               "departments.csv)", value=department[:40]))


def add_person(session: Session, login: str, *, role: str, password: str,
               scopes: Iterable[tuple[str, str]] = (), display_name: str | None = None,
               department: str | None = None, settings: Mapping[str, Any]) -> Person:
    """Create a person with a checked password and scopes that exist and fit the role.

    Raises
    ------
    InvalidInput
        Bad login name, role, scope level for the role, or a password the policy refuses.
    NotFound
        A scope code that is not in the database.
    Conflict
        The login name is taken.
    """
    check_login(login)
    rows = list(dict.fromkeys(scopes))  # repeated --grid X counts once
    check_role_levels(role, (level for level, _ in rows))
    check_scopes_exist(session, rows)
    check_department(session, role, department)
    check_password(password, login=login, settings=settings)
    if session.execute(select(Person.id).where(Person.login == login)).first():
        raise Conflict(msg("login name {login!r} is taken: expected a new one", login=login))
    person = Person(login=login, display_name=display_name or login, role=role,
                    department_code=department,
                    password_hash=hash_password(password_hasher(settings), password),
                    scopes=[PersonScope(level=level, code=code) for level, code in rows])
    session.add(person)
    session.flush()
    record(session, action="insert", table="person", key=login, after=_summary(person))
    return person


def list_people(session: Session) -> list[Person]:
    """Every person with their scopes, by login name."""
    return list(session.execute(select(Person).options(selectinload(Person.scopes))
                                .order_by(Person.login)).scalars())


def disable_person(session: Session, login: str) -> Person:
    """Disable a person: they can no longer authenticate. Idempotent."""
    person = _find(session, login, lock=True)
    if not person.disabled:
        before = _summary(person)
        person.disabled = True
        end_web_sessions(session, person.id)
        record(session, action="disable", table="person", key=login, before=before,
               after=_summary(person))
    return person


def reset_password(session: Session, login: str, password: str, *,
                   settings: Mapping[str, Any]) -> Person:
    """Set a new password (checked by the policy) and lift any lockout."""
    person = _find(session, login, lock=True)
    check_password(password, login=login, settings=settings)
    person.password_hash = hash_password(password_hasher(settings), password)
    person.password_changed_at = func.now()
    person.failed_attempts = 0
    person.locked_until = None
    end_web_sessions(session, person.id)
    record(session, action="reset_password", table="person", key=login,
           after={"password": "changed", "lockout": "lifted"})
    return person


def change_password(session: Session, person: Person, current: str, new: str, *,
                    settings: Mapping[str, Any], keep_session: str | None = None) -> Person:
    """A person changes their own password: the current one must be right (a wrong one
    counts towards the lockout, as at login), the new one must pass the policy and differ.

    Every session of the person but ``keep_session`` (the one making the change) ends.

    Raises
    ------
    AuthenticationFailed
        The current password is wrong (or the account is locked or disabled).
    InvalidInput
        The new password is refused by the policy or equals the current one.
    """
    authenticate(session, person.login, current, settings=settings, audit=False)
    if new == current:
        raise InvalidInput(msg("the new password is the current one: expected a different one"))
    check_password(new, login=person.login, settings=settings)
    person.password_hash = hash_password(password_hasher(settings), new)
    person.password_changed_at = func.now()
    end_web_sessions(session, person.id, keep=keep_session)
    session.flush()
    session.refresh(person, ["password_changed_at"])
    record(session, action="change_password", table="person", key=person.login,
           after={"password": "changed"})
    return person


def set_locale(session: Session, person: Person, locale: str | None, *,
               allowed: Iterable[str]) -> None:
    """Keep the interface language a person chose (None: follow the browser)."""
    if locale is not None and locale not in set(allowed):
        raise InvalidInput(msg("language {locale!r}: expected one of {items}", locale=locale,
                               items=', '.join(allowed)))
    if person.locale != locale:
        before = person.locale
        person.locale = locale
        record(session, action="set_locale", table="person", key=person.login,
               before={"locale": before}, after={"locale": locale})


def authenticate(session: Session, login: str, password: str, *,
                 settings: Mapping[str, Any], audit: bool = True) -> Person:
    """The person whose login name and password these are, if they may log in now.

    An unknown name is verified against a dummy hash, so it costs what a wrong password
    costs; every refusal raises the same :data:`LOGIN_REFUSED`. A wrong password adds one to
    the person's ``failed_attempts``; reaching ``login_max_failures`` locks the account for
    ``lockout_minutes``. A success is recorded as a ``login`` unless ``audit`` is false (a
    password change checks the current password without logging in). The failure is
    committed before raising (the session's transaction
    is committed), so that a caller's rollback cannot undo the count the lockout rests on.

    Raises
    ------
    AuthenticationFailed
        Unknown name, wrong password, disabled or locked account — indistinguishably.
    """
    hasher = password_hasher(settings)
    person = session.execute(select(Person).where(Person.login == login)
                             .with_for_update()).scalar_one_or_none()
    if person is None:
        # The same work as a wrong password — a hash, an audit row, a commit — so that the
        # answer's timing does not tell whether the name exists.
        verify_password(hasher, dummy_hash(hasher), password)
        record(session, action="login_refused", table="person", key=login[:200],
               after={"failed_attempts": None, "locked_until": None})
        session.commit()
        raise AuthenticationFailed(LOGIN_REFUSED)
    matches = verify_password(hasher, person.password_hash, password)
    locked = session.execute(select(Person.locked_until > func.now())
                             .where(Person.id == person.id)).scalar()
    if matches and not locked and not person.disabled:
        if person.failed_attempts or person.locked_until is not None:
            person.failed_attempts, person.locked_until = 0, None
        if hasher.check_needs_rehash(person.password_hash):
            person.password_hash = hash_password(hasher, password)
        if audit:
            record(session, action="login", table="person", key=login)
        return person
    if not matches and not locked:
        _count_failure(session, person, settings)
    record(session, action="login_refused", table="person", key=login,
           after={"failed_attempts": person.failed_attempts,
                  "locked_until": person.locked_until})
    session.commit()
    raise AuthenticationFailed(LOGIN_REFUSED)


def sign_in(session: Session, login: str, password: str, *, settings: Mapping[str, Any],
            address: str | None = None, request_id: str | None = None) -> Person:
    """:func:`authenticate` for a visitor at the login page: a refusal is recorded as by an
    anonymous visitor (who claimed ``login``), a success as by the person who signed in."""
    visitor = Actor("anonymous", "visitor", address, request_id)
    with acting_as(visitor):
        person = authenticate(session, login, password, settings=settings, audit=False)
    with acting_as(Actor("person", person.login, address, request_id)):
        record(session, action="login", table="person", key=person.login)
    return person


def _count_failure(session: Session, person: Person, settings: Mapping[str, Any]) -> None:
    """One more failure, counted in SQL against the database clock; the row lock taken by
    :func:`authenticate` serialises concurrent attempts on one account across processes.
    The count goes back to 0 only at a successful login, so after a lockout ends one more
    wrong password locks the account again."""
    limit = settings["login_max_failures"]
    lock_for = literal(dt.timedelta(minutes=settings["lockout_minutes"]), Interval)
    count = Person.failed_attempts + 1
    count_now, until = session.execute(
        update(Person).where(Person.id == person.id)
        .values(failed_attempts=count,
                locked_until=case((count >= limit, func.now() + lock_for),
                                  else_=Person.locked_until))
        .returning(Person.failed_attempts, Person.locked_until)
        .execution_options(synchronize_session=False)).one()
    set_committed_value(person, "failed_attempts", count_now)
    set_committed_value(person, "locked_until", until)


def scope_of(session: Session, person: Person) -> Scope:
    """The :class:`Scope` of a person, from their role and scope rows (and the communities
    of their grids, whose outlines they see)."""
    rows = session.execute(
        select(PersonScope.level, PersonScope.code, Grid.community_code)
        .outerjoin(Grid, and_(PersonScope.level == "grid", Grid.code == PersonScope.code))
        .where(PersonScope.person_id == person.id)
        .order_by(PersonScope.level, PersonScope.code)).all()  # one round trip a request
    units = list(dict.fromkeys((r.level, r.code) for r in rows))
    communities = sorted({r.community_code for r in rows if r.community_code is not None})
    return Scope.for_person(person.login, person.role, units,
                            grid_communities=communities, department=person.department_code)
