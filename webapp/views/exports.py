"""Downloads: ``GET /api/export/<layer>`` — a layer as a file, cut to the caller's scope.

The file is written by :func:`gridmap.export.export_layer` into a scratch folder, opened, and
unlinked before it is sent: the open handle streams it and nothing is left on disk whatever
happens to the response. ``Content-Crs`` names the CRS (as OGC API – Features Part 2 does),
also for CSV, whose ``.prj`` sidecar a single download cannot carry.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, current_app, send_file

from gridmap.export import Selection, export_layer, get_writer
from layers import LayerQuery, get_layer
from webapp import params
from webapp.auth import access, caller_scope
from webapp.database import get_session

bp = Blueprint("exports", __name__, url_prefix="/api/export")


@bp.get("/<name>")
@access("reader")
def download(name: str):
    """``format`` (default geojson), ``crs``, and at most one of ``community``, ``street``,
    ``district`` or ``bbox`` (minlon,minlat,maxlon,maxlat in CGCS2000)."""
    layer = get_layer(current_app.extensions["gridmap_layers"], name)
    writer = get_writer(params.single("format") or "geojson")
    selection = Selection.of(community=params.single("community"),
                             street=params.single("street"),
                             district=params.single("district"),
                             bbox=LayerQuery.parse_bbox(params.single("bbox")))
    scope = caller_scope()
    session = get_session()
    selection.check(session, scope)
    source = layer.export_source(scope, selection)
    folder = Path(tempfile.mkdtemp(prefix="gridmap-export-"))
    try:
        result = export_layer(session, source, folder / f"{name}{writer.suffix}",
                              format=writer.name, crs=params.single("crs"))
        handle = open(result.path, "rb")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    response = send_file(handle, mimetype=writer.media_type, as_attachment=True,
                         download_name=f"{name}{writer.suffix}")
    response.headers["Content-Crs"] = f"<http://www.opengis.net/def/crs/EPSG/0/{result.crs.srid}>"
    response.headers["X-Feature-Count"] = str(result.count)
    return response
