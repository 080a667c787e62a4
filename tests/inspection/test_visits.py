"""Recording visits and placing stations: who may, what is refused, replays."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from gridmap.auth.scope import Scope
from gridmap.errors import Conflict, Forbidden, InvalidInput, NotFound
from gridmap.inspection.stations import get_station, set_station
from gridmap.inspection.visits import list_visits, record_visit
from tests.inspection.conftest import ADMIN


@pytest.fixture()
def stop(db, grid) -> str:
    return "building:" + str(db.execute(text(
        "select b.id from building b join grid g on g.id = b.grid_id where g.code = :g "
        "order by b.id limit 1"), {"g": grid}).scalar_one())


def _worker(grid):
    return Scope.for_person("w", "grid_worker", [("grid", grid)])


def test_a_worker_records_a_visit_with_time_and_position(db, grid, stop):
    when = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).isoformat()
    shown, created = record_visit(db, _worker(grid), grid, {
        "stop": stop, "done_at": when, "lon": 114.4, "lat": 30.5, "accuracy_m": 8,
        "note": "门禁损坏"})
    assert created and shown["lon"] == 114.4 and shown["accuracy_m"] == 8.0
    assert dt.datetime.fromisoformat(shown["done_at"]) == dt.datetime.fromisoformat(when)
    day = dt.datetime.fromisoformat(when)
    listed = list_visits(db, ADMIN, grid, since=day - dt.timedelta(seconds=1),
                         until=day + dt.timedelta(seconds=1))
    assert [v["id"] for v in listed] == [shown["id"]]
    audit = db.execute(text("select action from audit_event where table_name = 'route_visit' "
                            "and row_key = :k"), {"k": str(shown["id"])}).scalars().all()
    assert audit == ["route.visit"]


def test_a_replayed_client_id_returns_the_first_visit(db, grid, stop):
    first, created = record_visit(db, ADMIN, grid, {"stop": stop, "client_id": "tab-1:42"})
    again, created_again = record_visit(db, ADMIN, grid, {"stop": stop,
                                                          "client_id": "tab-1:42"})
    assert created and not created_again and again["id"] == first["id"]
    other = db.execute(text("select 'facility:' || f.id from facility f join grid g "
                            "on g.id = f.grid_id where g.code = :g limit 1"),
                       {"g": grid}).scalar_one()
    with pytest.raises(Conflict, match="client_id"):
        record_visit(db, ADMIN, grid, {"stop": other, "client_id": "tab-1:42"})


@pytest.mark.parametrize("body, error, words", [
    ({"stop": "house:1"}, InvalidInput, "stop"),
    ({"stop": "facility:12"}, InvalidInput, "16 digits"),
    ({"stop": None}, InvalidInput, "stop"),
    ({"stop": "building:1", "colour": "red"}, InvalidInput, "unknown field"),
    ({"stop": "building:999999999"}, NotFound, "not in grid"),
    ({"stop": "{stop}", "done_at": "yesterday"}, InvalidInput, "ISO 8601"),
    ({"stop": "{stop}", "done_at": "2026-12-05T09:30:00"}, InvalidInput, "offset"),
    ({"stop": "{stop}", "done_at": "2099-01-01T00:00:00+08:00"}, InvalidInput, "future"),
    ({"stop": "{stop}", "done_at": "2020-01-01T00:00:00+08:00"}, InvalidInput, "last 7"),
    ({"stop": "{stop}", "lon": 114.4}, InvalidInput, "both or neither"),
    ({"stop": "{stop}", "lon": "114", "lat": 30.5}, InvalidInput, "lon"),
    ({"stop": "{stop}", "lon": 114.4, "lat": float("nan")}, InvalidInput, "lat"),
    ({"stop": "{stop}", "accuracy_m": -1}, InvalidInput, "accuracy_m"),
    ({"stop": "{stop}", "note": "x" * 1001}, InvalidInput, "note"),
    ({"stop": "{stop}", "client_id": "a b"}, InvalidInput, "client_id"),
])
def test_bad_visits_are_refused_and_nothing_is_written(db, grid, stop, body, error, words):
    body = {k: (v.format(stop=stop) if isinstance(v, str) and "{stop}" in v else v)
            for k, v in body.items()}
    before = db.execute(text("select count(*) from route_visit")).scalar_one()
    with pytest.raises(error, match=words):
        record_visit(db, ADMIN, grid, body)
    assert db.execute(text("select count(*) from route_visit")).scalar_one() == before


def test_who_may_record_visits(db, grid, stop):
    community = db.execute(text("select community_code, street_code from grid where code = :g"),
                           {"g": grid}).one()
    planner = Scope.for_person("p", "planner", [("street", community.street_code)])
    with pytest.raises(Forbidden):
        record_visit(db, planner, grid, {"stop": stop})
    other = Scope.for_person("w", "grid_worker", [("grid", "420111999999999")])
    with pytest.raises(NotFound):
        record_visit(db, other, grid, {"stop": stop})
    admin = Scope.for_person("c", "community_admin", [("community", community.community_code)])
    assert record_visit(db, admin, grid, {"stop": stop})[1]


def test_station_is_placed_by_its_community_admin(db, grid, settings):
    code = db.execute(text("select community_code from grid where code = :g"),
                      {"g": grid}).scalar_one()
    here = get_station(db, code, settings)
    admin = Scope.for_person("c", "community_admin", [("community", code)])
    placed = set_station(db, admin, code, lon=here.lon + 0.0001, lat=here.lat,
                         day_minutes=180, day_start="09:00", building_days=5,
                         settings=settings)
    assert placed.set and placed.day_minutes == 180 and placed.building_days == 5
    assert placed.day_start == dt.time(9, 0)
    assert get_station(db, code, settings) == placed
    # an omitted value takes the setting again
    reset = set_station(db, admin, code, lon=here.lon, lat=here.lat, settings=settings)
    assert reset.day_minutes == settings["route_day_minutes"]
    with pytest.raises(Forbidden):
        set_station(db, Scope.for_person("w", "grid_worker", [("grid", grid)],
                                         grid_communities=[code]), code,
                    lon=here.lon, lat=here.lat, settings=settings)
    with pytest.raises(NotFound):
        set_station(db, Scope.for_person("c2", "community_admin",
                                         [("community", "420111999999")]), code,
                    lon=here.lon, lat=here.lat, settings=settings)
    for bad, words in (({"lon": 100.0, "lat": 30.0}, "outside community"),
                       ({"lon": 200.0, "lat": 30.0}, "lon"),
                       ({"day_minutes": 5}, "day_minutes"),
                       ({"day_minutes": True}, "day_minutes"),
                       ({"building_days": 0}, "building_days"),
                       ({"day_start": "9am"}, "day_start"),
                       ({"day_start": "25:00"}, "day_start")):
        values = {"lon": here.lon, "lat": here.lat, **bad}
        with pytest.raises(InvalidInput, match=words):
            set_station(db, admin, code, settings=settings, **values)
    with pytest.raises(NotFound):
        get_station(db, "420111999999", settings)


def test_the_same_client_id_sent_twice_at_once_is_one_visit(committed, database_url):
    import threading

    with committed() as session:
        grid, stop = session.execute(text(
            "select g.code, 'building:' || b.id from building b join grid g "
            "on g.id = b.grid_id where g.valid_to is null order by b.id limit 1")).one()
    barrier = threading.Barrier(2)
    answers = []

    def send():
        with committed() as session:
            barrier.wait()
            answers.append(record_visit(session, ADMIN, grid,
                                        {"stop": stop, "client_id": "race-1"}))
    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert sorted(created for _, created in answers) == [False, True]
        assert len({shown["id"] for shown, _ in answers}) == 1
        with committed() as session:
            assert session.execute(text("select count(*) from route_visit "
                                        "where client_id = 'race-1'")).scalar_one() == 1
    finally:
        with committed() as session:
            session.execute(text("delete from route_visit where client_id = 'race-1'"))
