"""Report incidents and move them through their stages, as a caller with a :class:`Scope`.

Routing by location. A new incident's grid is the active grid that covers its location
(boundary included); a point on the boundary two grids share goes to the grid whose code
sorts first — one documented rule, the same for every caller. A location in no grid is
accepted and flagged (``grid`` None) for the district that covers it, or for none. The grid
an incident was reported in is kept when grids are redrawn; the grid holding its location
now is looked up when it is shown.

Dispatch. The department comes from the dispatch matrix (:mod:`gridmap.incidents.dispatch`:
event class × area), else the class's default department.

Deadlines. Dispatching starts the class's time limit in working hours
(:mod:`gridmap.incidents.calendar`); a deferral stops the clock and keeps the working time
left, a resumption starts it again. An incident is overdue when it is dispatched (not yet
handled) after its deadline.

Every action records a step (who, when, from which stage to which, the comment) and an
audit row, in the caller's transaction; the incident's version guards against two people
acting on the same stage at once (the second gets a conflict).
"""
from __future__ import annotations

import datetime as dt
import math

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import select, text
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from gridmap.audit import current_actor, record
from gridmap.auth.scope import Scope, grid_condition
from gridmap.errors import Conflict, Forbidden, InvalidInput, NotFound
from gridmap.grid.locate import grid_covering
from gridmap.i18n import msg
from gridmap.incidents.calendar import WorkingCalendar
from gridmap.incidents.dispatch import department_for
from gridmap.incidents.stages import (FINAL, REPORT_CAPABILITY, TRANSITIONS, Stage,
                                      allowed_actions, transition)
from gridmap.models.hierarchy import Grid
from gridmap.models.incident import Department, EventClass, Incident, IncidentStep

MAX_DESCRIPTION = 2000
MAX_COMMENT = 2000

DISTRICT_AT = text("""
    select code from district
    where ST_Covers(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4490))
    order by code limit 1
""")


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.timezone.utc)


def check_location(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180
            and -90 <= lat <= 90):
        raise InvalidInput(msg("location {lon}, {lat}: expected longitude -180…180 and "
                               "latitude -90…90 (CGCS2000, degrees)", lon=lon, lat=lat))


def check_text(value: str | None, what: str, limit: int, *, required: bool) -> str | None:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(msg("{what} is empty: expected a few words", what=what))
    if len(value) > limit or any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise InvalidInput(msg("{what}: expected at most {limit} characters of text",
                               what=what, limit=limit))
    return value or None


def _in_scope(scope: Scope, grid: Grid | None, district_code: str | None) -> bool:
    if scope.reaches_everything:
        return True
    if grid is not None:
        return scope.allows_grid(grid.code, community=grid.community_code,
                                 street=grid.street_code, district=grid.district_code)
    return district_code is not None and scope.covers_division(district_code)


def _step(session: Session, incident: Incident, action: str, source: str | None,
          comment: str | None, at: dt.datetime) -> None:
    actor = current_actor()
    incident.steps.append(IncidentStep(action=action, from_stage=source,
                                       to_stage=incident.stage, actor=actor.name, at=at,
                                       comment=comment))
    record(session, action=f"incident.{action}", table="incident", key=incident.id,
           before=None if source is None else {"stage": source},
           after={"stage": incident.stage, "comment": comment})


def report_incident(session: Session, scope: Scope, *, class_code: str, lon: float,
                    lat: float, description: str, now: dt.datetime | None = None) -> Incident:
    """Create an incident in stage ``reported`` at (lon, lat) in EPSG:4490.

    Raises
    ------
    Forbidden
        The caller may not report, or the place lies outside their scope.
    InvalidInput
        Unknown class, a location off the globe, an empty or over-long description.
    """
    if not scope.may(REPORT_CAPABILITY):
        raise Forbidden(msg("{actor} may not report incidents", actor=scope.actor))
    check_location(lon, lat)
    description = check_text(description, msg("description"), MAX_DESCRIPTION,
                              required=True)
    event_class = session.get(EventClass, class_code) if isinstance(class_code, str) else None
    if event_class is None:
        raise InvalidInput(msg("event class {code!r} is not loaded; expected one of the 4-digit "
                               "codes of data/taxonomy/event_classes.csv (gridmap taxonomy "
                               "load)", code=str(class_code)[:20]))
    grid = grid_covering(session, lon, lat)
    district = grid.district_code if grid is not None else \
        session.execute(DISTRICT_AT, {"lon": lon, "lat": lat}).scalar()
    if not _in_scope(scope, grid, district):
        raise Forbidden(msg("{actor} may not report at {lon:.6f}, {lat:.6f}: the place lies "
                            "outside their grids", actor=scope.actor, lon=lon, lat=lat))
    at = _now(now)
    incident = Incident(class_code=event_class.code, stage=Stage.REPORTED.value,
                        description=description, location=from_shape(Point(lon, lat), 4490),
                        district_code=district, reported_grid_id=None if grid is None
                        else grid.id, reported_by=current_actor().name, reported_at=at)
    session.add(incident)
    session.flush()
    _step(session, incident, "report", None, None, at)
    session.flush()
    return incident


