"""People on the real database: creation, scopes, lockout, authentication, audit."""
from __future__ import annotations

import statistics
import time

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from gridmap.audit import list_events
from gridmap.auth.people import (LOGIN_REFUSED, add_person, authenticate, check_login,
                                 disable_person, reset_password, scope_of)
from gridmap.config import load_settings
from gridmap.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from gridmap.models import Person

SETTINGS = load_settings(environ={})
PASSWORD = "correct horse battery staple"


@pytest.fixture()
def grid(db):
    return db.execute(text("select code, community_code, street_code, district_code from grid where valid_to is null "
                           "order by code limit 1")).one()


@pytest.fixture()
def worker(db, grid):
    return add_person(db, "网格员-1", role="grid_worker", password=PASSWORD,
                      scopes=[("grid", grid.code)], settings=SETTINGS)


def _refused(db, login, password):
    with pytest.raises(AuthenticationFailed) as caught:
        authenticate(db, login, password, settings=SETTINGS)
    assert caught.value.detail == LOGIN_REFUSED
    return caught.value


def test_the_stored_hash_is_never_the_password_and_authentication_returns_the_person(
        db, worker, grid):
    assert worker.password_hash != PASSWORD and PASSWORD not in worker.password_hash
    assert authenticate(db, "网格员-1", PASSWORD, settings=SETTINGS).id == worker.id
    scope = scope_of(db, worker)
    assert scope.allows_grid(grid.code, community=grid.community_code,
                             street=grid.street_code, district=grid.district_code)
    assert scope.unit_lists()["grid"] == [grid.code]
    assert scope.divisions == {grid.community_code}


def test_a_wrong_password_counts_and_five_in_a_row_lock_until_the_configured_time(
        db, worker):
    for attempt in range(1, 5):
        _refused(db, "网格员-1", "wrong password " + str(attempt))
        assert db.get(Person, worker.id).failed_attempts == attempt
        assert worker.locked_until is None
    _refused(db, "网格员-1", "wrong password 5")
    locked_for = db.execute(select(Person.locked_until - text("now()"))
                            .where(Person.id == worker.id)).scalar()
    assert 14 * 60 < locked_for.total_seconds() <= 15 * 60
    _refused(db, "网格员-1", PASSWORD)  # the right password does not open a locked account
    # When the lock has run out, the right password works and clears the count.
    db.execute(update(Person).where(Person.id == worker.id)
               .values(locked_until=text("now() - interval '1 second'")))
    db.expire_all()
    assert authenticate(db, "网格员-1", PASSWORD, settings=SETTINGS).failed_attempts == 0


def test_the_failure_count_survives_the_callers_rollback(engine, db, worker):
    _refused(db, "网格员-1", "wrong password")
    db.rollback()  # the caller gives up: the count stays, it was committed with the refusal
    assert db.execute(select(Person.failed_attempts).where(Person.login == "网格员-1")
                      ).scalar() == 1


def test_a_disabled_person_cannot_authenticate(db, worker):
    disable_person(db, "网格员-1")
    _refused(db, "网格员-1", PASSWORD)


def test_an_unknown_name_gets_the_same_answer_in_similar_time(db, worker):
    def timed(login):
        start = time.perf_counter()
        _refused(db, login, "wrong password")
        return time.perf_counter() - start

    unknown = statistics.median(timed("nobody-here") for _ in range(3))
    wrong = statistics.median(timed("网格员-1") for _ in range(3))
    # Both verify one argon2 hash (tens of ms); without the dummy hash "unknown" is ~1 ms.
    assert unknown > 0.5 * wrong, (unknown, wrong)


def test_reset_password_checks_the_policy_and_lifts_the_lockout(db, worker):
    for _ in range(5):
        _refused(db, "网格员-1", "wrong password")
    with pytest.raises(InvalidInput, match="most common"):
        reset_password(db, "网格员-1", "password123", settings=SETTINGS)
    reset_password(db, "网格员-1", "a new and long passphrase", settings=SETTINGS)
    assert authenticate(db, "网格员-1", "a new and long passphrase", settings=SETTINGS)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"role": "grid_worker", "scopes": [("grid", "320508019044999")]}, NotFound,
     "no such grid"),
    ({"role": "community_admin", "scopes": [("community", "4201")]}, InvalidInput,
     "expected a community code of 12 digits"),
    ({"role": "grid_worker", "scopes": [("community", "420111001001")]}, InvalidInput,
     "expected only --grid"),
    ({"role": "administrator", "password": "short"}, InvalidInput, "at least 10"),
])
def test_bad_people_are_refused_with_what_was_expected(db, kwargs, error, message):
    arguments = {"password": PASSWORD, "settings": SETTINGS, **kwargs}
    with pytest.raises(error, match=message):
        add_person(db, "someone", **arguments)


def test_a_login_name_is_taken_once(db, worker, grid):
    with pytest.raises(Conflict, match="is taken"):
        add_person(db, "网格员-1", role="administrator", password=PASSWORD, settings=SETTINGS)
    with pytest.raises(InvalidInput, match="expected 1–64 letters"):
        add_person(db, "two words", role="administrator", password=PASSWORD,
                   settings=SETTINGS)


def test_every_change_is_audited_without_a_secret(db, worker):
    disable_person(db, "网格员-1")
    reset_password(db, "网格员-1", "a new and long passphrase", settings=SETTINGS)
    _refused(db, "网格员-1", "wrong password")
    events = [e for e in list_events(db, table="person") if e.row_key == "网格员-1"]
    assert {e.action for e in events} >= {"insert", "disable", "reset_password",
                                          "login_refused"}
    hashes = db.execute(select(Person.password_hash)).scalars().all()
    for event in events:
        kept = f"{event.before} {event.after}"
        assert "argon2" not in kept and "passphrase" not in kept and PASSWORD not in kept
        assert not any(h in kept for h in hashes)


@given(st.text(max_size=70))
@example("zhangsan\n")  # `$` alone would let a trailing line break through
@example("张三")
def test_a_login_name_is_accepted_exactly_when_it_is_1_to_64_letters_digits_or_dot_at_dash(
        name):
    fits = 1 <= len(name) <= 64 and all(c.isalnum() or c in "._@-" for c in name)
    try:
        check_login(name)
        accepted = True
    except InvalidInput as exc:
        accepted = False
        assert repr(name) in exc.detail
    assert accepted == fits
