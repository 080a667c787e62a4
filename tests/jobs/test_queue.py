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
    """The Procfile `make run` hands to honcho names every process (web server, job worker,
    MQTT consumer, the demo's simulated devices), with commands that exist."""
    from click.testing import CliRunner

    from gridmap.cli import cli
    from tests.conftest import REPO

    lines = [line for line in (REPO / "Procfile").read_text().splitlines()
             if line and not line.startswith("#")]
    processes = dict(line.split(": ", 1) for line in lines)
    assert set(processes) == {"web", "worker", "mqtt", "devices"}
    for command in processes.values():
        words = command.split()
        assert words[0] == ".venv/bin/gridmap"
        assert CliRunner().invoke(cli, [words[1], "--help"]).exit_code == 0
    assert "honcho start -f Procfile" in (REPO / "Makefile").read_text()


def test_a_street_is_partitioned_in_the_background_into_draft_plans(database_url, runner):
    from gridmap.db import session_scope
    from gridmap.plans.compare import compare_plan
    from gridmap.plans.drafts import get_plan

    queued = runner("partition", "--street", "420111002", "--background")
    assert queued.exit_code == 0, queued.output
    job_id = int(queued.output.split()[1])
    assert job_status(database_url, job_id)["status"] == "queued"
    assert _worker(database_url).returncode == 0
    status = job_status(database_url, job_id)
    assert status["status"] == "succeeded", status
    assert status["done"] == status["total"] == len(status["result"]["plans"]) >= 2
    with session_scope(database_url) as session:
        for entry in status["result"]["plans"]:
            draft = get_plan(session, entry["plan"])
            assert draft.source == "partition" and draft.community_code == entry["community"]
            comparison = compare_plan(session, draft)
            assert sum(g.households for g in comparison.grids) == sum(
                h for _, h, _ in comparison.current)
    followed = runner("job", "show", str(job_id), "--follow")
    assert json.loads(followed.output.splitlines()[-1])["status"] == "succeeded"


def test_partition_keeps_a_community_proposal_as_a_draft(runner):
    result = runner("partition", "420111002022", "--draft")
    assert "kept as draft plan" in result.output
    plan_id = result.output.split("kept as draft plan ")[1].split()[0]
    shown = runner("plan", "show", plan_id, "--json")
    assert json.loads(shown.output)["plan"] == int(plan_id)
