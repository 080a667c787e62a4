"""``/api/facilities``: lists cut to the caller's reach and filtered, one facility, a state
change with CSRF as every API write, and bad input as 4xx ``{"error", "detail"}``."""
from __future__ import annotations

import pytest
from gridmap.auth.scope import Scope
from gridmap.db import session_scope
from gridmap.facilities.service import create_facility
from tests.conftest import signed_in
from tests.facilities.conftest import grid_point
from tests.webapp.signin import csrf_token


@pytest.fixture(scope="module")
def placed(database_url, people) -> dict[str, str]:
    """A damaged street lamp in grid A and a hydrant in grid B (committed)."""
    made = {}
    with session_scope(database_url) as session:
        for key, login, cls in (("a", "t-worker-a", "0114"), ("b", "t-worker-b", "0111")):
            code = people[login].scopes[0][1]
            lon, lat = grid_point(session, code)
            made[key] = create_facility(session, Scope.for_person("t-admin", "administrator",
                                                                  ()),
                                        class_code=cls, lon=lon, lat=lat, state="damaged").id
            made[f"grid_{key}"] = code
    return made


def test_lists_are_cut_to_the_callers_grids_and_filtered(app, placed):
    worker = signed_in(app, "t-worker-a")
    answer = worker.get("/api/facilities?state=damaged")
    assert answer.status_code == 200
    ids = {f["id"] for f in answer.get_json()["facilities"]}
    assert placed["a"] in ids and placed["b"] not in ids
    assert {f["grid"] for f in answer.get_json()["facilities"]} == {placed["grid_a"]}
    admin = signed_in(app, "t-admin")
    found = admin.get(f"/api/facilities?grid={placed['grid_b']}&class=0111&state=damaged")
    assert [f["id"] for f in found.get_json()["facilities"]] == [placed["b"]]
    boxed = admin.get("/api/facilities?bbox=100,20,100.1,20.1").get_json()["facilities"]
    assert boxed == []
    assert admin.get("/api/facilities?class=01&limit=3").status_code == 200


def test_one_facility_and_who_sees_it(app, placed):
    shown = signed_in(app, "t-worker-a").get(f"/api/facilities/{placed['a']}")
    assert shown.status_code == 200
    body = shown.get_json()
    assert (body["id"], body["class_code"], body["grid"], body["state"]) == \
        (placed["a"], "0114", placed["grid_a"], "damaged")
    hidden = signed_in(app, "t-worker-b").get(f"/api/facilities/{placed['a']}")
    assert hidden.status_code == 404 and set(hidden.get_json()) == {"error", "detail"}


def test_a_state_change_needs_csrf_and_the_right_role(app, placed):
    worker = signed_in(app, "t-worker-a")
    url = f"/api/facilities/{placed['a']}/state"
    refused = worker.post(url, json={"state": "intact"})
    assert refused.status_code in (400, 403)  # no CSRF token
    token = csrf_token(worker, "/account/password")
    done = worker.post(url, json={"state": "intact", "comment": "已修复"},
                       headers={"X-CSRFToken": token})
    assert done.status_code == 200 and done.get_json()["state"] == "intact"
    other = signed_in(app, "t-worker-b")
    token_b = csrf_token(other, "/account/password")
    assert other.post(url, json={"state": "missing"},
                      headers={"X-CSRFToken": token_b}).status_code == 404


@pytest.mark.parametrize("url, status", [
    ("/api/facilities?state=broken", 400),
    ("/api/facilities?class=1", 400),
    ("/api/facilities?bbox=1,2,3", 400),
    ("/api/facilities?retired=yes", 400),
    ("/api/facilities?limit=0", 400),
    ("/api/facilities/420111011499999x", 400),
    ("/api/facilities/4201110114999999", 404),
])
def test_bad_requests_answer_error_and_detail(app, people, url, status):
    answer = signed_in(app, "t-admin").get(url)
    assert answer.status_code == status
    assert set(answer.get_json()) == {"error", "detail"}


def test_bad_state_bodies(app, placed):
    admin = signed_in(app, "t-admin")
    token = csrf_token(admin, "/account/password")
    url = f"/api/facilities/{placed['b']}/state"
    for body in ({"state": "broken"}, {"state": 3}, {}, {"state": "intact", "comment": 5}):
        answer = admin.post(url, json=body, headers={"X-CSRFToken": token})
        assert answer.status_code == 400 and set(answer.get_json()) == {"error", "detail"}


def test_component_classes(app, people):
    classes = signed_in(app, "t-worker-a").get("/api/component-classes").get_json()
    hydrant = next(c for c in classes["component_classes"] if c["code"] == "0111")
    assert (hydrant["name_en"], hydrant["major"], hydrant["department"]) == \
        ("Fire hydrant", "01", "fire")


def _png(colour: tuple[int, int, int]) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (24, 16), colour).save(out, format="PNG")
    return out.getvalue()


def test_a_photo_is_uploaded_read_back_and_bad_ones_change_nothing(app, placed):
    """A worker of the grid photographs the lamp and reads it back; a lying name, a wrong
    declared SHA-256, two files or none, and an oversized body are refused with
    ``{"error", "detail"}`` and leave the photo as it was."""
    import hashlib
    import io

    worker = signed_in(app, "t-worker-a")
    token = csrf_token(worker, "/account/password")
    url = f"/api/facilities/{placed['a']}/photo"

    def send(*files, sha256=None):
        data = {"photo": [(io.BytesIO(body), name) for name, body in files]}
        if sha256:
            data["sha256"] = sha256
        return worker.post(url, data=data, headers={"X-CSRFToken": token},
                           content_type="multipart/form-data")

    assert worker.get(url).status_code == 404  # none yet
    red = _png((200, 30, 30))
    stored = send(("lamp.png", red), sha256=hashlib.sha256(red).hexdigest())
    assert stored.status_code == 201, stored.get_json()
    assert stored.get_json()["photo_sha256"] == hashlib.sha256(red).hexdigest()
    shown = worker.get(url)
    assert shown.status_code == 200 and shown.data == red and shown.mimetype == "image/png"
    blue = _png((30, 30, 200))
    for answer, status in ((send(("lamp.jpg", blue)), 415),
                           (send(("lamp.png", blue), sha256="0" * 64), 400),
                           (send(("a.png", blue), ("b.png", blue)), 400),
                           (send(), 400),
                           (send(("big.png", blue + b"\0" * (app.config["GRIDMAP"][
                               "attachment_max_kib"] * 1024))), 413)):
        assert answer.status_code == status, answer.get_json()
        assert set(answer.get_json()) == {"error", "detail"}
    assert worker.get(url).data == red
    other = signed_in(app, "t-worker-b")
    assert other.get(url).status_code == 404
