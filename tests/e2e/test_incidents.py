"""The incident loop in the browser: the demo grid worker reports an incident at a place in
their grid through the map's form (with a photo made here), the dispatcher registers and
dispatches it (the dispatch matrix chooses the department), a handler of that department
handles it, the worker verifies it and the dispatcher closes it — each by tapping the
incident on the map and the action button its panel offers — and the panel shows it closed
with six steps. Then a failed verification sends a case back to the handler, and an action
on a stage someone else has left meanwhile is shown as a conflict and the panel refreshed.
Screenshots of the form and the panel at 1280×800 and 800×1280 are kept as artefacts."""
from __future__ import annotations

import io
import secrets

import pytest
import shapely
from PIL import Image
from sqlalchemy import text

from gridmap.db import session_scope
from tests.e2e.conftest import PORTRAIT, TABLET
from tests.e2e.mapdriver import features, idle, open_map, page_point, set_view, sign_in

pytestmark = pytest.mark.e2e

CLASS = "0401"  # unlicensed street vending: the shipped matrix sends 04 in 420111002 to
STREET_OFFICE = "street_office"  # the street office, not the class's own department
STREET_OFFICE_ZH = "街道办事处"


@pytest.fixture(scope="module")
def loop_people(two_districts, demo_passwords) -> dict[str, tuple[str, str]]:
    """login and password of the worker, the dispatcher and a handler of the street office
    (the department the matrix chooses for the worker's place)."""
    from gridmap.auth import add_person, reset_password
    from gridmap.config import load_settings

    settings = load_settings({"database_url": two_districts})
    dispatcher = secrets.token_urlsafe(12)
    handler = (f"e2e-handler-{secrets.token_hex(3)}", secrets.token_urlsafe(12))
    with session_scope(two_districts) as session:
        reset_password(session, "demo-dispatcher", dispatcher, settings=settings)
        add_person(session, handler[0], role="handler", password=handler[1],
                   scopes=[("district", "420111")], department=STREET_OFFICE,
                   settings=settings)
    return {"worker": ("demo-worker", demo_passwords["demo-worker"]),
            "dispatcher": ("demo-dispatcher", dispatcher), "handler": handler}


@pytest.fixture()
def as_person(browser, server, loop_people):
    """Open a signed-in page for a role of ``loop_people`` (tablet size unless told)."""
    opened = []

    def open_as(role: str, viewport=TABLET):
        context = browser.new_context(viewport=viewport, has_touch=True, locale="zh-CN")
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.set_default_timeout(30_000)
        sign_in(page, server, *loop_people[role])
        page.wait_for_function("window.gridmap !== undefined")
        idle(page)
        opened.append(context)
        return page

    yield open_as
    for context in opened:
        for page in context.pages:
            assert page.errors == []
        context.close()


def photo(tmp_path) -> str:
    """A small real JPEG: a street scene's colours, 64×48."""
    image = Image.new("RGB", (64, 48), (180, 170, 150))
    image.paste((200, 40, 40), (20, 10, 44, 38))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    path = tmp_path / "street.jpg"
    path.write_bytes(out.getvalue())
    return str(path)


def free_place(page, server, *, nth: int = 0) -> tuple[float, float]:
    """A place well inside the worker's (only) grid, away from every incident drawn there
    (the demo's among them) and from the places before it (``nth``: the how-many-th)."""
    grid, = features(page, server, "grids").values()
    shape = grid["shape"]
    taken = [f["shape"] for f in features(page, server, "incidents").values()]
    minx, miny, maxx, maxy = shape.bounds
    inner = shape.buffer(-0.0003)
    spots = [shapely.Point(minx + (maxx - minx) * i / 24, miny + (maxy - miny) * j / 24)
             for i in range(1, 24) for j in range(1, 24)]
    spots = [p for p in spots if inner.contains(p)]
    chosen = []
    for _ in range(nth + 1):
        spot = max(spots, key=lambda p: min(p.distance(q) for q in taken + chosen))
        chosen.append(spot)
    return chosen[-1].x, chosen[-1].y


def tap_map(page, lon: float, lat: float) -> None:
    x, y = page_point(page, lon, lat)
    page.mouse.click(x, y)


