"""Exports made in the background (a job of ``gridmap worker``), for downloads too large to
wait for in one web request.

Each job writes into a folder of its own under the ``export_dir`` setting, named by the job's
id, through :func:`gridmap.export.export_layer` (so a failed export leaves no file); the web
app hands the file to the person who asked, and the folders older than ``export_keep_hours``
are removed when the next background export starts. The export is cut to the scope the
person has when the job runs, not when it was asked for.
"""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from sqlalchemy.orm import Session

from gridmap.auth.actors import scope_of_actor
from gridmap.errors import NotFound
from gridmap.export.run import export_layer
from gridmap.export.selection import Selection
from gridmap.export.writers import get_writer
from gridmap.i18n import msg
from gridmap.progress import Progress


@dataclass(frozen=True)
class ExportRequest:
    """What was asked for: a layer, a format, a CRS and a selection, as plain values (they
    travel through the job queue as JSON)."""

    layer: str
    format: str
    crs: str | None = None
    community: str | None = None
    street: str | None = None
    district: str | None = None
    bbox: tuple[float, float, float, float] | None = None

    def selection(self) -> Selection:
        return Selection.of(community=self.community, street=self.street,
                            district=self.district, bbox=self.bbox)

    def arguments(self) -> dict[str, Any]:
        """The request as job arguments (JSON)."""
        return {"layer": self.layer, "format": self.format, "crs": self.crs,
                "community": self.community, "street": self.street,
                "district": self.district, "bbox": list(self.bbox) if self.bbox else None}

    @classmethod
    def from_arguments(cls, values: Mapping[str, Any]) -> "ExportRequest":
        bbox = values.get("bbox")
        return cls(values["layer"], values["format"], values.get("crs"),
                   values.get("community"), values.get("street"), values.get("district"),
                   tuple(bbox) if bbox else None)


def job_folder(export_dir: Path | str, job_id: int) -> Path:
    """Where the file of job ``job_id`` is written."""
    return Path(export_dir) / str(int(job_id))


def remove_expired(export_dir: Path | str, keep_hours: int, *, now: float | None = None) -> int:
    """Remove the job folders last changed more than ``keep_hours`` ago; how many."""
    root = Path(export_dir)
    if not root.is_dir():
        return 0
    limit = (now if now is not None else time.time()) - keep_hours * 3600
    removed = 0
    for folder in root.iterdir():
        if folder.is_dir() and folder.name.isdigit() and folder.stat().st_mtime < limit:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def run_export(session: Session, layer: Any, request: ExportRequest, *,
               actor: str, folder: Path, progress: Progress) -> dict[str, Any]:
    """Export ``request`` of ``layer`` (a :class:`layers.Layer`, which the core does not
    import) for ``actor`` into ``folder``; the job's result (file name, count, format, CRS).

    Raises
    ------
    InvalidInput, Forbidden, NotFound
        A bad request, or an actor who may no longer read it.
    """
    scope = scope_of_actor(session, actor)
    layer.check_collection(scope)
    selection = request.selection()
    selection.check(session, scope)
    writer = get_writer(request.format)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        result = export_layer(session, layer.export_source(scope, selection),
                              folder / f"{request.layer}{writer.suffix}", format=writer.name,
                              crs=request.crs, overwrite=True, progress=progress)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # a failed job leaves no folder behind
        raise
    return {"file": result.path.name, "count": result.count, "format": result.format,
            "crs": result.crs.name, "srid": result.crs.srid}


def finished_file(export_dir: Path | str, job_id: int, name: str) -> Path:
    """The file a finished job wrote, if it is still kept.

    Raises
    ------
    NotFound
        Removed (older than ``export_keep_hours``) or never written.
    """
    path = job_folder(export_dir, job_id) / name
    if "/" in name or not path.is_file():
        raise NotFound(msg("the file of export job {job} is no longer kept; export again",
                           job=job_id))
    return path