def note_incident(session: Session, scope: Scope, incident_id: int, comment: str, *,
                  now: dt.datetime | None = None) -> Incident:
    """Add a note to the incident (a step that leaves its stage as it is), e.g. that the
    device alarm which opened it has cleared.

    Raises
    ------
    Forbidden
        The caller may not report incidents (notes come from the same callers).
    InvalidInput
        An empty or over-long comment.
    """
    if not scope.may(REPORT_CAPABILITY):
        raise Forbidden(msg("{actor} may not add notes to incidents", actor=scope.actor))
    incident = get_incident(session, scope, incident_id)
    comment = check_text(comment, msg("comment"), MAX_COMMENT, required=True)
    _step(session, incident, "note", incident.stage, comment, _now(now))
    session.flush()
    return incident


def get_incident(session: Session, scope: Scope, incident_id: int) -> Incident:
    """The incident, if it exists and lies in the caller's scope (else 404: a caller never
    learns of incidents outside their scope)."""
    incident = session.get(Incident, incident_id) if 0 < incident_id < 2**31 else None
    if incident is None or not _in_scope(scope, _grid_of(session, incident),
                                         incident.district_code):
        raise NotFound(msg("incident {id} does not exist", id=incident_id))
    return incident


def _grid_of(session: Session, incident: Incident) -> Grid | None:
    return None if incident.reported_grid_id is None \
        else session.get(Grid, incident.reported_grid_id)


def advance_incident(session: Session, scope: Scope, incident_id: int, action: str, *,
                     calendar: WorkingCalendar, comment: str | None = None,
                     expected_stage: str | None = None,
                     now: dt.datetime | None = None) -> Incident:
    """Take ``action`` on the incident (see :data:`gridmap.incidents.stages.TRANSITIONS`).

    ``expected_stage``, when given, is the stage the caller saw: if the incident has moved
    on since, the action is refused as a conflict rather than applied to a stage the caller
    did not see.

    Raises
    ------
    IllegalTransition
        The action does not lead out of the current stage (409, naming both).
    Forbidden
        The caller's role does not carry the action's capability.
    Conflict
        The incident moved on meanwhile.
    """
    incident = get_incident(session, scope, incident_id)
    comment = check_text(comment, msg("comment"), MAX_COMMENT, required=False)
    if expected_stage is not None and expected_stage != incident.stage:
        raise Conflict(msg("incident {id} is {stage} now, not {expected}: someone acted on it "
                           "meanwhile", id=incident.id, stage=incident.stage,
                           expected=expected_stage))
    move = transition(Stage(incident.stage), action)
    if not scope.may(move.capability):
        raise Forbidden(msg("{actor} ({role}) may not {action} incidents", actor=scope.actor,
                            role=scope.role, action=action))
    if not _may_take(incident, scope, move.capability):
        raise Forbidden(msg("incident {id} was dispatched to {department}, not to {actor}'s "
                            "department {own}", id=incident.id,
                            department=incident.department_code, actor=scope.actor,
                            own=scope.department))
    at = _now(now)
    source = incident.stage
    _apply_clock(session, incident, move.target, at, calendar)
    incident.stage = move.target.value
    try:
        _step(session, incident, action, source, comment, at)
        session.flush()
    except StaleDataError:
        raise Conflict(msg("incident {id} changed meanwhile; reload it and try again",
                           id=incident_id)) from None
    return incident


def _apply_clock(session: Session, incident: Incident, target: Stage, at: dt.datetime,
                 calendar: WorkingCalendar) -> None:
    """Deadline bookkeeping of a move to ``target`` at ``at``."""
    first_dispatch = target is Stage.DISPATCHED and incident.dispatched_at is None
    if first_dispatch:  # from registered, or resumed after a deferral before dispatch
        event_class = session.get(EventClass, incident.class_code)
        incident.department_code = department_for(session, incident.class_code,
                                                  _areas(session, incident))
        incident.dispatched_at = at
        incident.deadline = calendar.add_working_hours(at, event_class.time_limit_hours)
    elif target is Stage.DEFERRED:
        incident.time_left = None if incident.deadline is None else \
            calendar.working_time_between(at, incident.deadline)
        incident.deadline = None
    elif target is Stage.DISPATCHED and incident.stage == Stage.DEFERRED.value:
        incident.deadline = calendar.add_working_hours(
            at, incident.time_left.total_seconds() / 3600)
        incident.time_left = None
    elif target in (Stage.CLOSED, Stage.REJECTED):
        incident.closed_at = at


