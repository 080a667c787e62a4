"""Photos and other attachments of incidents: checked by content, stored by SHA-256.

Accepted are JPEG, PNG and HEIC/HEIF (what phones and tablets take), recognised by their
content (the library ``filetype`` reads the magic bytes), never by the name: a file whose
name claims another type than its content ("photo.png" holding a JPEG, "photo.jpg" holding a
PDF) is refused, and so is a file over ``attachment_max_kib`` or whose declared SHA-256 does
not match what arrived. Every file of a request is checked before any is stored, and the
rows are written in the caller's transaction, so a refused upload leaves nothing half-written
(a report with photos is one transaction: no incident without its photos). Blobs go through
:mod:`gridmap.storage`; reads are verified against their checksum.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import PurePosixPath

import filetype
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridmap.audit import current_actor, record
from gridmap.auth.scope import Scope
from gridmap.errors import Forbidden, InvalidInput, NotFound, TooLarge, UnsupportedMedia
from gridmap.i18n import msg
from gridmap.incidents.service import get_incident
from gridmap.incidents.stages import CAPABILITIES
from gridmap.models.incident import IncidentAttachment
from gridmap.storage import Storage, sha256_of

#: Accepted media types and the file-name extensions that may name them.
ACCEPTED = {"image/jpeg": ("jpg", "jpeg", "jpe"), "image/png": ("png",),
            "image/heic": ("heic", "heif"), "image/heif": ("heic", "heif")}
MAX_NAME = 200


@dataclass(frozen=True)
class Upload:
    """One file as it arrived: its name (may be empty), bytes and the SHA-256 the sender
    declared (optional)."""

    filename: str | None
    data: bytes
    declared_sha256: str | None = None


def check_upload(upload: Upload, *, max_bytes: int) -> str:
    """The media type of ``upload``, or the reason it is refused."""
    name = (upload.filename or "").strip()[:MAX_NAME] or msg("(no name)")
    if not upload.data:
        raise InvalidInput(msg("{name} is empty", name=name))
    if len(upload.data) > max_bytes:
        raise TooLarge(msg("{name} is {size:,} bytes; at most {limit:,} are accepted",
                           name=name, size=len(upload.data), limit=max_bytes))
    kind = filetype.guess(upload.data)
    media = kind.mime if kind else None
    if media not in ACCEPTED:
        raise UnsupportedMedia(msg("{name} holds {found}; expected a JPEG, PNG or HEIC image",
                                   name=name, found=media or msg("no known file type")))
    suffix = PurePosixPath(upload.filename or "").suffix.lower().lstrip(".")
    if suffix and suffix not in ACCEPTED[media]:
        raise UnsupportedMedia(msg("{name} is named .{suffix} but holds {found}; rename it or "
                                   "send the file it claims to be", name=name, suffix=suffix,
                                   found=media))
    if upload.declared_sha256 is not None and \
            upload.declared_sha256.lower() != sha256_of(upload.data):
        raise InvalidInput(msg("{name}: its SHA-256 is {actual}, not the {declared} declared; "
                               "the file was damaged on the way, send it again", name=name,
                               actual=sha256_of(upload.data),
                               declared=upload.declared_sha256[:70]))
    return media


def attach(session: Session, storage: Storage, scope: Scope, incident_id: int,
           uploads: list[Upload], *, max_bytes: int,
           now: dt.datetime | None = None) -> list[IncidentAttachment]:
    """Check every upload, then store them and record them on the incident (in the caller's
    transaction; the caller commits)."""
    incident = get_incident(session, scope, incident_id)
    if not any(scope.may(c) for c in CAPABILITIES):
        raise Forbidden(msg("{actor} may not add attachments to incidents",
                            actor=scope.actor))
    if not uploads:
        raise InvalidInput(msg("no file: expected one or more JPEG, PNG or HEIC images"))
    media = [check_upload(u, max_bytes=max_bytes) for u in uploads]
    at = now or dt.datetime.now(dt.timezone.utc)
    rows = []
    for upload, media_type in zip(uploads, media):
        sha = storage.put(upload.data)
        row = IncidentAttachment(sha256=sha, media_type=media_type, size=len(upload.data),
                                 filename=(upload.filename or "").strip()[:MAX_NAME] or None,
                                 uploaded_by=current_actor().name, uploaded_at=at)
        incident.attachments.append(row)
        rows.append(row)
    session.flush()
    record(session, action="incident.attach", table="incident", key=incident.id,
           after={"attachments": [r.sha256 for r in rows]})
    return rows


def read_attachment(session: Session, storage: Storage, scope: Scope, incident_id: int,
                    sha256: str) -> tuple[IncidentAttachment, bytes]:
    """An attachment of an incident the caller reaches, with its verified bytes."""
    incident = get_incident(session, scope, incident_id)
    row = session.execute(select(IncidentAttachment).where(
        IncidentAttachment.incident_id == incident.id,
        IncidentAttachment.sha256 == sha256)).scalars().first()
    if row is None:
        raise NotFound(msg("incident {id} has no attachment {name}", id=incident_id,
                           name=sha256[:70]))
    return row, storage.get(row.sha256)
