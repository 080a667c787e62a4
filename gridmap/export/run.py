"""Run an export: check the request, stream the rows into the writer, and make the result
appear atomically (written in a hidden folder beside the target, then renamed), so a failed
export leaves no half-written file."""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pyarrow as pa
from sqlalchemy.orm import Session

from gridmap.errors import Conflict, InvalidInput
from gridmap.export.copy_reader import COPY_MIN_ROWS
from gridmap.export.crs import ExportCrs, parse_export_crs
from gridmap.export.source import ExportSource, stream_batches
from gridmap.export.writers import Layer, Writer, get_writer
from gridmap.i18n import msg
from gridmap.progress import NoProgress, Progress


@dataclass(frozen=True)
class ExportResult:
    """What was written: the file, how many features, in which format and CRS."""

    path: Path
    count: int
    format: str
    crs: ExportCrs


def check_target(path: Path, *, overwrite: bool) -> None:
    """Refuse an existing target (unless ``overwrite``) or a folder we cannot write in."""
    if path.is_dir():
        raise InvalidInput(msg("output {path} is a folder; expected a file name", path=path))
    if path.exists() and not overwrite:
        raise Conflict(msg("output {path} exists; give --overwrite to replace it", path=path))
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidInput(msg("output folder {path} does not exist", path=folder))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidInput(msg("output folder {path} is not writable", path=folder))


@contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """A hidden scratch folder beside ``target``, removed afterwards whatever happens."""
    try:
        folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent or "."))
    except OSError as exc:
        raise InvalidInput(msg("output folder {path} is not writable ({reason})",
                               path=target.parent, reason=exc.strerror)) from None
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _counted(reader: pa.RecordBatchReader, progress: Progress,
             seen: list[int]) -> pa.RecordBatchReader:
    def batches():
        for batch in reader:
            seen[0] += batch.num_rows
            progress.advance(batch.num_rows)
            yield batch
    return pa.RecordBatchReader.from_batches(reader.schema, batches())


def write_source(session: Session, source: ExportSource, writer: Writer, crs: ExportCrs,
                 folder: Path, stem: str, *, progress: Progress, chunk_rows: int,
                 append: bool = False) -> tuple[Path, int]:
    """Stream one source into ``folder`` with ``writer``; returns the file and the count,
    checked against the source's own count."""
    expected = source.count(session)
    progress.stage(msg("exporting {name}", name=source.name), expected)
    # before the stream opens: the connection serves nothing else while it runs
    geometry_type = source.geometry_type(session) if source.spatial else None
    seen = [0]
    copy = None if expected >= COPY_MIN_ROWS else False
    reader = _counted(stream_batches(session, source, crs, chunk_rows=chunk_rows, copy=copy),
                      progress, seen)
    path = writer.write(folder, stem, Layer(source.name, reader, geometry_type, source.labels),
                        crs, append=append)
    if seen[0] != expected:  # rows changed under the export: say so rather than ship it
        raise Conflict(msg("{name}: {count} features written, {expected} expected (the data "
                           "changed during the export); run it again", name=source.name,
                           count=seen[0], expected=expected))
    return path, seen[0]


def export_layer(session: Session, source: ExportSource, path: Path | str, *,
                 format: str, crs: str | int | None = None, overwrite: bool = False,
                 progress: Progress | None = None, chunk_rows: int = 5_000) -> ExportResult:
    """Export ``source`` (built by a layer for a caller's scope) to ``path``.

    Parameters
    ----------
    format
        A name of :data:`gridmap.export.writers.WRITERS`.
    crs
        ``EPSG:n`` among :data:`gridmap.export.crs.ALLOWED_SRIDS`; None: the format's default
        (WGS 84 for GeoJSON and KML, CGCS2000 otherwise).

    Raises
    ------
    InvalidInput
        Unknown format or CRS, a CRS the format cannot hold, an unusable output path.
    Conflict
        The output exists and ``overwrite`` is false.
    """
    writer = get_writer(format)
    export_crs = parse_export_crs(crs, default=writer.default_srid)
    writer.check_crs(export_crs)
    target = Path(path)
    for suffix in ("", *writer.sidecars):
        check_target(target.with_suffix(suffix) if suffix else target, overwrite=overwrite)
    with atomic_folder(target) as folder:
        written, count = write_source(session, source, writer, export_crs, folder, source.name,
                                      progress=progress or NoProgress(), chunk_rows=chunk_rows)
        for sidecar in sorted(folder.glob(f"{source.name}.*")):
            if sidecar != written:
                os.replace(sidecar, target.with_suffix(sidecar.suffix))
        os.replace(written, target)
    return ExportResult(target, count, writer.name, export_crs)
