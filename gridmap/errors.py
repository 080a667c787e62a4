"""One exception hierarchy; each class carries the HTTP status it maps to.

The CLI prints ``str(error)`` on one line and exits non-zero; the web app renders
``{"error": error.title, "detail": error.detail}`` with ``error.status``. Both are shown in the
reader's language: ``title`` is an English msgid (marked with ``N_``) and ``detail`` a lazy
:func:`gridmap.i18n.msg` (or a plain string: a library's message, shown as it is), rendered by
:meth:`GridmapError.localized` in the request's or the command's locale.
"""
from __future__ import annotations

from typing import Any

from gridmap.i18n import Message, N_, render, translate


class GridmapError(Exception):
    """Base of every error gridmap reports to a user."""

    status = 500
    title = N_("internal error")

    def __init__(self, detail: str | Message, **context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.context = context

    def localized(self, locale: str | None = None) -> tuple[str, str]:
        """``(title, detail)`` in ``locale`` (default: the locale in force)."""
        return translate(self.title, locale), render(self.detail, locale)

    def __str__(self) -> str:
        title, detail = self.localized()
        return f"{title}: {detail}"


class InvalidInput(GridmapError):
    """The caller sent something malformed (a code, a parameter, a geometry)."""

    status = 400
    title = N_("invalid input")


class InvalidCode(InvalidInput):
    """A string that is not a grid code of the profile asked for."""

    title = N_("invalid grid code")


class AuthenticationFailed(GridmapError):
    """A login or API key was not accepted. The detail never says which part was wrong."""

    status = 401
    title = N_("not authenticated")


class Forbidden(GridmapError):
    """The caller is known but the request lies outside their scope."""

    status = 403
    title = N_("forbidden")


class NotFound(GridmapError):
    status = 404
    title = N_("not found")


class Conflict(GridmapError):
    """A stale edit or a unique value already taken."""

    status = 409
    title = N_("conflict")


class TooLarge(InvalidInput):
    """A body or file over the configured size."""

    status = 413
    title = N_("too large")


class UnsupportedMedia(InvalidInput):
    """A file whose content is not of an accepted type."""

    status = 415
    title = N_("unsupported media type")


class ImportFailed(GridmapError):
    """An import was rejected as a whole; nothing was written."""

    status = 422
    title = N_("import rejected")


class ValidationFailed(GridmapError):
    """Geometry or hierarchy rules are broken by the requested change."""

    status = 422
    title = N_("validation failed")


class DatabaseUnavailable(GridmapError):
    """The database does not answer (down, unreachable, refusing connections)."""

    status = 503
    title = N_("database unavailable")


class DatabaseBusy(GridmapError):
    """A statement hit its time limit or waited too long for a lock: try again shortly."""

    status = 503
    title = N_("database busy")
    retry_after = 5  # seconds, sent as the Retry-After header


class SchemaOutdated(GridmapError):
    """The database's schema is missing or not at the revision this code was written for."""

    status = 503
    title = N_("database schema out of date")


class ConfigurationError(GridmapError):
    status = 500
    title = N_("configuration error")
