"""Background jobs over HTTP: ``GET /api/jobs/ID`` — what a job is doing, or how it ended —
for the person who asked for it and for administrators."""
from __future__ import annotations

from flask import Blueprint, jsonify

from gridmap.errors import NotFound
from gridmap.i18n import msg
from gridmap.jobs.progress import job_status
from webapp.auth import access, caller_scope
from webapp.database import get_session

bp = Blueprint("jobs", __name__, url_prefix="/api/jobs")


@bp.get("/<int(max=9223372036854775807):job_id>")
@access("person")
def job(job_id: int):
    status = job_status(get_session(), job_id)
    scope = caller_scope()
    if not scope.is_administrator and status["requested_by"] != scope.actor:
        # another person's job: as if it did not exist
        raise NotFound(msg("job {job}: no such job", job=job_id))
    return jsonify(status)
