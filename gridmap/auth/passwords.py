"""Password hashing (argon2id through argon2-cffi) and the password policy.

Hashing parameters come from the settings table (``argon2_time_cost``, ``argon2_memory_kib``,
``argon2_parallelism``); the defaults, 2 passes over 19 MiB in one lane, are OWASP's
recommended minimum for argon2id (Password Storage Cheat Sheet). RFC 9106's "low-memory"
option (3 passes, 64 MiB, 4 lanes; argon2-cffi's default) costs about four times the CPU per
login, which on a two-core server made 20 grid workers signing in at once wait 2.6–4 s at the
95th percentile; ``make bench`` (bench/login.py) measures both. Each hash is a PHC string
that carries its parameters and salt, so a change of setting applies to new hashes while old
ones still verify (and are rehashed at the next successful login, see
:func:`gridmap.auth.people.authenticate`).

The policy refuses a password shorter than ``password_min_length`` or found (ignoring case) in
``data/reference/common-passwords.txt``, the 5,000 most common passwords of zxcvbn's list
(MIT, see ``data/README.md``). Messages never repeat the password.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Mapping

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gridmap.errors import ConfigurationError, InvalidInput
from gridmap.i18n import msg

COMMON_PASSWORDS = Path("reference") / "common-passwords.txt"
# argon2 hashes whatever it is given; a bound stops a megabyte "password" costing CPU.
MAX_PASSWORD_LENGTH = 1024


def password_hasher(settings: Mapping[str, Any]) -> PasswordHasher:
    """The argon2id hasher with the parameters of ``settings``."""
    return _hasher(settings["argon2_time_cost"], settings["argon2_memory_kib"],
                   settings["argon2_parallelism"])


@functools.lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


@functools.lru_cache(maxsize=8)
def dummy_hash(hasher: PasswordHasher) -> str:
    """A hash of nothing anyone knows, made with ``hasher``'s parameters: verifying against it
    when a login name is unknown costs what verifying a real password costs."""
    return hasher.hash("gridmap: no such person")


def hash_password(hasher: PasswordHasher, password: str) -> str:
    """The argon2id PHC string of ``password`` (salted: equal passwords hash differently)."""
    return hasher.hash(password)


def verify_password(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``; False for a wrong password or a
    malformed stored hash (never raises for either)."""
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.lru_cache(maxsize=4)
def common_passwords(data_dir: str) -> frozenset[str]:
    """The bundled common-password list, lower-cased.

    Raises
    ------
    ConfigurationError
        When ``data_dir`` holds no ``reference/common-passwords.txt``: the policy is never
        silently off.
    """
    path = Path(data_dir) / COMMON_PASSWORDS
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise ConfigurationError(
            msg("{path}: cannot read the common-password list; expected {expected} in the data "
                "folder (GRIDMAP_DATA_DIR)", path=path, expected=COMMON_PASSWORDS.as_posix())
        ) from None
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def check_password(password: str, *, login: str, settings: Mapping[str, Any]) -> None:
    """Refuse a password the policy does not accept, with a message saying why.

    Parameters
    ----------
    password
        The proposed password.
    login
        The person's login name: a password equal to it is refused too.
    settings
        The settings (``password_min_length``, ``data_dir``).

    Raises
    ------
    InvalidInput
        Too short, too long, a control character, the login name, or a common password.
    """
    minimum = settings["password_min_length"]
    if len(password) < minimum:
        raise InvalidInput(msg("password of {count} characters: expected at least {minimum} "
                               "(GRIDMAP_PASSWORD_MIN_LENGTH)", count=len(password),
                               minimum=minimum))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(msg("password of {count} characters: expected at most "
                               "{max_password_length}", count=len(password),
                               max_password_length=MAX_PASSWORD_LENGTH))
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        raise InvalidInput(msg("password contains a control character (a tab, a line break…): "
                               "expected printable characters only"))
    if password.strip().lower() == login.strip().lower():
        raise InvalidInput(msg("password is the login name: expected a password nobody can "
                               "guess from the name"))
    if password.lower() in common_passwords(str(settings["data_dir"])):
        raise InvalidInput(msg("password is in the list of the 5,000 most common passwords: "
                               "expected one that is not (a few unrelated words make a good one)"))
