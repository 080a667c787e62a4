"""Where attachments live: one interface, content-addressed by SHA-256.

:class:`DirectoryStorage` (the default, the ``attachments_dir`` setting) keeps each blob under
``ab/cd/<sha256>``; an S3-compatible store (MinIO) can stand behind the same three methods in
production. Blobs are written to a temporary file and renamed into place, so a reader never
sees half a blob and two writers of the same content agree; every read is verified against
its name, so a damaged blob is reported, never served.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from gridmap.errors import GridmapError, NotFound
from gridmap.i18n import N_, msg

_HEX = frozenset("0123456789abcdef")


class StorageDamaged(GridmapError):
    """A stored blob no longer matches its checksum (503: the store needs repair)."""

    status = 503
    title = N_("attachment store damaged")


class Storage(Protocol):
    def put(self, data: bytes) -> str:
        """Store ``data``; return its SHA-256 (hex)."""

    def get(self, sha256: str) -> bytes:
        """The blob named ``sha256``, verified."""

    def exists(self, sha256: str) -> bool:
        """Whether a blob of that name is stored."""


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class DirectoryStorage:
    """Blobs in a directory tree (see the module docstring)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not set(sha256) <= _HEX:
            raise NotFound(msg("attachment {name!r} does not exist", name=sha256[:70]))
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        name = sha256_of(data)
        path = self._path(name)
        if path.exists() and sha256_of(path.read_bytes()) == name:
            return name
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return name

    def get(self, sha256: str) -> bytes:
        path = self._path(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(msg("attachment {name} is not in the store", name=sha256)) from None
        if sha256_of(data) != sha256:
            raise StorageDamaged(msg("attachment {name} is damaged in the store (its content "
                                     "no longer matches its SHA-256); restore it from a "
                                     "backup", name=sha256))
        return data

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()


def storage_from_settings(settings) -> Storage:
    """The store the settings name (``attachments_dir``)."""
    return DirectoryStorage(settings["attachments_dir"])
