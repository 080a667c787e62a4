"""A grid's route: every reachable due stop once, from and back to the station, along the
streets, within the day; visits move stops; the plan is kept and stable."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlalchemy import text

from gridmap.errors import Conflict, InvalidInput, NotFound
from gridmap.geo import STORAGE_SRID, transformer
from gridmap.inspection.due import due_items
from gridmap.inspection.plan import plan_route, today
from gridmap.inspection.visits import record_visit
from gridmap.auth.scope import Scope
from tests.conftest import rolled_back
from tests.inspection.conftest import ADMIN


def _all_stops(route):
    return [(day.date, s.item.stop) for day in route.days for s in day.stops]


def _edges(db, district):
    rows = db.execute(text("select ST_AsBinary(geom) from walk_edge where district_code = :d"),
                      {"d": district}).scalars()
    return shapely.union_all(shapely.from_wkb([bytes(r) for r in rows]))


def test_route_visits_every_due_stop_once_from_and_back_to_the_station(db, grid, settings):
    route = plan_route(db, ADMIN, grid, settings=settings, days=7)
    grid_id = db.execute(text("select id from grid where code = :g"), {"g": grid}).scalar_one()
    due = due_items(db, grid_id, on=today(settings), tz=__import__("zoneinfo").ZoneInfo(
        settings["timezone"]), building_days=route.station.building_days,
        started_on=today(settings))
    assert route.days[0].stops, "the demo grid has stops due today"
    seen = {s for _, s in _all_stops(route)}
    left_out = {p.item.stop for p in route.problems} | {i.stop for i in route.unplanned}
    within = {i.stop for i in due if i.due_on <= today(settings) + dt.timedelta(days=6)}
    assert within <= seen | left_out, "a stop due this week is neither routed nor reported"
    assert not seen & {p.item.stop for p in route.problems}
    length = route.station.day_minutes * 60
    to_gk = transformer(STORAGE_SRID, 4547)
    station = np.array(to_gk.transform(route.station.lon, route.station.lat))
    for day in route.days:
        stops = [s.item.stop for s in day.stops]
        assert len(stops) == len(set(stops)), "a stop twice in one day"
        assert [s.seq for s in day.stops] == list(range(1, len(stops) + 1))
        assert day.total_s <= length + 1e-6
        arrivals = [s.arrival for s in day.stops]
        assert arrivals == sorted(arrivals)
        if day.stops:
            assert arrivals[0].time() >= route.station.day_start
            start = np.array(to_gk.transform(*day.path.coords[0]))
            end = np.array(to_gk.transform(*day.path.coords[-1]))
            # the path starts and ends where the station meets the street
            assert np.linalg.norm(start - end) < 0.01
            assert np.linalg.norm(start - station) <= settings["max_snap_m"]
            assert day.walk_m == pytest.approx(sum(s.leg_m for s in day.stops)
                                               + (day.walk_m - sum(s.leg_m for s in day.stops)))
            assert day.walk_s == pytest.approx(day.walk_m / settings["walk_speed_mps"])


def test_path_runs_along_the_walking_network(db, grid, settings):
    route = plan_route(db, ADMIN, grid, settings=settings)
    day = route.days[0]
    edges = _edges(db, route.district)
    gk = transformer(STORAGE_SRID, 4547)
    edges_gk = shapely.transform(edges, lambda xy: np.column_stack(gk.transform(xy[:, 0],
                                                                                  xy[:, 1])))
    coords = np.array(day.path.coords)
    points = shapely.points(np.column_stack(gk.transform(coords[:, 0], coords[:, 1])))
    assert shapely.distance(points, edges_gk).max() < 0.01, "a vertex off the streets"
    # between vertices the path follows edges: each segment's midpoint is on the network too
    mids = (coords[1:] + coords[:-1]) / 2
    mid_points = shapely.points(np.column_stack(gk.transform(mids[:, 0], mids[:, 1])))
    assert shapely.distance(mid_points, edges_gk).max() < 0.05
    path_gk = shapely.transform(day.path, lambda xy: np.column_stack(gk.transform(
        xy[:, 0], xy[:, 1])))
    assert path_gk.length == pytest.approx(day.walk_m, rel=1e-6, abs=0.5)


def test_a_visit_marks_the_stop_done_today_and_moves_its_next_visit(db, grid, settings):
    first = plan_route(db, ADMIN, grid, settings=settings, days=7)
    later = next(s for day in first.days[2:] for s in day.stops if s.item.kind == "building")
    shown, created = record_visit(db, ADMIN, grid, {"stop": later.item.stop,
                                                    "lon": later.item.lon,
                                                    "lat": later.item.lat})
    assert created and shown["stop"] == later.item.stop
    again = plan_route(db, ADMIN, grid, settings=settings, days=7)
    today_stops = again.days[0].stops
    assert today_stops[0].item.stop == later.item.stop and today_stops[0].done_at is not None
    assert all(s.done_at is None for s in today_stops[1:])
    # its next visit is due a cycle after today: not again within the week
    assert [d for d, s in _all_stops(again) if s == later.item.stop] == [again.days[0].date]


def test_a_missed_visit_stays_due_and_comes_first(db, grid, settings):
    building = db.execute(text("""
        select b.id, g.id from building b join grid g on g.id = b.grid_id where g.code = :g
        order by b.id limit 1"""), {"g": grid}).one()
    overdue = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=10)
    db.execute(text("insert into route_visit (grid_id, stop, done_at, visited_by) values "
                    "(:g, :s, :t, 'test')"), {"g": building[1], "s": f"building:{building[0]}",
                                             "t": overdue})
    route = plan_route(db, ADMIN, grid, settings=settings, days=7)
    where = [(d, s) for d, s in _all_stops(route) if s == f"building:{building[0]}"]
    assert where and where[0][0] == route.days[0].date
    stop = next(s for s in route.days[0].stops if s.item.stop == f"building:{building[0]}")
    assert stop.due_on < route.days[0].date


def test_the_kept_plan_is_stable_when_an_incident_arrives(db, grid, settings):
    first = plan_route(db, ADMIN, grid, settings=settings, days=7)
    lon, lat = first.days[0].stops[0].item.lon, first.days[0].stops[0].item.lat
    grid_id = db.execute(text("select id from grid where code = :g"), {"g": grid}).scalar_one()
    incident = db.execute(text("""
        insert into incident (class_code, stage, description, location, district_code,
                              reported_grid_id, reported_by)
        values ('0401', 'handled', 'route stability test',
                ST_SetSRID(ST_MakePoint(:lon, :lat), 4490), '420111', :g, 'test')
        returning id"""), {"lon": lon, "lat": lat, "g": grid_id}).scalar_one()
    second = plan_route(db, ADMIN, grid, settings=settings, days=7)
    before = {(d, s) for d, s in _all_stops(first)}
    after = {(d, s) for d, s in _all_stops(second)}
    assert (second.days[0].date, f"incident:{incident}") in after
    # today had room: nothing else moved in the whole week
    assert after - {(second.days[0].date, f"incident:{incident}")} == before


def test_far_stops_are_reported_and_the_rest_routed(db, grid, settings):
    tight = {**settings, "max_snap_m": 5.0}
    try:
        route = plan_route(db, ADMIN, grid, settings=tight, days=7)
    except Conflict:  # the station itself is farther than 5 m from a street: move it on one
        pytest.skip("station off the streets")
    far = [p for p in route.problems if p.reason == "far"]
    assert far and all(p.distance_m > 5.0 for p in far)
    routed = {s for _, s in _all_stops(route)}
    assert routed and not routed & {p.item.stop for p in far}


def test_a_station_far_from_every_street_is_refused(db, grid, settings):
    community = db.execute(text("select community_code from grid where code = :g"),
                           {"g": grid}).scalar_one()
    db.execute(text("update route_station set geom = ST_Translate(geom, 0.0004, 0.0003) "
                    "where community_code = :c"), {"c": community})
    off = db.execute(text("""
        select min(ST_Distance(e.geom::geography, s.geom::geography)) from walk_edge e,
        route_station s where s.community_code = :c"""), {"c": community}).scalar_one()
    assert off > 1.0, "the moved station landed on a street: move it elsewhere"
    with pytest.raises(Conflict, match="service station"):
        plan_route(db, ADMIN, grid, settings={**settings, "max_snap_m": off / 2}, keep=False)
    plan_route(db, ADMIN, grid, settings={**settings, "max_snap_m": off * 2}, keep=False)


def test_bad_requests(db, grid, settings):
    with pytest.raises(InvalidInput, match="days"):
        plan_route(db, ADMIN, grid, settings=settings, days=0)
    with pytest.raises(InvalidInput, match="days"):
        plan_route(db, ADMIN, grid, settings=settings, days=32)
    with pytest.raises(InvalidInput, match="date"):
        plan_route(db, ADMIN, grid, settings=settings,
                   on=today(settings) - dt.timedelta(days=1))
    with pytest.raises(NotFound):
        plan_route(db, ADMIN, "420111999999999", settings=settings)
    other = Scope.for_person("x", "grid_worker", [("grid", "420111999999998")])
    with pytest.raises(NotFound):  # a grid outside the caller's reach does not exist for them
        plan_route(db, other, grid, settings=settings)
    db.execute(text("delete from walk_edge; delete from walk_node; delete from walk_network"))
    with pytest.raises(Conflict, match="walking network"):
        plan_route(db, ADMIN, grid, settings=settings)


def test_a_later_day_is_that_day_of_todays_plan(db, grid, settings):
    week = plan_route(db, ADMIN, grid, settings=settings, days=7)
    third = plan_route(db, ADMIN, grid, settings=settings, days=1,
                       on=today(settings) + dt.timedelta(days=2))
    assert [s.item.stop for s in third.days[0].stops] == \
        [s.item.stop for s in week.days[2].stops]


@hsettings(max_examples=12, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(building_days=st.integers(1, 10), day_minutes=st.integers(20, 480))
def test_every_day_fits_and_every_stop_is_accounted_for(engine, grid, settings,
                                                        building_days, day_minutes):
    """Over cycles and day lengths: every day within its length, every stop due within the
    plan either on a day by its due date, late (reported), unplanned or left out; a building
    due within the horizon is visited by then whenever the plan reports nothing late."""
    with rolled_back(engine) as session:
        community = session.execute(text("select community_code from grid where code = :g"),
                                    {"g": grid}).scalar_one()
        session.execute(text("update route_station set building_days = :b, day_minutes = :m "
                             "where community_code = :c"),
                        {"b": building_days, "m": day_minutes, "c": community})
        route = plan_route(session, ADMIN, grid, settings=settings, days=7)
        first = route.days[0].date
        for day in route.days:
            assert day.total_s <= day_minutes * 60 + 1e-6
        seen: dict[str, list] = {}
        for day in route.days:
            for stop in day.stops:
                seen.setdefault(stop.item.stop, []).append((day.date, stop))
                assert stop.late == (day.date > max(stop.due_on, first)), stop
        grid_id = session.execute(text("select id from grid where code = :g"),
                                  {"g": grid}).scalar_one()
        import zoneinfo
        items = due_items(session, grid_id, on=first, tz=zoneinfo.ZoneInfo(settings["timezone"]),
                          building_days=building_days, started_on=first)
        reported = {p.item.stop for p in route.problems} | {i.stop for i in route.unplanned}
        for item in items:
            if item.due_on <= first + dt.timedelta(days=6) and item.stop not in reported:
                assert item.stop in seen, f"{item.stop} due {item.due_on} is missing"
                visit_day, stop = seen[item.stop][0]
                assert visit_day <= max(item.due_on, first) or stop.late
