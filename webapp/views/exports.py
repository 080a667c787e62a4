"""Downloads: ``GET /api/export/<layer>`` — a layer as a file, cut to the caller's scope — and,
for the web app, ``POST /api/export/<layer>``: the same request, answered with a download
address when it is small and run as a background job (``GET /api/jobs/ID`` for its progress,
``GET /api/export/jobs/ID/file`` for the file) when it holds more than
``export_direct_max_features`` features.

A direct download is written by :func:`gridmap.export.export_layer` into a scratch folder,
opened, and unlinked before it is sent: the open handle streams it and nothing is left on disk
whatever happens to the response. ``Content-Crs`` names the CRS (as OGC API – Features Part 2
does), also for CSV, whose ``.prj`` sidecar a single download cannot carry.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request, send_file, url_for

from gridmap.errors import NotFound
from gridmap.export import export_layer, get_writer, parse_export_crs
from gridmap.export.background import ExportRequest, finished_file
from gridmap.i18n import msg
from gridmap.jobs.progress import job_status
from gridmap.jobs.queue import enqueue
from layers import LayerQuery, get_layer
from webapp import params
from webapp.auth import access, caller_scope
from webapp.database import get_session

bp = Blueprint("exports", __name__, url_prefix="/api/export")


def _asked(name: str) -> ExportRequest:
    """The request's parameters: ``format`` (default geojson), ``crs``, and at most one of
    ``community``, ``street``, ``district`` or ``bbox`` (minlon,minlat,maxlon,maxlat in
    CGCS2000), each checked before any data is read."""
    writer = get_writer(params.single("format") or "geojson")
    asked = ExportRequest(name, writer.name, params.single("crs"), params.single("community"),
                          params.single("street"), params.single("district"),
                          LayerQuery.parse_bbox(params.single("bbox")))
    writer.check_crs(parse_export_crs(asked.crs, default=writer.default_srid))
    return asked


def _source(asked: ExportRequest):
    layer = get_layer(current_app.extensions["gridmap_layers"], asked.layer)
    scope = caller_scope()
    layer.check_collection(scope)
    selection = asked.selection()
    selection.check(get_session(), scope)
    return layer.export_source(scope, selection)


def _send(path: Path, *, name: str, media_type: str, srid: int, count: int):
    handle = open(path, "rb")
    response = send_file(handle, mimetype=media_type, as_attachment=True, download_name=name)
    response.headers["Content-Crs"] = f"<http://www.opengis.net/def/crs/EPSG/0/{srid}>"
    response.headers["X-Feature-Count"] = str(count)
    return response


@bp.get("/<name>")
@access("reader")
def download(name: str):
    """The file at once, whatever its size (agencies' scripts and small web downloads)."""
    asked = _asked(name)
    writer = get_writer(asked.format)
    source = _source(asked)
    folder = Path(tempfile.mkdtemp(prefix="gridmap-export-"))
    try:
        result = export_layer(get_session(), source, folder / f"{name}{writer.suffix}",
                              format=writer.name, crs=asked.crs)
        # opened before the folder goes: the handle streams a file no longer on disk
        response = _send(result.path, name=f"{name}{writer.suffix}",
                         media_type=writer.media_type, srid=result.crs.srid,
                         count=result.count)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return response


@bp.post("/<name>")
@access("person")
def start(name: str):
    """A small export: 200 with the address to download it from; a large one: 202 with the
    background job that writes it."""
    asked = _asked(name)
    count = _source(asked).count(get_session())
    settings = current_app.config["GRIDMAP"]
    if count <= settings["export_direct_max_features"]:
        return jsonify({"count": count, "download": url_for("exports.download", name=name,
                                                            **request.args.to_dict())})
    job_id = enqueue(settings["database_url"], "export_layer", requested_by=caller_scope().actor,
                     request=asked.arguments())
    return jsonify({"count": count, "job": job_id, "status": f"/api/jobs/{job_id}",
                    "file": f"/api/export/jobs/{job_id}/file"}), 202


@bp.get("/jobs/<int(max=9223372036854775807):job_id>/file")
@access("person")
def job_file(job_id: int):
    """The file a background export wrote, for the person who asked (or an administrator)."""
    status = job_status(get_session(), job_id)
    scope = caller_scope()
    if status["task"] != "export_layer" or (
            not scope.is_administrator and status["requested_by"] != scope.actor):
        raise NotFound(msg("job {job}: no such job", job=job_id))
    if status["status"] != "succeeded":
        raise NotFound(msg("export job {job} is {status}, not finished: its file is not "
                           "ready", job=job_id, status=status["status"]))
    result = status["result"]
    writer = get_writer(result["format"])
    path = finished_file(current_app.config["GRIDMAP"]["export_dir"], job_id, result["file"])
    return _send(path, name=result["file"], media_type=writer.media_type,
                 srid=result["srid"], count=result["count"])
