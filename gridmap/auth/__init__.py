"""People, roles, scopes and API keys (no web login here: that is the web app's edge).

- :mod:`~gridmap.auth.scope` — :class:`Scope`, what a caller may see and do;
- :mod:`~gridmap.auth.passwords` — argon2id hashing and the password policy;
- :mod:`~gridmap.auth.people` — people, lockout and :func:`authenticate`;
- :mod:`~gridmap.auth.keys` — agencies' API keys, stored as hashes.
"""
from gridmap.auth.keys import find_key, issue_key, list_keys, revoke_key, scope_of_key
from gridmap.auth.people import (add_person, authenticate, disable_person, list_people,
                                 reset_password, scope_of)
from gridmap.auth.scope import Scope

__all__ = ["Scope", "add_person", "authenticate", "disable_person", "list_people",
           "reset_password", "scope_of", "find_key", "issue_key", "list_keys", "revoke_key",
           "scope_of_key"]
