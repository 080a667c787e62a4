"""Today's route on the map: a grid worker opens the map, opens "Today's route" and sees the
path along the streets, the station and a numbered marker per stop of the API's route (1..n
in walking order); "Done" on stop 1 records a visit (the API lists it) and the stop shows as
done, in the panel and on the map. At 1280×800 and in portrait (800×1280, the bottom sheet
opened first); screenshots of both are kept as artefacts."""
from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from gridmap.db import session_scope
from tests.e2e.conftest import PORTRAIT, TABLET, _page
from tests.e2e.mapdriver import idle

pytestmark = pytest.mark.e2e

GRID = "420111002015001"  # a demo grid with a route and stops that cannot be routed
WORKER = f"e2e-route-{secrets.token_hex(3)}"


@pytest.fixture(scope="module")
def worker(two_districts) -> tuple[str, str]:
    """A grid worker of GRID (login, password)."""
    from gridmap.auth import add_person
    from gridmap.config import load_settings

    password = secrets.token_urlsafe(12)
    with session_scope(two_districts) as session:
        add_person(session, WORKER, role="grid_worker", password=password,
                   scopes=[("grid", GRID)],
                   settings=load_settings({"database_url": two_districts}))
    return WORKER, password


@pytest.fixture()
def fresh_route(two_districts):
    """GRID with no visit and no kept plan: each test starts from the same route."""
    with session_scope(two_districts) as session:
        for table in ("route_visit", "route_plan"):
            session.execute(text(f"delete from {table} where grid_id in "
                                 "(select id from grid where code = :g)"), {"g": GRID})


@pytest.mark.parametrize("viewport", [TABLET, PORTRAIT], ids=["1280x800", "800x1280"])
def test_a_worker_follows_todays_route(browser, server, worker, fresh_route, viewport,
                                       artifacts):
    context, page = _page(browser, server, viewport, worker[1], login=worker[0])
    size = f"{viewport['width']}x{viewport['height']}"
    try:
        if viewport is TABLET:  # the tablet tells where it is; in portrait it does not
            context.grant_permissions(["geolocation"], origin=server)
            context.set_geolocation({"latitude": 30.5093, "longitude": 114.4015, "accuracy": 8})
        page.goto(server + "/")  # the page's modules have run once it has loaded
        idle(page)
        if page.is_visible("#app.sheet-closed"):  # portrait: the bottom sheet starts closed
            page.click("#panel-toggle")
        expect(page.locator("#route-grid")).to_have_value(GRID)
        page.click("#route summary")
        route = page.context.request.get(f"{server}/api/routes/{GRID}")
        assert route.ok, route.text()
        stops = route.json()["days"][0]["stops"]
        assert len(stops) > 1

        markers = page.locator(".leaflet-marker-pane .route-marker")
        expect(markers).to_have_count(len(stops))
        assert markers.all_inner_texts() == [str(n) for n in range(1, len(stops) + 1)]
        expect(page.locator(".leaflet-marker-pane .route-station")).to_have_count(1)
        expect(page.locator(".leaflet-route-pane path")).to_have_count(1)
        assert len(page.locator(".leaflet-route-pane path").get_attribute("d")) > 20
        items = page.locator("#route-body li.route-stop")
        expect(items).to_have_count(len(stops))
        assert items.evaluate_all("els => els.map((e) => e.dataset.stop)") == \
            [s["stop"] for s in stops]
        first = items.first
        expect(first.locator(".stop-time")).to_have_text(stops[0]["arrival"][11:16])
        expect(first.locator(".stop-reason")).to_have_text(
            {"building_visit": "楼栋走访", "facility_inspection": "部件巡查",
             "incident_verification": "事件核查"}[stops[0]["reason"]])
        expect(page.locator("#route-body .route-totals")).to_contain_text("已完成 0/")
        expect(page.locator("#route-body .route-left-out li")).not_to_have_count(0)
        for stop in stops[:3]:  # each stop's marker where the API puts it
            assert page.evaluate(
                "([lat, lon]) => gridmap.map.getBounds().contains([lat, lon])",
                [stop["lat"], stop["lon"]])
        page.screenshot(path=str(artifacts / f"route-today-{size}.png"))

        first.locator("button.stop-done").click()
        done = page.locator('#route-body li.route-stop[data-seq="1"]')
        expect(done).to_have_class(re.compile(r"\bdone\b"))
        expect(done.locator(".done-at")).to_contain_text("已完成")
        expect(done.locator("button.stop-done")).to_have_count(0)
        expect(page.locator(".leaflet-marker-pane .route-marker.done")).to_have_count(1)
        expect(page.locator(".leaflet-marker-pane .route-marker.done")).to_have_text("1")
        expect(page.locator("#route-body .route-totals")).to_contain_text("已完成 1/")
        visits = page.context.request.get(f"{server}/api/routes/{GRID}/visits")
        assert visits.ok, visits.text()
        assert [v["stop"] for v in visits.json()["visits"]] == [stops[0]["stop"]]
        visit = visits.json()["visits"][0]
        assert visit["visited_by"].endswith(WORKER)
        if viewport is TABLET:
            assert (visit["lon"], visit["lat"], visit["accuracy_m"]) == \
                (pytest.approx(114.4015), pytest.approx(30.5093), 8)
        else:
            assert visit["lon"] is None and visit["lat"] is None
        again = page.context.request.get(f"{server}/api/routes/{GRID}").json()
        assert again["days"][0]["stops"][0]["stop"] == stops[0]["stop"]
        assert again["days"][0]["stops"][0]["done_at"] is not None
        page.screenshot(path=str(artifacts / f"route-today-done-{size}.png"))
        assert page.errors == [] and page.outside_requests == []
    finally:
        context.close()