def _areas(session: Session, incident: Incident) -> list[str]:
    """The division codes around the incident's place (community, street, district)."""
    grid = _grid_of(session, incident)
    if grid is not None:
        return [grid.community_code, grid.street_code, grid.district_code]
    return [incident.district_code] if incident.district_code else []


def is_overdue(incident: Incident, now: dt.datetime | None = None) -> bool:
    """Dispatched, not handled, and past its deadline."""
    return (incident.stage == Stage.DISPATCHED.value and incident.deadline is not None
            and incident.deadline < _now(now))


def _may_take(incident: Incident, scope: Scope, capability: str) -> bool:
    """The rule :func:`advance_incident` enforces: the role's capability, and for handling
    the handler's own department."""
    if not scope.may(capability):
        return False
    return not (capability == "incident.handle" and scope.department is not None
                and incident.department_code != scope.department)


def actions_for(incident: Incident, scope: Scope) -> list[str]:
    """The actions ``scope`` may take on the incident now (its stage's actions that the
    caller's role carries; a handler only on cases of their department)."""
    return [t.action for t in TRANSITIONS
            if t.source.value == incident.stage and _may_take(incident, scope, t.capability)]


def describe(session: Session, incident: Incident, scope: Scope, *,
             now: dt.datetime | None = None) -> dict:
    """The incident as plain data: stage, actions the caller may take now, grids (reported
    in, and holding it now), deadline and overdue flag, and its steps."""
    point = to_shape(incident.location)
    reported = _grid_of(session, incident)
    current = grid_covering(session, point.x, point.y)
    event_class = session.get(EventClass, incident.class_code)
    department = None if incident.department_code is None \
        else session.get(Department, incident.department_code)
    may = actions_for(incident, scope)
    return {
        "id": incident.id, "class": incident.class_code,
        "class_name": {"zh": event_class.name_zh, "en": event_class.name_en},
        "stage": incident.stage, "allowed_actions": list(allowed_actions(Stage(incident.stage))),
        "your_actions": may, "description": incident.description,
        "lon": point.x, "lat": point.y, "district": incident.district_code,
        "grid": None if reported is None else reported.code,
        "grid_now": None if current is None else current.code,
        "outside_grids": reported is None,
        "department": incident.department_code,
        "department_name": None if department is None
        else {"zh": department.name_zh, "en": department.name_en},
        "reported_by": incident.reported_by, "reported_at": incident.reported_at.isoformat(),
        "deadline": incident.deadline.isoformat() if incident.deadline else None,
        "overdue": is_overdue(incident, now), "version": incident.version,
        "steps": [{"action": s.action, "from": s.from_stage, "to": s.to_stage,
                   "by": s.actor, "at": s.at.isoformat(), "comment": s.comment}
                  for s in incident.steps],
        "attachments": [{"sha256": a.sha256, "media_type": a.media_type, "size": a.size,
                         "name": a.filename, "by": a.uploaded_by,
                         "at": a.uploaded_at.isoformat()}
                        for a in incident.attachments],
    }


def list_incidents(session: Session, scope: Scope, *, stage: str | None = None,
                   overdue: bool = False, open_only: bool = False, grid: str | None = None,
                   limit: int = 100, now: dt.datetime | None = None) -> list[Incident]:
    """Incidents in the caller's scope (one SQL statement, the scope's rule as SQL), newest
    first, optionally of one stage, overdue only, open only (not closed or rejected) or
    reported in one grid (its code)."""
    if stage is not None and stage not in {s.value for s in Stage}:
        raise InvalidInput(msg("stage {value!r}: expected one of {items}", value=stage,
                               items=", ".join(s.value for s in Stage)))
    condition, params = grid_condition(scope, "g")
    if not scope.reaches_everything:
        # In no grid: seen by whoever covers the district (the district's command centre).
        params["scope_outside"] = sorted(scope.units["district"])
        condition = (f"((g.id is not null and {condition}) or "
                     f"(g.id is null and i.district_code = any(cast(:scope_outside as text[]))))")
    filters = [condition]
    if stage is not None:
        filters.append("i.stage = :stage")
        params["stage"] = stage
    if overdue:
        filters.append("i.stage = 'dispatched' and i.deadline < :now")
        params["now"] = _now(now)
    if open_only:
        filters.append("i.stage <> all(cast(:final as text[]))")
        params["final"] = sorted(s.value for s in FINAL)
    if grid is not None:
        filters.append("g.code = :grid")
        params["grid"] = grid
    ids = session.execute(text(
        "select i.id from incident i left join grid g on g.id = i.reported_grid_id "
        f"where {' and '.join(filters)} order by i.id desc limit :limit"),
        {**params, "limit": limit}).scalars().all()
    if not ids:
        return []
    # steps and attachments loaded for all at once: describe() shows them for each
    by_id = {i.id: i for i in session.execute(
        select(Incident).where(Incident.id.in_(ids))
        .options(selectinload(Incident.steps), selectinload(Incident.attachments))).scalars()}
    return [by_id[i] for i in ids]