def open_incident(page, lon: float, lat: float, incident: int) -> None:
    """Tap the incident's circle on the map; its panel opens."""
    set_view(page, 18, lat, lon)
    tap_map(page, lon, lat)
    page.wait_for_selector(f"article.incident[data-id='{incident}']")
    page.evaluate("gridmap.incidents.loading")


def take(page, action: str, stage: str, comment: str = "") -> None:
    if comment:
        page.fill(".incident-actions textarea", comment)
    page.click(f".incident-actions button[data-action={action}]")
    page.wait_for_selector(f"article.incident[data-stage={stage}]")


def report_through_the_form(page, lon, lat, description, photo_path=None) -> int:
    page.click("#report-start")
    page.wait_for_selector("section.report")
    tap_map(page, lon, lat)
    page.wait_for_selector("form.report-form select[name=class] option[value='0401']",
                           state="attached")
    page.select_option("form.report-form select[name=class]", CLASS)
    page.fill("form.report-form textarea[name=description]", description)
    if photo_path:
        page.set_input_files("form.report-form input[name=photo]", photo_path)
    page.click("form.report-form button[type=submit]")
    page.wait_for_selector("article.incident[data-stage=reported]")
    return int(page.get_attribute("article.incident", "data-id"))


def api_post(page, server, url, body):
    token = page.evaluate("JSON.parse(document.getElementById('map-config').textContent).csrf")
    return page.context.request.post(server + url, data=body,
                                     headers={"X-CSRFToken": token})


def test_an_incident_goes_through_the_six_stages_on_the_map(as_person, server, tmp_path,
                                                            two_districts, artifacts):
    shots = artifacts / "incidents"
    shots.mkdir(exist_ok=True)
    worker = as_person("worker")
    lon, lat = free_place(worker, server)
    set_view(worker, 18, lat, lon)
    # the report form, on the place tapped, with a photo
    worker.click("#report-start")
    tap_map(worker, lon, lat)
    worker.wait_for_selector("form.report-form")
    worker.select_option("form.report-form select[name=class]", CLASS)
    worker.fill("form.report-form textarea[name=description]", "路口游商占道，影响通行")
    worker.set_input_files("form.report-form input[name=photo]", photo(tmp_path))
    worker.screenshot(path=str(shots / "report-form-1280x800.png"))
    worker.click("form.report-form button[type=submit]")
    worker.wait_for_selector("article.incident[data-stage=reported]")
    incident = int(worker.get_attribute("article.incident", "data-id"))
    # the photo's thumbnail is the real image, read back from the attachments endpoint
    worker.wait_for_function("() => { const i = document.querySelector('img.thumb'); "
                             "return i && i.complete && i.naturalWidth === 64; }")
    assert worker.locator(".incident-actions").count() == 0  # a worker may not register
    with session_scope(two_districts) as session:
        grid = session.execute(text(
            "select g.code from incident i join grid g on g.id = i.reported_grid_id "
            "where i.id = :i"), {"i": incident}).scalar_one()
    assert grid in worker.inner_text("article.incident")
    # the new incident is on the map
    worker.wait_for_function("() => document.querySelector('#map').dataset.loadedincidents > 0")

    dispatcher = as_person("dispatcher")
    open_incident(dispatcher, lon, lat, incident)
    take(dispatcher, "register", "registered", "属实，立案")
    take(dispatcher, "dispatch", "dispatched")
    assert STREET_OFFICE_ZH in dispatcher.inner_text("article.incident table")

    handler = as_person("handler")
    open_incident(handler, lon, lat, incident)
    take(handler, "handle", "handled", "已劝离")

    open_incident(worker, lon, lat, incident)
    take(worker, "verify", "verified", "现场已恢复")

    open_incident(dispatcher, lon, lat, incident)
    take(dispatcher, "close", "closed")
    assert dispatcher.locator(".incident-actions").count() == 0
    steps = dispatcher.locator("ol.steps li")
    assert steps.count() == 6
    history = [steps.nth(i).inner_text() for i in range(6)]
    assert "已劝离" in history[3] and "demo-worker" in history[0]
    assert "结案" in dispatcher.inner_text("article.incident .stage")
    dispatcher.screenshot(path=str(shots / "incident-panel-1280x800.png"))

    # the same form and panel on a portrait tablet
    portrait = as_person("worker", PORTRAIT)
    set_view(portrait, 18, lat, lon)
    portrait.click("#report-start")
    tap_map(portrait, lon + 0.00005, lat)
    portrait.wait_for_selector("form.report-form")
    portrait.screenshot(path=str(shots / "report-form-800x1280.png"))
    portrait.click("form.report-form .report-cancel")
    # closed incidents are drawn when the filter says all
    portrait.click("#layers summary")
    portrait.select_option("#incident-open", "all")
    open_incident(portrait, lon, lat, incident)
    portrait.screenshot(path=str(shots / "incident-panel-800x1280.png"))


