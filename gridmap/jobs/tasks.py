"""The tasks a ``gridmap worker`` runs. Each opens its own transaction (all or nothing), acts
as the person or command that asked (the audit trail names them), reports progress, and ends
with a result or a user's error — never a retry of a mistake."""
from __future__ import annotations

from typing import Any

from procrastinate import JobContext

from sqlalchemy import text

from gridmap.audit import Actor, acting_as
from gridmap.db import Timeouts, session_scope, user_error_in
from gridmap.errors import GridmapError, NotFound
from gridmap.i18n import msg
from gridmap.jobs.progress import JobProgress
from gridmap.jobs.queue import blueprint


def _actor(requested_by: str) -> Actor:
    kind, _, name = requested_by.partition(":")
    return Actor(kind if kind in ("person", "api_key", "cli", "system") else "system",
                 name or "gridmap")


def run_job(context: JobContext, requested_by: str, work) -> dict[str, Any]:
    """Run ``work(session, progress)`` in one transaction as ``requested_by``, recording the
    outcome in ``job_progress``."""
    from gridmap.config import load_settings

    database_url = context.additional_context["database_url"]
    progress = JobProgress(database_url, context.job.id)
    progress.start()
    settings = load_settings({"database_url": database_url})
    try:
        with acting_as(_actor(requested_by)), \
                session_scope(database_url, timeouts=Timeouts.batch(settings)) as session:
            result = work(session, progress)
    except GridmapError as exc:
        progress.failed(str(exc))
        return {"error": str(exc)}
    except Exception as exc:  # noqa: BLE001 — a database trouble is the user's to know
        meaning = user_error_in(exc)
        progress.failed(str(meaning) if meaning else
                        f"internal error ({type(exc).__name__}); see the worker's log")
        if meaning is None:
            raise
        return {"error": str(meaning)}
    progress.succeeded(result)
    return result


@blueprint.task(name="assign_district", pass_context=True)
def assign_district_task(context: JobContext, *, district: str,
                         requested_by: str) -> dict[str, Any]:
    """Reassign every building of ``district`` to its grid and refresh the totals."""
    from gridmap.grid.assign import reassign_district

    def work(session, progress):
        progress.stage(msg("assigning buildings to grids"))
        if session.execute(text("select 1 from district where code = :c"),
                           {"c": district}).first() is None:
            raise NotFound(msg("district {code} is not loaded", code=district))
        return reassign_district(session, district)
    return run_job(context, requested_by, work)


@blueprint.task(name="partition_street", pass_context=True)
def partition_street_task(context: JobContext, *, street: str, requested_by: str,
                          min_households: int | None = None,
                          max_households: int | None = None,
                          seed: int = 0) -> dict[str, Any]:
    """Partition every community of ``street``, each kept as a draft plan."""
    from gridmap.config import load_settings
    from gridmap.partition.propose import propose_street

    tolerance = load_settings()["containment_tolerance_m"]

    def work(session, progress):
        proposals = propose_street(session, street, keep=True, progress=progress, seed=seed,
                                   tolerance_m=tolerance, min_households=min_households,
                                   max_households=max_households)
        return {"street": street, "plans": [
            {"community": p.plan.community_code, "plan": p.draft.id,
             "grids": len(p.plan.grids), "violations": [v.detail for v in p.plan.violations]}
            for p in proposals]}
    return run_job(context, requested_by, work)


@blueprint.task(name="export_layer", pass_context=True)
def export_layer_task(context: JobContext, *, request: dict[str, Any],
                      requested_by: str) -> dict[str, Any]:
    """Export a layer into ``export_dir`` for the person who asked (their scope now)."""
    from gridmap.config import load_settings
    from gridmap.export.background import (ExportRequest, job_folder, remove_expired,
                                           run_export)
    from layers import get_layer, load_layers  # the top of the stack, as the CLI is

    settings = load_settings()
    remove_expired(settings["export_dir"], settings["export_keep_hours"])
    wanted = ExportRequest.from_arguments(request)

    def work(session, progress):
        layer = get_layer(load_layers(), wanted.layer)
        return run_export(session, layer, wanted, actor=requested_by, progress=progress,
                          folder=job_folder(settings["export_dir"], context.job.id))
    return run_job(context, requested_by, work)
