"""Facilities over HTTP (``/api/facilities…``) and the component taxonomy
(``/api/component-classes``).

Views parse the request into a :class:`~gridmap.facilities.service.FacilityQuery` or a state
change and call :mod:`gridmap.facilities.service`; the caller's Scope decides what they see
(facilities of their grids, or of their street or district) and whether they may report a
state (``facility.report``) or edit (``facility.edit``).
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import select

from gridmap.errors import InvalidInput, NotFound
from gridmap.facilities.service import (FacilityQuery, describe_facility, get_facility,
                                        list_facilities, set_photo, set_state)
from gridmap.i18n import msg
from gridmap.models.facility import ComponentClass
from gridmap.storage import storage_from_settings
from layers.base import LayerQuery
from webapp import params
from webapp.auth import access, caller_scope
from webapp.database import get_session

bp = Blueprint("facilities", __name__, url_prefix="/api")
# A facility ID in the path: 16 ASCII digits, checked again by the codec.
_ID = "<string(length=16):facility_id>"


@bp.get("/component-classes")
@access("reader")
def component_classes():
    session = get_session()
    return jsonify({"component_classes": [
        {"code": c.code, "major": c.code[:2], "major_zh": c.major_zh, "major_en": c.major_en,
         "name_zh": c.name_zh, "name_en": c.name_en, "department": c.department_code,
         "inspection_days": c.inspection_days}
        for c in session.execute(select(ComponentClass).order_by(ComponentClass.code))
        .scalars()]})


@bp.get("/facilities")
@access("person")
def facilities():
    """``?bbox=x0,y0,x1,y1&grid=CODE&class=0111&state=damaged&retired=1&limit=N``."""
    retired = params.single("retired")
    if retired not in (None, "0", "1"):
        raise InvalidInput(msg("retired {raw!r}: expected 1 or 0", raw=retired))
    query = FacilityQuery(bbox=LayerQuery.parse_bbox(params.single("bbox")),
                          grid=params.single("grid"), class_code=params.single("class"),
                          state=params.single("state"), include_retired=retired == "1",
                          limit=params.limit())
    return jsonify({"facilities": list_facilities(get_session(), caller_scope(), query)})


@bp.get(f"/facilities/{_ID}")
@access("person")
def facility(facility_id: str):
    session = get_session()
    return jsonify(describe_facility(session, get_facility(session, caller_scope(),
                                                           facility_id)))


@bp.post(f"/facilities/{_ID}/state")
@access("person")
def change_state(facility_id: str):
    """``{"state": "damaged", "comment": "…"}``: the facility's state now (403 for a role
    that reports no states, 409 for a retired facility)."""
    body = params.json_object()
    state, comment = body.get("state"), body.get("comment")
    if not isinstance(state, str):
        raise InvalidInput(msg("state: expected one of intact, damaged, missing, occupied"))
    if comment is not None and not isinstance(comment, str):
        raise InvalidInput(msg("comment: expected text"))
    session = get_session()
    found = set_state(session, caller_scope(), facility_id, state, comment=comment)
    shown = describe_facility(session, found)
    session.commit()
    return jsonify(shown)


@bp.post(f"/facilities/{_ID}/photo")
@access("person")
def upload_photo(facility_id: str):
    """A multipart form with one JPEG, PNG or HEIC file (checked by content, at most
    ``GRIDMAP_ATTACHMENT_MAX_KIB``; an optional ``sha256`` field is checked against it): the
    facility's photo now. Whoever may report its state may photograph it."""
    session, scope = get_session(), caller_scope()
    get_facility(session, scope, facility_id)  # 404 before anything about the form
    files = params.uploads()
    if len(files) != 1:
        raise InvalidInput(msg("{count} file(s) sent: expected one photo (JPEG, PNG or HEIC) "
                               "as multipart/form-data", count=len(files)))
    settings = current_app.config["GRIDMAP"]
    found = set_photo(session, storage_from_settings(settings), scope, facility_id,
                      files[0], max_bytes=settings["attachment_max_kib"] * 1024)
    shown = describe_facility(session, found)
    session.commit()
    return jsonify(shown), 201


@bp.get(f"/facilities/{_ID}/photo")
@access("person")
def photo(facility_id: str):
    """The facility's photo, verified against its SHA-256 as it is read (404 when none)."""
    found = get_facility(get_session(), caller_scope(), facility_id)
    if found.photo_sha256 is None:
        raise NotFound(msg("facility {id} has no photo", id=facility_id))
    data = storage_from_settings(current_app.config["GRIDMAP"]).get(found.photo_sha256)
    response = Response(data, mimetype=found.photo_media_type)
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Content-Disposition"] = "inline"
    response.headers["ETag"] = f'"{found.photo_sha256}"'
    return response
