"""The queue: one procrastinate app per database, the tasks registered on a blueprint.

Jobs are deferred through procrastinate's own connector (a small psycopg pool opened on
first use); the worker is ``gridmap worker`` (:func:`run_worker`). The queue's tables and
functions are procrastinate's, created by migration 0010 from the installed procrastinate's
schema; the version is pinned in ``setup.cfg`` because a new procrastinate may need a
migration of its own.
"""
from __future__ import annotations

import functools
from typing import Any

import procrastinate
from sqlalchemy.engine import make_url

from gridmap.db import normalise_url

QUEUE = "gridmap"
blueprint = procrastinate.Blueprint()


def conninfo(database_url: str) -> str:
    """The libpq connection string of a SQLAlchemy URL."""
    url = make_url(normalise_url(database_url))
    parts = {"host": url.host, "port": url.port, "user": url.username,
             "password": url.password, "dbname": url.database}
    return " ".join(f"{k}={v}" for k, v in parts.items() if v)


@functools.lru_cache(maxsize=8)
def job_app(database_url: str) -> procrastinate.App:
    """The procrastinate app of ``database_url``, with gridmap's tasks."""
    from gridmap.jobs import tasks  # noqa: F401 — registers the tasks on the blueprint

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=conninfo(database_url), kwargs={"application_name": "gridmap-jobs"}))
    app.add_tasks_from(blueprint, namespace="gridmap")
    return app


def enqueue(database_url: str, task: str, *, requested_by: str, **arguments: Any) -> int:
    """Defer ``task`` (its name without the namespace) with ``arguments`` on behalf of
    ``requested_by`` (``kind:name``, the audit trail's actor); the job's id. Its progress row
    exists from here on (status ``queued``)."""
    from gridmap.jobs.progress import record_queued

    app = job_app(database_url)
    with app.open():
        job_id = app.configure_task(f"gridmap:{task}", queue=QUEUE).defer(
            requested_by=requested_by, **arguments)
    record_queued(database_url, job_id, task, requested_by, arguments)
    return job_id


def run_worker(database_url: str, *, once: bool = False, concurrency: int = 1) -> None:
    """Run jobs until stopped (SIGINT/SIGTERM); ``once``: the jobs waiting now, then return."""
    job_app(database_url).run_worker(
        queues=[QUEUE], wait=not once, concurrency=concurrency,
        install_signal_handlers=not once, listen_notify=not once,
        additional_context={"database_url": database_url})
