"""Serialising check-then-write sequences across processes with PostgreSQL advisory locks.

Every write that reads the state of a district (counts its grids, checks containment, issues
codes) and then writes on the strength of what it read takes the district's lock first, in
the same transaction. Two ``gridmap demo`` or two imports into one district then run one
after the other instead of both acting on the same stale read. Transaction-scoped locks are
released by commit or rollback, so a crashed process never leaves one behind.

A district lock (not a finer community lock) is the unit because imports, assignment and
totals span the district; a province's districts still run in parallel.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

# One namespace for gridmap's keys so other applications' advisory locks never collide.
_NAMESPACE = 0x6772  # "gr"


def lock_district(session: Session, district_code: str) -> None:
    """Wait for, then hold until the end of the transaction, the lock of one district."""
    session.execute(text("select pg_advisory_xact_lock(:ns, hashtext(:key))"),
                    {"ns": _NAMESPACE, "key": f"district:{district_code}"})


def lock_districts(session: Session, district_codes) -> None:
    """Lock several districts in a fixed order, so two writers never deadlock."""
    for code in sorted(set(district_codes)):
        lock_district(session, code)


def lock_grid_routes(session: Session, grid_id: int) -> None:
    """Hold, until the end of the transaction, the lock of one grid's route plan: two
    requests planning the same grid at once store one plan after the other."""
    session.execute(text("select pg_advisory_xact_lock(:ns, hashtext(:key))"),
                    {"ns": _NAMESPACE, "key": f"route:{grid_id}"})
