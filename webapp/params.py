"""Request parameters parsed at the edge into typed values, before any data access.

Every query parameter and path segment is text a user typed: control characters (NUL above
all, which PostgreSQL cannot store in text) are refused for every request in one place;
numbers are ASCII digits only (``str.isdigit`` also accepts '²' and '٣'); a parameter given
twice is refused rather than one of its values silently chosen.
"""
from __future__ import annotations

import re

from flask import Flask, current_app, request

from gridmap.errors import InvalidInput
from gridmap.i18n import msg
from gridmap.incidents.attachments import Upload
from layers import LayerQuery
from layers.parameters import one_value, parse_limit

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DECIMAL = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


def _check_text(where: str, value: str) -> None:
    found = _CONTROL.search(value)
    if found:
        raise InvalidInput(msg("{where}: contains the control character U+{value:04X} at "
                               "position {value2}; expected printable text", where=where,
                               value=ord(found.group()), value2=found.start() + 1))


def check_json_body() -> None:
    """A body sent as JSON must be one JSON object: every JSON endpoint reads named members,
    and form handling (Flask-WTF reads a JSON body as the form) fails on anything else."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not request.is_json:
        return
    if not request.get_data(cache=True):
        return
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        what = msg("not JSON") if body is None else msg("a JSON {type}", type=type(body).__name__)
        raise InvalidInput(msg("the request body is {what}; expected a JSON object", what=what))
    _check_json_text("body", body)


def _check_json_text(where: str, value, depth: int = 0) -> None:
    """Control characters in any string of a JSON body, as in parameters."""
    if depth > 64:
        raise InvalidInput(msg("the request body nests deeper than 64 levels"))
    if isinstance(value, str):
        _check_text(where, value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(msg("{where} key", where=where), key)
            _check_json_text(f"{where}.{key}"[:80], item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json_text(where, item, depth + 1)


def json_object() -> dict:
    """The request body as one JSON object (a view that reads named members)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput(msg("expected a JSON object as the request body "
                               "(Content-Type: application/json)"))
    return body


def check_request_text() -> None:
    """Refuse control characters in any query parameter (name or value), path segment or form
    field (PostgreSQL cannot store NUL in text; none of them belongs in a name or a code)."""
    for name, values in request.args.lists():
        _check_text(msg("parameter name {name!r}", name=name), name)
        for value in values:
            _check_text(msg("parameter {name}", name=name), value)
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            _check_text(msg("path segment {name}", name=name), value)
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        for name, values in request.form.lists():
            for value in values:
                _check_text(msg("form field {name}", name=name), value)


def single(name: str) -> str | None:
    """The one value of parameter ``name``, None when absent; twice is an error."""
    return one_value(request.args.getlist(name), name)


def limit() -> int:
    """``limit``: a whole number from 1 to the ``api_max_features`` setting (its default)."""
    ceiling = current_app.config["GRIDMAP"]["api_max_features"]
    return parse_limit(single("limit"), default=ceiling, ceiling=ceiling)


def coordinate(name: str, low: float, high: float) -> float:
    """A required decimal parameter within ``low``…``high`` (a longitude or latitude)."""
    raw = single(name)
    if raw is None:
        raise InvalidInput(msg("give {name}=NUMBER ({low:g}…{high:g})", name=name, low=low,
                               high=high))
    if not _DECIMAL.fullmatch(raw) or not low <= float(raw) <= high:
        raise InvalidInput(msg("{name} {raw!r}: expected a decimal number from {low:g} to "
                               "{high:g} in ASCII digits", name=name, raw=raw, low=low,
                               high=high))
    return float(raw)


def feature_query(*, reserved: tuple[str, ...] = ("bbox", "limit")) -> LayerQuery:
    """``bbox``, ``limit`` and every other parameter as a filter (checked by the layer)."""
    filters = {}
    for name in request.args:
        if name not in reserved:
            filters[name] = single(name)
    return LayerQuery(bbox=LayerQuery.parse_bbox(single("bbox")), filters=filters,
                      limit=limit())


def uploads() -> list[Upload]:
    """The files of a multipart request (any field name), each with the SHA-256 the sender
    declared in a form field ``sha256`` (one per file, in order), if any."""
    declared = request.form.getlist("sha256")
    files = [f for _, f in request.files.items(multi=True)]
    if declared and len(declared) != len(files):
        raise InvalidInput(msg("{count} sha256 field(s) for {files} file(s): expected one per "
                               "file, in order", count=len(declared), files=len(files)))
    return [Upload(f.filename, f.read(), declared[i] if declared else None)
            for i, f in enumerate(files)]


def init_app(app: Flask) -> None:
    app.before_request(check_request_text)
    app.before_request(check_json_body)
