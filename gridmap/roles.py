"""Who acts in gridmap: the roles people have, the levels a person's scope is given at, and
the kinds of actor the audit trail names.

Plain names, importable without the models: a command that only reads (``gridmap export``)
does not pay for building every mapped class (~0.3 s) to check a role.
"""
from __future__ import annotations

ROLES = ("grid_worker", "community_admin", "planner", "dispatcher", "handler", "administrator")
SCOPE_LEVELS = ("district", "street", "community", "grid")
ACTOR_KINDS = ("person", "api_key", "cli", "system", "anonymous")
