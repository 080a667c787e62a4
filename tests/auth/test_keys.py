"""API keys: issued once, stored as a hash, found by the presented key, revoked."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridmap.audit import list_events
from gridmap.auth.keys import (SERVICES, find_key, issue_key, key_hash, known_collections,
                               parse_collections, revoke_key, scope_of_key)
from gridmap.config import REPO_ROOT
from gridmap.errors import AuthenticationFailed, InvalidInput, NotFound
from gridmap.models import ApiKey

KNOWN = known_collections(REPO_ROOT)


def test_the_known_collections_are_the_layer_registrys():
    from layers.registry import load_layers

    assert KNOWN == sorted({*load_layers(), *SERVICES}) and "grids" in KNOWN


def test_a_key_is_found_by_the_presented_secret_and_only_its_hash_is_stored(db):
    issued = issue_key(db, "武汉市城管委", ["grids", "buildings"])
    stored = db.get(ApiKey, issued.key.id)
    assert stored.key_hash == key_hash(issued.secret) != issued.secret
    assert issued.secret.startswith(stored.prefix) and len(issued.secret) == 47
    assert find_key(db, issued.secret).id == stored.id
    scope = scope_of_key(stored)
    assert scope.allows_collection("grids") and not scope.allows_collection("roads")
    assert not scope.may_write


def test_a_revoked_unknown_or_malformed_key_gets_one_answer(db):
    issued = issue_key(db, "agency", None)
    revoke_key(db, str(issued.key.id))
    messages = set()
    for presented in (issued.secret, "gmk_" + "A" * 43, "not a key", ""):
        with pytest.raises(AuthenticationFailed) as caught:
            find_key(db, presented)
        messages.add(caught.value.detail)
    assert len(messages) == 1


def test_revoking_by_prefix_and_audit_rows_carry_no_secret(db):
    issued = issue_key(db, "agency", ["water"])
    revoke_key(db, issued.key.prefix)
    with pytest.raises(NotFound, match="no key has this id or prefix"):
        revoke_key(db, "gmk_nothere")
    events = [e for e in list_events(db, table="api_key") if e.row_key == str(issued.key.id)]
    assert sorted(e.action for e in events) == ["insert", "revoke"]
    for event in events:
        kept = f"{event.before} {event.after}"
        assert issued.secret not in kept and issued.key.key_hash not in kept


@given(st.lists(st.sampled_from(KNOWN), min_size=1, max_size=4))
def test_collections_parse_to_the_names_given(names):
    assert parse_collections(",".join(names), known=KNOWN) == list(dict.fromkeys(names))


@pytest.mark.parametrize("text, message", [
    ("", "expected all or names separated by commas"),
    ("grids,,roads", "expected all or names separated by commas"),
    ("grids,houses", "'houses' is not a collection"),
])
def test_bad_collections_are_refused(text, message):
    with pytest.raises(InvalidInput, match=message):
        parse_collections(text, known=KNOWN)
    assert parse_collections(" all ", known=KNOWN) is None
