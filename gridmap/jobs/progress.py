"""What a background job reports while it runs, and how it ended (table ``job_progress``).

The rows are written on a connection of their own in autocommit, so the CLI and the web app
see a stage change at once, while the job's own work stays in its one transaction (all or
nothing). Advances are written at most every :data:`EVERY` seconds.
"""
from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import text

from gridmap.db import get_engine
from gridmap.errors import NotFound
from gridmap.i18n import msg

EVERY = 0.5  # seconds between two writes of the same stage's progress


def record_queued(database_url: str, job_id: int, task: str, requested_by: str,
                  arguments: dict[str, Any]) -> None:
    with get_engine(database_url).begin() as conn:
        conn.execute(text(
            "insert into job_progress (job_id, task, requested_by, arguments, status) "
            "values (:id, :task, :who, cast(:args as jsonb), 'queued') "
            "on conflict (job_id) do nothing"),
            {"id": job_id, "task": task, "who": requested_by,
             "args": json.dumps(arguments, ensure_ascii=False)})


class JobProgress:
    """A :class:`gridmap.progress.Progress` that writes to ``job_progress``."""

    def __init__(self, database_url: str, job_id: int) -> None:
        self.engine = get_engine(database_url)
        self.job_id = job_id
        self.stage_name = ""
        self.total: int | None = None
        self.done = 0
        self._written = 0.0

    def _write(self, **values: Any) -> None:
        sets = ", ".join(f"{k} = :{k}" for k in values)
        with self.engine.begin() as conn:
            conn.execute(text(f"update job_progress set {sets}, updated_at = now() "
                              f"where job_id = :job_id"), {"job_id": self.job_id, **values})
        self._written = time.monotonic()

    def start(self) -> None:
        self._write(status="running")

    def stage(self, name: str, total: int | None = None) -> None:
        self.stage_name, self.total, self.done = str(name), total, 0
        self._write(stage=self.stage_name, total=total, done=0)

    def advance(self, amount: int = 1) -> None:
        self.done += amount
        if time.monotonic() - self._written >= EVERY:
            self._write(done=self.done)

    def succeeded(self, result: dict[str, Any]) -> None:
        self._write(status="succeeded", done=self.done,
                    result=json.dumps(result, ensure_ascii=False, default=str))

    def failed(self, error: str) -> None:
        self._write(status="failed", error=error[:2000])


def job_status(database_url_or_session, job_id: int) -> dict[str, Any]:
    """A job's state: task, who asked, status, stage, done of total, result or error."""
    query = text("select job_id, task, requested_by, arguments, status, stage, done, total, "
                 "result, error, created_at, updated_at from job_progress "
                 "where job_id = :id")
    if isinstance(database_url_or_session, str):
        with get_engine(database_url_or_session).connect() as conn:
            row = conn.execute(query, {"id": job_id}).mappings().one_or_none()
    else:
        row = database_url_or_session.execute(query, {"id": job_id}).mappings().one_or_none()
    if row is None:
        raise NotFound(msg("job {job}: no such job", job=job_id))
    out = dict(row)
    for key in ("created_at", "updated_at"):
        out[key] = out[key].isoformat() if out[key] else None
    return out
