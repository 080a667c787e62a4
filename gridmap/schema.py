"""Which schema revision the database is at, against the newest one this code knows.

The web app checks it on every request that reads data, the CLI before every command that
does; a missing or different schema is :class:`~gridmap.errors.SchemaOutdated` (503 on the API,
exit 2 in the CLI) telling the operator what to run, never an SQL error about a missing table.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from gridmap.config import REPO_ROOT
from gridmap.errors import InvalidInput, SchemaOutdated
from gridmap.i18n import msg

MIGRATIONS = REPO_ROOT / "migrations"
_UNDEFINED_TABLE = "42P01"


@cache
def _script():
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS))


def code_head() -> str:
    """The newest revision in ``migrations/versions`` (the one this code needs).

    Every command and request that reads data asks, so it is read from the revision files'
    ``revision`` and ``down_revision`` assignments (a few milliseconds) rather than through
    Alembic, whose import and loading of every migration cost a CLI command ~0.2 s; a tree
    that is not one line of revisions (branches, merges) is left to Alembic."""
    return _head_by_assignments() or _script().get_current_head()


@cache
def _head_by_assignments() -> str | None:
    """The one revision no other revision names as its ``down_revision``, or None when the
    files hold anything but literal assignments of one line of revisions."""
    down: dict[str, Any] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        values = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target = (node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1
                      else node.target if isinstance(node, ast.AnnAssign) else None)
            if (isinstance(target, ast.Name) and target.id in ("revision", "down_revision")
                    and node.value is not None):
                try:
                    values[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    return None
        if not isinstance(values.get("revision"), str) or not (
                values.get("down_revision") is None or isinstance(values["down_revision"], str)):
            return None
        down[values["revision"]] = values["down_revision"]
    heads = set(down) - set(down.values())
    roots = [r for r, d in down.items() if d is None]
    linked = all(d is None or d in down for d in down.values())
    return heads.pop() if len(heads) == 1 and len(roots) == 1 and linked else None


def known_revisions() -> list[str]:
    """Every revision this code knows, oldest first."""
    return [r.revision for r in reversed(list(_script().walk_revisions()))]


def check_revision_argument(revision: str) -> None:
    """Raise :class:`InvalidInput` unless ``revision`` names a revision Alembic can resolve.

    Accepts what ``alembic upgrade``/``downgrade`` accept: ``head``, ``base``, a known
    revision or an unambiguous prefix of one, and relative forms (``+1``, ``-1``, ``head-1``).
    """
    from alembic.util import CommandError

    if revision.startswith(("+", "-")) or any(c in revision[1:] for c in "+-"):
        return  # resolved against the database's current revision by Alembic itself
    try:
        _script().get_revisions(revision)
    except CommandError as exc:
        raise InvalidInput(
            msg("revision {revision!r}: {exc}; expected head, base or one of {items}",
                revision=revision, exc=exc, items=', '.join(known_revisions()))) from None


@dataclass(frozen=True)
class SchemaStatus:
    """The database's revision (None: never migrated) and the code's."""

    database: str | None
    code: str

    @property
    def current(self) -> bool:
        return self.database == self.code

    def problem(self) -> str | None:
        """What is wrong and what to run, or None when the schema is current."""
        if self.current:
            return None
        if self.database is None:
            return msg("the database has no gridmap schema (this code needs revision {code}): "
                       "run `gridmap db upgrade`", code=self.code)
        if self.database in known_revisions():
            return msg("the database schema is at revision {database}, this code needs {code}: "
                       "run `gridmap db upgrade`", database=self.database, code=self.code)
        return msg("the database schema is at revision {database}, which this code does not "
                   "know (its newest is {code}): deploy the code that matches the database, or "
                   "run `gridmap db downgrade {code}` with the newer code",
                   database=self.database, code=self.code)

    def as_dict(self) -> dict[str, str | None]:
        return {"database": self.database, "code": self.code}


def schema_status(bind: Session | Connection) -> SchemaStatus:
    """Read the database's revision in one round trip (a rollback when it has none)."""
    try:
        revision = bind.execute(text("select version_num from alembic_version")).scalar()
    except ProgrammingError as exc:
        if getattr(exc.orig, "sqlstate", None) != _UNDEFINED_TABLE:
            raise
        bind.rollback()
        revision = None
    return SchemaStatus(database=revision, code=code_head())


def require_current_schema(bind: Session | Connection) -> SchemaStatus:
    """Return the status, or raise :class:`SchemaOutdated` saying what to run."""
    status = schema_status(bind)
    problem = status.problem()
    if problem:
        raise SchemaOutdated(problem, schema=status.as_dict())
    return status
