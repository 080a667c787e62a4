"""Register facilities and keep their state, as a caller with a :class:`Scope`.

Reach. A facility is reached through the grid holding it, as buildings and incidents are; one
outside every grid is reached by whoever covers its district (the district's command centre)
and by administrators. A caller never learns of a facility outside their reach: it is a 404.

Writes. Registering, retiring and moving need ``facility.edit``; a state change needs
``facility.report`` or ``facility.edit`` (see :mod:`gridmap.facilities`). Every write records
an audit row with the values before and after, in the caller's transaction. A retired
facility keeps its ID for ever (the serial is never issued again) and takes no more state
changes.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.audit import record
from gridmap.auth.scope import Scope, grid_condition
from gridmap.errors import Conflict, Forbidden, InvalidInput, NotFound
from gridmap.facilities import EDIT_CAPABILITY, REPORT_CAPABILITY
from gridmap.facilities.grids import assign_facility_grids
from gridmap.facilities.ids import STATES, check_class_code, decode
from gridmap.facilities.serials import issue_ids
from gridmap.i18n import msg
from gridmap.incidents.attachments import Upload, check_upload
from gridmap.incidents.service import DISTRICT_AT, check_location, check_text
from gridmap.models.facility import ComponentClass, Facility
from gridmap.storage import Storage

MAX_NAME = 200
MAX_COMMENT = 2000

# Everything a caller is shown of a facility, in one statement (no query per row).
_SHOWN = """
    select f.id, f.class_code, c.major_zh, c.major_en, c.name_zh, c.name_en, f.name,
           f.state, f.in_use, f.retired_at, f.installed_on, f.registered_at, f.updated_at,
           f.owner_department, f.maintainer_department, f.district_code,
           g.code as grid_code, ST_X(f.geom) as lon, ST_Y(f.geom) as lat,
           f.photo_sha256, f.source, f.source_id, c.inspection_days
    from facility f join component_class c on c.code = f.class_code
    left join grid g on g.id = f.grid_id
"""


@dataclass(frozen=True)
class FacilityQuery:
    """Filters of a facility list, parsed at the edge: a box (lon/lat, EPSG:4490), a grid
    code, a class (4 digits, or 2 for a major class), a state; retired ones only on
    request."""

    bbox: tuple[float, float, float, float] | None = None
    grid: str | None = None
    class_code: str | None = None
    state: str | None = None
    include_retired: bool = False
    limit: int = 1000


def _check_state(state: object) -> str:
    if state not in STATES:
        raise InvalidInput(msg("state {value!r}: expected one of {items}",
                               value=str(state)[:30], items=", ".join(STATES)))
    return state  # type: ignore[return-value]


def _reach(scope: Scope) -> tuple[str, dict[str, Any]]:
    """SQL over ``f`` and ``g`` (its grid) keeping the facilities ``scope`` reaches."""
    if scope.reaches_everything:
        return "true", {}
    condition, params = grid_condition(scope, "g")
    params["scope_outside"] = sorted(scope.units["district"])
    return (f"((g.id is not null and {condition}) or (g.id is null and "
            f"f.district_code = any(cast(:scope_outside as text[]))))", params)


def _shown(row) -> dict:
    out = dict(row._mapping)
    out["class_name"] = {"zh": out.pop("name_zh"), "en": out.pop("name_en")}
    out["major_name"] = {"zh": out.pop("major_zh"), "en": out.pop("major_en")}
    out["grid"] = out.pop("grid_code")
    out["outside_grids"] = out["grid"] is None
    for key in ("retired_at", "installed_on", "registered_at", "updated_at"):
        out[key] = None if out[key] is None else out[key].isoformat()
    return out


def list_facilities(session: Session, scope: Scope, query: FacilityQuery) -> list[dict]:
    """Facilities in the caller's reach meeting ``query``, by ID (one statement)."""
    reach, params = _reach(scope)
    where = [reach]
    if not query.include_retired:
        where.append("f.in_use")
    if query.bbox is not None:
        where.append("f.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490)")
        params.update(zip(("x0", "y0", "x1", "y1"), query.bbox))
    if query.grid is not None:
        where.append("g.code = :grid")
        params["grid"] = query.grid
    if query.class_code is not None:
        code = query.class_code
        if not (isinstance(code, str) and len(code) in (2, 4) and code.isascii()
                and code.isdigit()):
            raise InvalidInput(msg("class {value!r}: expected a 4-digit component class or "
                                   "a 2-digit major class", value=str(code)[:20]))
        where.append("starts_with(f.class_code, :class_code)")
        params["class_code"] = code
    if query.state is not None:
        where.append("f.state = :state")
        params["state"] = _check_state(query.state)
    rows = session.execute(text(f"{_SHOWN} where {' and '.join(where)} order by f.id "
                                "limit :limit"), {**params, "limit": query.limit})
    return [_shown(r) for r in rows]


def get_facility(session: Session, scope: Scope, facility_id: str) -> Facility:
    """The facility, if it exists and the caller reaches it (else 404).

    Raises
    ------
    InvalidInput
        ``facility_id`` is not a facility ID.
    """
    decode(facility_id)
    facility = session.get(Facility, facility_id) if _reaches(session, scope, facility_id) \
        else None
    if facility is None:
        raise NotFound(msg("facility {id} does not exist", id=facility_id))
    return facility


def _reaches(session: Session, scope: Scope, facility_id: str) -> bool:
    """Whether the facility exists and ``scope`` reaches it (the rule of the lists)."""
    session.flush()
    reach, params = _reach(scope)
    return session.execute(text(
        "select 1 from facility f left join grid g on g.id = f.grid_id "
        f"where f.id = :id and {reach}"), {**params, "id": facility_id}).first() is not None


