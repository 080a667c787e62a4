"""Background work on a PostgreSQL-backed queue (procrastinate): PostgreSQL stays the one
system of record, a job can be enqueued in the transaction of the change that needs it, and any
number of ``gridmap worker`` processes (on any host) take jobs from it.

- :mod:`~gridmap.jobs.queue` — the procrastinate app of a database, and :func:`enqueue`;
- :mod:`~gridmap.jobs.progress` — what a running job reports (stage, done of total), read by
  the CLI and the web app while it runs, and its result or error when it ends;
- :mod:`~gridmap.jobs.tasks` — the tasks themselves.
"""
