"""Lockout is counted in the database: separate connections (as separate server processes
have) add to one count, concurrent failures lose none, and old hashes are upgraded."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, text

from gridmap.auth.people import add_person, authenticate
from gridmap.config import load_settings
from gridmap.errors import AuthenticationFailed
from gridmap.models import Person

SETTINGS = load_settings(environ={})
PASSWORD = "correct horse battery staple"


@pytest.fixture()
def shared_person(committed):
    with committed() as session:
        add_person(session, "lockout-test", role="administrator", password=PASSWORD,
                   settings=SETTINGS)
    yield "lockout-test"
    with committed() as session:
        session.execute(text("delete from person where login = 'lockout-test'"))


def _try(committed, password):
    try:
        with committed() as session:
            authenticate(session, "lockout-test", password, settings=SETTINGS)
        return True
    except AuthenticationFailed:
        return False


def _state(committed):
    with committed() as session:
        return session.execute(select(Person.failed_attempts, Person.locked_until > text("now()"))
                               .where(Person.login == "lockout-test")).one()


def test_failures_on_separate_connections_add_up_and_lock_for_all(committed, shared_person):
    # Each committed() scope is a new session on its own connection, like another process.
    for n in range(4):
        assert not _try(committed, f"wrong {n}")
    assert _state(committed) == (4, None)
    assert not _try(committed, "wrong 5")
    assert _state(committed) == (5, True)
    assert not _try(committed, PASSWORD)


def test_concurrent_failures_lose_no_count(committed, shared_person):
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda n: _try(committed, f"wrong {n}"), range(4)))
    assert results == [False] * 4
    assert _state(committed)[0] == 4


def test_a_hash_with_old_parameters_is_upgraded_at_the_next_login(db):
    cheap = {**SETTINGS, "argon2_time_cost": 1, "argon2_memory_kib": 8192,
             "argon2_parallelism": 1}
    person = add_person(db, "old-hash", role="administrator", password=PASSWORD,
                        settings=cheap)
    assert "m=8192,t=1,p=1" in person.password_hash
    authenticate(db, "old-hash", PASSWORD, settings=SETTINGS)
    db.flush()
    assert "m=19456,t=2,p=1" in db.get(Person, person.id).password_hash
