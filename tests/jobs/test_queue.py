"""The job queue with a real worker process: a job deferred is run by ``gridmap worker``, its
progress and result recorded, a user's mistake recorded as the job's error (never retried),
and the audit trail names who asked."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from sqlalchemy import text

from gridmap.jobs.progress import job_status
from gridmap.jobs.queue import enqueue


def _worker(database_url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gridmap.cli", "worker", "--once"],
                          env={**os.environ, "DATABASE_URL": database_url},
                          capture_output=True, text=True, timeout=120)


def test_a_job_is_run_by_a_worker_and_its_outcome_kept(database_url, engine, runner):
    good = enqueue(database_url, "assign_district", requested_by="person:规划员",
                   district="420111")
    bad = enqueue(database_url, "assign_district", requested_by="person:规划员",
                  district="999999")
    assert job_status(database_url, good)["status"] == "queued"
    done = _worker(database_url)
    assert done.returncode == 0, done.stderr
    ok = job_status(database_url, good)
    assert ok["status"] == "succeeded" and ok["result"]["buildings"] > 0
    assert ok["stage"] == "assigning buildings to grids"
    failed = job_status(database_url, bad)
    assert failed["status"] == "failed" and "999999 is not loaded" in failed["error"]
    with engine.connect() as conn:
        attempts = conn.execute(text("select attempts, status::text from procrastinate_jobs "
                                     "where id = :id"), {"id": bad}).one()
    assert attempts == (1, "succeeded")  # a user's mistake is an outcome, not a retry
    shown = runner("job", "show", str(good))
    assert json.loads(shown.output)["status"] == "succeeded"


def test_the_worker_refuses_an_outdated_schema(empty_database_url):
    done = _worker(empty_database_url)
    assert done.returncode == 2 and "gridmap db upgrade" in done.stderr


def test_make_run_starts_the_web_server_and_the_worker():
    """The Procfile `make run` hands to honcho names both processes, with commands that
    exist."""
    from click.testing import CliRunner

    from gridmap.cli import cli
    from tests.conftest import REPO

    lines = [line for line in (REPO / "Procfile").read_text().splitlines()
             if line and not line.startswith("#")]
    processes = dict(line.split(": ", 1) for line in lines)
    assert set(processes) == {"web", "worker"}
    for command in processes.values():
        words = command.split()
        assert words[0] == ".venv/bin/gridmap"
        assert CliRunner().invoke(cli, [words[1], "--help"]).exit_code == 0
    assert "honcho start -f Procfile" in (REPO / "Makefile").read_text()
