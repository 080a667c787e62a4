"""API keys for other agencies: issue one (shown once), list, revoke, look one up.

A key is ``gmk_`` followed by 43 URL-safe characters from :func:`secrets.token_urlsafe`
(256 random bits). Only its SHA-256 is stored. A slow, salted hash (argon2, bcrypt) exists to
make guessing a *low-entropy* secret such as a password expensive; a 256-bit random key cannot
be guessed at any speed (2^255 tries on average), so salting and stretching would buy nothing,
while they would cost every API request tens of milliseconds of CPU and, salted, rule out
finding the key by an indexed lookup of its hash. A plain (unkeyed) SHA-256 rather than an
HMAC keeps the lookup independent of any server secret, which may differ between
deployments or be rotated. The first 12 characters (``gmk_`` + 8) are kept in clear to tell
keys apart in lists; the remaining 35 characters still carry 210 random bits.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridmap.audit import record
from gridmap.auth.scope import Scope
from gridmap.errors import AuthenticationFailed, Forbidden, InvalidInput, NotFound
from gridmap.i18n import msg
from gridmap.models import ApiKey

KEY_PREFIX = "gmk_"
SHOWN_CHARACTERS = 12
_KEY = re.compile(r"gmk_[A-Za-z0-9_-]{43}")
_COLLECTION = re.compile(r"[a-z][a-z0-9_]{0,63}")
KEY_REFUSED = "API key not accepted (unknown, malformed or revoked)"


@dataclass(frozen=True)
class IssuedKey:
    """A new key: ``secret`` is shown to the caller once and never stored."""

    key: ApiKey
    secret: str


def key_hash(secret: str) -> str:
    """Hex SHA-256 of a presented key: what the ``api_key`` table stores and is searched by."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_collections(text: str, *, known: Iterable[str]) -> list[str] | None:
    """``all`` → None (every collection); else the comma-separated names, each known.

    Raises
    ------
    InvalidInput
        Empty list, a malformed name, or a name that is not a known collection.
    """
    known = sorted(set(known))
    value = text.strip()
    if value == "all":
        return None
    names = [n.strip() for n in value.split(",")]
    if not value or any(not n for n in names):
        raise InvalidInput(msg("--collections {text!r}: expected all or names separated by "
                               "commas, e.g. grids,buildings", text=text))
    for name in names:
        if not _COLLECTION.fullmatch(name) or name not in known:
            raise InvalidInput(msg("--collections: {name!r} is not a collection; expected all "
                                   "or some of {items}", name=name, items=', '.join(known)))
    return list(dict.fromkeys(names))


def issue_key(session: Session, agency: str, collections: list[str] | None) -> IssuedKey:
    """Store a new key's hash for ``agency``; the secret is returned once, in the result."""
    agency = agency.strip()
    if not agency or len(agency) > 200 or any(ord(c) < 32 for c in agency):
        raise InvalidInput(msg("agency {agency!r}: expected its name, 1–200 printable characters",
                               agency=agency))
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(agency=agency, collections=collections, key_hash=key_hash(secret),
                 prefix=secret[:SHOWN_CHARACTERS])
    session.add(key)
    session.flush()
    record(session, action="insert", table="api_key", key=str(key.id),
           after={"agency": agency, "collections": collections or "all",
                  "prefix": key.prefix})
    return IssuedKey(key, secret)


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, revoked ones too, oldest first."""
    return list(session.execute(select(ApiKey).order_by(ApiKey.id)).scalars())


def revoke_key(session: Session, ident: str) -> ApiKey:
    """Revoke the key with this id or shown prefix. Idempotent.

    Raises
    ------
    NotFound
        No key has that id or prefix.
    InvalidInput
        The prefix is shared by several keys (give the id).
    """
    if ident.isascii() and ident.isdigit() and int(ident) >= 2 ** 31:
        keys = []
    elif ident.isascii() and ident.isdigit():
        keys = list(session.execute(select(ApiKey).where(ApiKey.id == int(ident))
                                    .with_for_update()).scalars())
    else:
        keys = list(session.execute(select(ApiKey).where(ApiKey.prefix == ident)
                                    .with_for_update()).scalars())
    if not keys:
        raise NotFound(msg("API key {ident!r}: no key has this id or prefix (see gridmap apikey "
                           "list)", ident=ident))
    if len(keys) > 1:
        raise InvalidInput(msg("API key prefix {ident!r} is shared by {count} keys: expected "
                               "the id (see gridmap apikey list)", ident=ident, count=len(keys)))
    key = keys[0]
    if key.revoked_at is None:
        key.revoked_at = func.now()
        session.flush()
        record(session, action="revoke", table="api_key", key=str(key.id),
               after={"agency": key.agency, "prefix": key.prefix})
    return key


def find_key(session: Session, presented: str) -> ApiKey:
    """The live key whose secret was presented (as in an ``X-API-Key`` header).

    Raises
    ------
    AuthenticationFailed
        Malformed, unknown or revoked — with one message for all three.
    """
    if not _KEY.fullmatch(presented):
        raise AuthenticationFailed(KEY_REFUSED)
    key = session.execute(select(ApiKey).where(ApiKey.key_hash == key_hash(presented),
                                               ApiKey.revoked_at.is_(None))
                          ).scalar_one_or_none()
    if key is None:
        raise AuthenticationFailed(KEY_REFUSED)
    return key


def scope_of_key(key: ApiKey) -> Scope:
    """The read-only :class:`Scope` of an agency key."""
    return Scope.for_api_key(key.prefix, key.collections)


#: Names a key may list beyond the layers: services it may use. ``open311`` lets an agency's
#: or a citizen app's key submit Open311 service requests (incidents); ``devices`` lets a
#: device gateway post telemetry (``POST /api/devices/telemetry``); ``all`` includes
#: neither — a key writes only when it names the service.
SERVICES = ("open311", "devices")


def known_collections(repo_root: Path) -> list[str]:
    """The collection names a key may list: the layer definitions' file names
    (``layers/definitions/*.yaml``) and the :data:`SERVICES`. Read as files, not imported:
    ``gridmap`` does not depend on ``layers``; a test keeps the layers equal to the layer
    registry."""
    layers = (p.stem for p in (repo_root / "layers" / "definitions").glob("*.yaml"))
    return sorted({*layers, *SERVICES})


def may_use_service(key: ApiKey, service: str) -> bool:
    """Whether ``key`` names ``service`` (see :data:`SERVICES`)."""
    return key.collections is not None and service in key.collections


def service_key(session: Session, presented: str, service: str) -> ApiKey:
    """The live key presented for ``service`` (Open311's submissions, device telemetry).

    Raises
    ------
    AuthenticationFailed
        Malformed, unknown or revoked (:func:`find_key`).
    Forbidden
        The key does not name ``service``.
    """
    key = find_key(session, presented.strip())
    if not may_use_service(key, service):
        raise Forbidden(msg("this key does not name the {service} service; an administrator "
                            "can issue one with --collections {service}", service=service))
    return key
