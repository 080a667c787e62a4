"""argon2id hashing and the password policy."""
from __future__ import annotations

import pytest
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st

from gridmap.auth.passwords import (check_password, common_passwords, hash_password,
                                    password_hasher, verify_password)
from gridmap.config import REPO_ROOT, load_settings
from gridmap.errors import ConfigurationError, InvalidInput

SETTINGS = load_settings(environ={})
# The policy checks run on cheap parameters; the argon2 defaults are exercised elsewhere.
FAST = {**SETTINGS, "argon2_time_cost": 1, "argon2_memory_kib": 8192, "argon2_parallelism": 1}


@hsettings(max_examples=15, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_the_hash_never_equals_the_password_and_verifies_only_it(password):
    hasher = password_hasher(FAST)
    stored = hash_password(hasher, password)
    assert stored != password
    if len(password) >= 8:  # a shorter string may turn up in base64 by chance
        assert password not in stored
    assert stored.startswith("$argon2id$")
    assert verify_password(hasher, stored, password)
    assert not verify_password(hasher, stored, password + "x")


def test_equal_passwords_hash_differently_and_parameters_come_from_the_settings():
    hasher = password_hasher(SETTINGS)
    one = hash_password(hasher, "a long passphrase")
    two = hash_password(hasher, "a long passphrase")
    assert one != two
    assert "$m=19456,t=2,p=1$" in one


def test_a_malformed_stored_hash_is_a_mismatch_not_an_error():
    assert not verify_password(password_hasher(FAST), "not a hash", "whatever")


@pytest.mark.parametrize("password, message", [
    ("short", "password of 5 characters: expected at least 10"),
    ("x" * 1025, "expected at most 1024"),
    ("tab\there and more", "control character"),
    ("ZHANGSAN-01", "password is the login name"),
    ("1234567890", "most common passwords"),
    ("QWERTYUIOP", "most common passwords"),  # case does not help
])
def test_the_policy_refuses_with_a_clear_message_that_never_repeats_the_password(
        password, message):
    with pytest.raises(InvalidInput, match=message) as caught:
        check_password(password, login="zhangsan-01", settings=SETTINGS)
    assert password not in str(caught.value)


def test_the_policy_accepts_a_good_password():
    check_password("correct horse battery staple", login="zhangsan", settings=SETTINGS)


def test_the_bundled_list_holds_thousands_of_real_common_passwords():
    common = common_passwords(str(REPO_ROOT / "data"))
    assert len(common) == 5000 and {"123456", "password", "qwerty"} <= common


def test_a_missing_list_is_a_configuration_error_not_a_silent_pass(tmp_path):
    with pytest.raises(ConfigurationError, match="common-password list"):
        check_password("correct horse battery staple", login="x",
                       settings={**SETTINGS, "data_dir": str(tmp_path)})
