"""People, roles, scopes and API keys (no web login here: that is the web app's edge).

- :mod:`~gridmap.auth.scope` — :class:`Scope`, what a caller may see and do;
- :mod:`~gridmap.auth.passwords` — argon2id hashing and the password policy;
- :mod:`~gridmap.auth.people` — people, lockout and :func:`authenticate`;
- :mod:`~gridmap.auth.keys` — agencies' API keys, stored as hashes.

The names below are imported when first asked for: a caller that needs only a
:class:`Scope` (``gridmap export``) does not import the models that people and keys use.
"""
from __future__ import annotations

import importlib
from typing import Any

_HOMES = {"Scope": "scope", "add_person": "people", "authenticate": "people",
          "disable_person": "people", "list_people": "people", "reset_password": "people",
          "scope_of": "people", "find_key": "keys", "issue_key": "keys", "list_keys": "keys",
          "revoke_key": "keys", "scope_of_key": "keys"}

__all__ = list(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
