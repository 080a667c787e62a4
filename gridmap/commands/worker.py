"""``gridmap worker``: run background jobs."""
from __future__ import annotations

import click

from gridmap.cli_help import argument, command, group, option
from gridmap.cli_context import Context


@command()
@option("--once", is_flag=True, help="Run the jobs waiting now, then exit.")
@option("--concurrency", type=click.IntRange(1, 32), default=1, show_default=True,
        help="Jobs run at the same time by this process.")
@click.pass_obj
def worker(ctx: Context, once: bool, concurrency: int) -> None:
    """Run background jobs (street-wide partitions, district-wide reassignments, …) until
    stopped; `make run` starts one beside the web server."""
    import logging

    from gridmap.jobs.queue import run_worker
    from gridmap.schema import require_current_schema

    with ctx.session() as session:
        require_current_schema(session)
    logging.basicConfig(level=logging.INFO, format="worker: %(message)s")
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    run_worker(ctx.url, once=once, concurrency=concurrency)


@group()
def job() -> None:
    """Background jobs: show one."""


@job.command("show")
@argument("job_id", type=click.IntRange(1, 2 ** 63 - 1))
@option("--follow", is_flag=True, help="Show a progress bar until the job ends.")
@click.pass_obj
def job_show(ctx: Context, job_id: int, follow: bool) -> None:
    """What job JOB_ID is doing, or how it ended."""
    import json
    import time

    from gridmap.jobs.progress import job_status
    from gridmap.progress import TerminalProgress

    status = job_status(ctx.url, job_id)
    if follow:
        with TerminalProgress() as bar:
            stage, done = None, 0
            while status["status"] in ("queued", "running"):
                if status["stage"] and status["stage"] != stage:
                    stage, done = status["stage"], 0
                    bar.stage(stage, total=status["total"])
                if status["done"] and status["done"] > done:
                    bar.advance(status["done"] - done)
                    done = status["done"]
                time.sleep(0.5)
                status = job_status(ctx.url, job_id)
    click.echo(json.dumps(status, ensure_ascii=False, default=str))
    if status["status"] == "failed":
        raise SystemExit(1)