def describe_facility(session: Session, facility: Facility) -> dict:
    """The facility as plain data (class names, grid code, lon/lat, dates as ISO text)."""
    session.flush()
    return _shown(session.execute(text(f"{_SHOWN} where f.id = :id"),
                                  {"id": facility.id}).one())


def _require(scope: Scope, *capabilities: str) -> None:
    if not any(scope.may(c) for c in capabilities):
        raise Forbidden(msg("{actor} ({role}) may not change facilities", actor=scope.actor,
                            role=scope.role))


def create_facility(session: Session, scope: Scope, *, class_code: str, lon: float,
                    lat: float, district: str | None = None, name: str | None = None,
                    state: str = "intact", installed_on: dt.date | None = None,
                    owner_department: str | None = None,
                    maintainer_department: str | None = None) -> Facility:
    """Register a facility at (lon, lat), EPSG:4490, with a new ID.

    The district is the one covering the point unless given; the departments default to the
    class's. The grid is the active grid covering the point (none: flagged).

    Raises
    ------
    Forbidden
        The caller may not register facilities, or not at that place.
    InvalidInput
        Unknown class or state, a location off the globe or in no loaded district.
    """
    _require(scope, EDIT_CAPABILITY)
    check_location(lon, lat)
    check_class_code(class_code)
    component = session.get(ComponentClass, class_code)
    if component is None:
        raise InvalidInput(msg("component class {code} is not loaded; expected one of "
                               "data/taxonomy/components.csv (gridmap taxonomy load)",
                               code=class_code))
    name = check_text(name, msg("name"), MAX_NAME, required=False)
    district = district or session.execute(DISTRICT_AT, {"lon": lon, "lat": lat}).scalar()
    if district is None:
        raise InvalidInput(msg("{lon:.6f}, {lat:.6f} lies in no loaded district; say the "
                               "district", lon=lon, lat=lat))
    [facility_id] = issue_ids(session, district, class_code, 1)
    facility = Facility(id=facility_id, district_code=district, class_code=class_code,
                        name=name, state=_check_state(state), installed_on=installed_on,
                        owner_department=owner_department or component.department_code,
                        maintainer_department=maintainer_department
                        or component.department_code,
                        geom=from_shape(Point(lon, lat), 4490))
    session.add(facility)
    assign_facility_grids(session, [facility_id])
    session.refresh(facility)
    shown = describe_facility(session, facility)
    if not _reaches(session, scope, facility_id):
        raise Forbidden(msg("{actor} may not register facilities at {lon:.6f}, {lat:.6f}: the "
                            "place lies outside their reach", actor=scope.actor, lon=lon,
                            lat=lat))
    record(session, action="facility.create", table="facility", key=facility_id,
           after={k: shown[k] for k in ("class_code", "name", "state", "grid", "lon", "lat",
                                        "district_code")})
    return facility


def set_state(session: Session, scope: Scope, facility_id: str, state: str, *,
              comment: str | None = None) -> Facility:
    """Record that the facility is ``state`` now (intact, damaged, missing, occupied).

    Raises
    ------
    Forbidden
        The caller's role reports no facility states.
    Conflict
        The facility is retired.
    """
    facility = get_facility(session, scope, facility_id)
    _require(scope, REPORT_CAPABILITY, EDIT_CAPABILITY)
    state = _check_state(state)
    comment = check_text(comment, msg("comment"), MAX_COMMENT, required=False)
    if not facility.in_use:
        raise Conflict(msg("facility {id} was retired at {when}; it takes no state changes",
                           id=facility.id, when=facility.retired_at))
    before = facility.state
    facility.state = state
    facility.updated_at = session.execute(text("select clock_timestamp()")).scalar()
    session.flush()
    record(session, action="facility.state", table="facility", key=facility.id,
           before={"state": before}, after={"state": state, "comment": comment})
    return facility


def retire_facility(session: Session, scope: Scope, facility_id: str, *,
                    comment: str | None = None) -> Facility:
    """Take the facility out of use; its ID stays with it and is never issued again.

    Raises
    ------
    Conflict
        It is retired already.
    """
    facility = get_facility(session, scope, facility_id)
    _require(scope, EDIT_CAPABILITY)
    comment = check_text(comment, msg("comment"), MAX_COMMENT, required=False)
    if not facility.in_use:
        raise Conflict(msg("facility {id} was retired at {when} already", id=facility.id,
                           when=facility.retired_at))
    now = session.execute(text("select clock_timestamp()")).scalar()
    facility.in_use, facility.retired_at, facility.updated_at = False, now, now
    session.flush()
    record(session, action="facility.retire", table="facility", key=facility.id,
           before={"in_use": True}, after={"in_use": False, "retired_at": now,
                                           "comment": comment})
    return facility


def set_photo(session: Session, storage: Storage, scope: Scope, facility_id: str,
              upload: Upload, *, max_bytes: int) -> Facility:
    """Store ``upload`` as the facility's photo (checked by content as incident photos are:
    :func:`gridmap.incidents.attachments.check_upload`) and keep its SHA-256."""
    facility = get_facility(session, scope, facility_id)
    _require(scope, REPORT_CAPABILITY, EDIT_CAPABILITY)
    media = check_upload(upload, max_bytes=max_bytes)
    before = facility.photo_sha256
    facility.photo_sha256, facility.photo_media_type = storage.put(upload.data), media
    session.flush()
    record(session, action="facility.photo", table="facility", key=facility.id,
           before={"photo": before}, after={"photo": facility.photo_sha256})
    return facility
