"""The incident loop on the demo district: routing by grid, the six stages as the right
roles, refusals (409 naming the stage, 403 for the wrong role, 404 outside the scope),
deadlines at dispatch, deferral keeping the working time left, overdue lists, the steps
and audit rows, and the taxonomy's checks."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import text

from gridmap.audit import Actor, acting_as, list_events
from gridmap.auth.scope import Scope
from gridmap.config import REPO_ROOT
from gridmap.errors import Conflict, Forbidden, InvalidInput, NotFound
from gridmap.incidents.calendar import load_calendar
from gridmap.incidents.service import (advance_incident, describe, get_incident,
                                       list_incidents, report_incident)
from gridmap.incidents.stages import TRANSITIONS, IllegalTransition, Stage
from gridmap.incidents.taxonomy import load_taxonomy
from gridmap.models import Grid
from tests.plans.test_plans import merged_draft, roomy_bounds

TZ = ZoneInfo("Asia/Shanghai")
CAL = load_calendar({"data_dir": str(REPO_ROOT / "data"),
                     "working_hours": "08:30-12:00,14:00-17:30", "timezone": "Asia/Shanghai"})
MONDAY_9 = dt.datetime(2026, 12, 7, 9, 0, tzinfo=TZ)


def inside(grid: Grid) -> tuple[float, float]:
    p = shapely.point_on_surface(to_shape(grid.geom))
    return p.x, p.y


def report(db, scope, lon, lat, *, cls="0401", now=MONDAY_9):
    with acting_as(Actor("person", scope.actor)):
        return report_incident(db, scope, class_code=cls, lon=lon, lat=lat,
                               description="游商占道 near the gate", now=now)


def act(db, scope, incident, action, *, now=MONDAY_9, **kw):
    with acting_as(Actor("person", scope.actor)):
        return advance_incident(db, scope, incident.id, action, calendar=CAL, now=now,
                                comment=f"{action} by {scope.role}", **kw)


def test_an_incident_gets_the_grid_that_holds_it(db, grids, roles):
    incident = report(db, roles["worker_a"], *inside(grids[0]))
    shown = describe(db, incident, roles["worker_a"])
    assert (shown["grid"], shown["grid_now"], shown["district"]) == \
        (grids[0].code, grids[0].code, grids[0].district_code)
    assert shown["stage"] == "reported" and not shown["outside_grids"]


def test_a_point_on_a_shared_boundary_goes_to_the_first_code(db, grids, roles):
    shapes = {g.code: to_shape(g.geom) for g in grids}
    for a in grids:
        for b in grids:
            if a.code < b.code:
                common = set(map(tuple, shapely.get_coordinates(shapes[a.code]))) & \
                    set(map(tuple, shapely.get_coordinates(shapes[b.code])))
                if common:
                    lon, lat = sorted(common)[0]
                    covering = db.execute(text(
                        "select code from grid where valid_to is null and ST_Covers(geom, "
                        "ST_SetSRID(ST_MakePoint(:x, :y), 4490)) order by code"),
                        {"x": lon, "y": lat}).scalars().all()
                    assert len(covering) >= 2  # really on the boundary of both
                    incident = report(db, roles["admin"], lon, lat)
                    assert describe(db, incident, roles["admin"])["grid"] == covering[0]
                    return
    raise AssertionError("no two grids share a vertex")


def test_a_place_in_no_grid_is_accepted_and_flagged(db, roles):
    incident = report(db, roles["admin"], 100.0, 20.0)
    shown = describe(db, incident, roles["admin"])
    assert shown["outside_grids"] and shown["grid"] is None and shown["district"] is None
    assert incident.id in [i.id for i in list_incidents(db, roles["admin"])]
    assert incident.id not in [i.id for i in list_incidents(db, roles["dispatcher"])]


def test_after_a_redraw_the_incident_keeps_its_grid_and_shows_the_new_one(db, roles):
    roomy_bounds(db)
    plan, a, b = merged_draft(db)
    incident = report(db, roles["admin"], *inside(a))
    from gridmap.plans.apply import apply_plan

    apply_plan(db, plan.id, comment="merge")
    shown = describe(db, incident, roles["admin"])
    assert shown["grid"] == a.code
    assert shown["grid_now"] not in (None, a.code, b.code)


def test_the_six_stages_as_the_right_roles(db, grids, roles):
    incident = report(db, roles["worker_a"], *inside(grids[0]))
    steps = [("dispatcher", "register"), ("dispatcher", "dispatch"), ("handler", "handle"),
             ("worker_a", "verify"), ("dispatcher", "close")]
    for who, action in steps:
        act(db, roles[who], incident, action)
    assert incident.stage == "closed" and incident.closed_at == MONDAY_9
    shown = describe(db, incident, roles["admin"])
    assert [s["action"] for s in shown["steps"]] == ["report"] + [a for _, a in steps]
    assert [s["to"] for s in shown["steps"]] == ["reported", "registered", "dispatched",
                                                 "handled", "verified", "closed"]
    assert shown["steps"][2]["by"] == "person:t-dispatcher"
    # the demo's dispatch matrix sends street order (04) in 关山街道 to its street office
    assert shown["department"] == "street_office"
    audit = [e.action for e in list_events(db, table="incident")][:6]
    assert audit == ["incident.close", "incident.verify", "incident.handle",
                     "incident.dispatch", "incident.register", "incident.report"]


@pytest.mark.parametrize("transition", TRANSITIONS, ids=lambda t: f"{t.source.value}-{t.action}")
@pytest.mark.parametrize("role", ["worker_a", "dispatcher", "handler", "planner", "admin"])
def test_every_transition_per_role(db, grids, roles, transition, role):
    """Each transition is allowed to the roles carrying its capability and refused (403)
    to the others; nothing changes on a refusal."""
    incident = report(db, roles["admin"], *inside(grids[0]))
    paths = {Stage.REPORTED: [], Stage.REGISTERED: ["register"],
             Stage.DISPATCHED: ["register", "dispatch"],
             Stage.HANDLED: ["register", "dispatch", "handle"],
             Stage.VERIFIED: ["register", "dispatch", "handle", "verify"],
             Stage.DEFERRED: ["register", "defer"]}
    for action in paths[transition.source]:
        act(db, roles["admin"], incident, action)
    scope = roles[role]
    if scope.may(transition.capability):
        act(db, scope, incident, transition.action)
        assert incident.stage == transition.target.value
    else:
        with pytest.raises(Forbidden, match=transition.action):
            act(db, scope, incident, transition.action)
        db.refresh(incident)
        assert incident.stage == transition.source.value


@pytest.mark.parametrize("stage", list(Stage), ids=lambda s: s.value)
def test_an_action_the_stage_does_not_allow_is_a_409_naming_both(db, grids, roles, stage):
    incident = report(db, roles["admin"], *inside(grids[0]))
    incident.stage = stage.value
    db.flush()
    allowed = {t.action for t in TRANSITIONS if t.source == stage}
    for action in ("register", "close", "verify", "resume", "fly"):
        if action in allowed:
            continue
        with pytest.raises(IllegalTransition) as caught:
            act(db, roles["admin"], incident, action)
        assert caught.value.status == 409
        assert stage.value in str(caught.value)
        assert all(a in str(caught.value) for a in allowed)


def test_dispatch_sets_the_deadline_in_working_hours_and_overdue_follows(db, grids, roles):
    friday = dt.datetime(2026, 12, 4, 17, 0, tzinfo=TZ)
    incident = report(db, roles["admin"], *inside(grids[0]), cls="0102", now=friday)  # 4 h
    act(db, roles["dispatcher"], incident, "register", now=friday)
    act(db, roles["dispatcher"], incident, "dispatch", now=friday)
    assert incident.deadline == dt.datetime(2026, 12, 7, 12, 0, tzinfo=TZ)
    late = dt.datetime(2026, 12, 7, 12, 1, tzinfo=TZ)
    assert describe(db, incident, roles["admin"], now=late)["overdue"]
    assert incident.id in [i.id for i in list_incidents(db, roles["dispatcher"],
                                                         overdue=True, now=late)]
    assert incident.id not in [i.id for i in list_incidents(
        db, roles["dispatcher"], overdue=True, now=late - dt.timedelta(minutes=2))]


def test_a_deferral_stops_the_clock_and_resuming_keeps_the_time_left(db, grids, roles):
    incident = report(db, roles["admin"], *inside(grids[0]), cls="0102")  # 4 working hours
    act(db, roles["dispatcher"], incident, "register")
    act(db, roles["dispatcher"], incident, "dispatch")                   # Mon 09:00 → 14:30
    act(db, roles["dispatcher"], incident, "defer",
        now=MONDAY_9 + dt.timedelta(hours=1))                            # 3 h left
    assert incident.deadline is None and incident.time_left == dt.timedelta(hours=3)
    thursday = dt.datetime(2026, 12, 10, 16, 0, tzinfo=TZ)
    act(db, roles["dispatcher"], incident, "resume", now=thursday)
    assert incident.deadline == dt.datetime(2026, 12, 11, 10, 0, tzinfo=TZ)  # 1.5 h + 1.5 h


def test_sent_back_from_verification_goes_to_the_handler_again(db, grids, roles):
    incident = report(db, roles["worker_a"], *inside(grids[0]))
    for who, action in (("dispatcher", "register"), ("dispatcher", "dispatch"),
                        ("handler", "handle"), ("worker_a", "send_back")):
        act(db, roles[who], incident, action)
    assert incident.stage == "dispatched"


def test_acting_on_a_stage_the_caller_did_not_see_is_a_conflict(db, grids, roles):
    incident = report(db, roles["worker_a"], *inside(grids[0]))
    act(db, roles["dispatcher"], incident, "register")
    with pytest.raises(Conflict, match="registered now, not reported"):
        act(db, roles["dispatcher"], incident, "reject", expected_stage="reported")


def test_the_scope_decides_who_sees_and_reports(db, grids, roles):
    incident = report(db, roles["worker_a"], *inside(grids[0]))
    with pytest.raises(NotFound):
        get_incident(db, roles["worker_b"], incident.id)
    assert incident.id not in [i.id for i in list_incidents(db, roles["worker_b"])]
    assert incident.id in [i.id for i in list_incidents(db, roles["street_dispatcher"])]
    with pytest.raises(Forbidden, match="outside their grids"):
        report(db, roles["worker_b"], *inside(grids[0]))
    with pytest.raises(Forbidden, match="may not report"):
        report(db, roles["planner"], *inside(grids[0]))


@pytest.mark.parametrize("kwargs, problem", [
    ({"class_code": "9999"}, "event class '9999' is not loaded"),
    ({"lon": float("nan")}, "expected longitude"),
    ({"lat": 91.0}, "expected longitude"),
    ({"description": "  "}, "description is empty"),
    ({"description": "x" * 2001}, "at most 2000"),
    ({"description": "a\x00b"}, "at most 2000 characters of text"),
])
def test_bad_reports_are_named(db, grids, roles, kwargs, problem):
    lon, lat = inside(grids[0])
    args = {"class_code": "0401", "lon": lon, "lat": lat, "description": "ok", **kwargs}
    with pytest.raises(InvalidInput, match=problem):
        report_incident(db, roles["admin"], **args)


def test_taxonomy_reload_changes_nothing_and_bad_rows_are_named(db, tmp_path):
    assert load_taxonomy(db, REPO_ROOT / "data" / "taxonomy")["changed"] == 0
    (tmp_path / "departments.csv").write_text("code,name_zh,name_en\nsanitation,环卫,S\n",
                                              encoding="utf-8")
    (tmp_path / "event_classes.csv").write_text(
        "code,major_zh,major_en,name_zh,name_en,time_limit_hours,department\n"
        "01x1,市容,City,垃圾,Garbage,2,sanitation\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="line 2: code '01x1': expected 4 digits"):
        load_taxonomy(db, tmp_path)
    (tmp_path / "event_classes.csv").write_text(
        "code,major_zh,major_en,name_zh,name_en,time_limit_hours,department\n"
        "0101,市容,City,垃圾,Garbage,-2,sanitation\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="time_limit_hours '-2'"):
        load_taxonomy(db, tmp_path)
    (tmp_path / "event_classes.csv").write_text(
        "code,major_zh,major_en,name_zh,name_en,time_limit_hours,department\n"
        "0101,市容,City,垃圾,Garbage,2,police\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="department 'police' is not in"):
        load_taxonomy(db, tmp_path)


def test_a_handler_handles_only_their_departments_cases(db, grids, roles):
    a = grids[0]
    sanitation = Scope.for_person("t-hw", "handler", [("district", a.district_code)],
                                  department="sanitation")
    street_office = Scope.for_person("t-jd", "handler", [("district", a.district_code)],
                                     department="street_office")
    incident = report(db, roles["admin"], *inside(a), cls="0101")  # exposed garbage
    act(db, roles["dispatcher"], incident, "register")
    act(db, roles["dispatcher"], incident, "dispatch")
    assert incident.department_code == "sanitation"
    with pytest.raises(Forbidden, match="dispatched to sanitation, not to person:t-jd"):
        act(db, street_office, incident, "handle")
    act(db, sanitation, incident, "handle")
    assert incident.stage == "handled"


def test_only_handlers_belong_to_a_loaded_department(db):
    from gridmap.auth.people import add_person

    from gridmap.config import load_settings

    settings = load_settings({})
    with pytest.raises(InvalidInput, match="only handlers belong to a department"):
        add_person(db, "t-dept-1", role="dispatcher", password="a long pass phrase 7",
                   scopes=[("district", "420111")], department="sanitation", settings=settings)
    with pytest.raises(InvalidInput, match="department 'police' is not loaded"):
        add_person(db, "t-dept-2", role="handler", password="a long pass phrase 7",
                   scopes=[("district", "420111")], department="police", settings=settings)
    person = add_person(db, "t-dept-3", role="handler", password="a long pass phrase 7",
                        scopes=[("district", "420111")], department="parks", settings=settings)
    assert person.department_code == "parks"