def test_a_failed_check_goes_back_and_a_stale_action_is_a_conflict(as_person, server):
    worker = as_person("worker")
    lon, lat = free_place(worker, server)
    set_view(worker, 18, lat, lon)
    incident = report_through_the_form(worker, lon, lat, "井盖旁游商")
    dispatcher = as_person("dispatcher")
    open_incident(dispatcher, lon, lat, incident)
    # someone registers it meanwhile: the dispatcher's click meets a stage it did not see
    assert api_post(dispatcher, server, f"/api/incidents/{incident}/actions",
                    {"action": "register"}).ok
    dispatcher.click(".incident-actions button[data-action=register]")
    dispatcher.wait_for_selector("article.incident[data-stage=registered] .action-error:not([hidden])")
    assert "registered" in dispatcher.inner_text(".action-error")
    take(dispatcher, "dispatch", "dispatched")
    handler = as_person("handler")
    open_incident(handler, lon, lat, incident)
    take(handler, "handle", "handled")
    open_incident(worker, lon, lat, incident)
    take(worker, "send_back", "dispatched", "仍有游商")
    open_incident(handler, lon, lat, incident)
    assert handler.locator(".incident-actions button[data-action=handle]").count() == 1
    assert "仍有游商" in handler.inner_text("ol.steps")


def test_a_grids_panel_lists_its_open_incidents(as_person, server):
    worker = as_person("worker")
    grid, = features(worker, server, "grids")
    open_map(worker, server)
    # the community's panel counts open incidents per grid
    worker.wait_for_selector("section.incident-counts table.grid-counts")
    assert grid in worker.inner_text("section.incident-counts")
    # tapping the grid away from its incidents lists them, each opening its panel
    lon, lat = free_place(worker, server)
    spot = shapely.Point(lon, lat)
    set_view(worker, 17, spot.y, spot.x)
    tap_map(worker, spot.x, spot.y)
    worker.wait_for_selector("section.grid-incidents ul.incident-list a")
    assert "未结事件" in worker.inner_text("section.grid-incidents h3")
    worker.click("section.grid-incidents ul.incident-list a")
    worker.wait_for_selector("article.incident")


def test_the_administrator_edits_the_dispatch_matrix(tablet, server, artifacts):
    tablet.goto(server + "/admin/dispatch")
    tablet.click(".account-bar a[href='/admin/dispatch']")
    tablet.fill("form.card input[name=class_pattern]", "0402")
    tablet.fill("form.card input[name=area_code]", "42011100")  # 8 digits: no division
    tablet.select_option("select[name=department]", "parks")
    with tablet.expect_navigation():
        tablet.click("form.card button[type=submit]")
    assert "expected a district (6 digits)" in tablet.inner_text(".form-error") or \
        "应为" in tablet.inner_text(".form-error")
    tablet.fill("form.card input[name=area_code]", "420111002")
    with tablet.expect_navigation():
        tablet.click("form.card button[type=submit]")
    row = tablet.locator("tr[data-class='0402'][data-area='420111002']")
    assert "区园林局" in row.inner_text()
    tablet.screenshot(path=str(artifacts / "incidents" / "dispatch-matrix-1280x800.png"))
    with tablet.expect_navigation():
        row.locator("button").click()
    assert tablet.locator("tr[data-class='0402'][data-area='420111002']").count() == 0
