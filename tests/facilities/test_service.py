"""State changes and retirement: audit-recorded with before and after, refused to roles
without the capability, 404 outside the caller's reach, 409 once retired."""
from __future__ import annotations

import pytest

from gridmap.audit import Actor, acting_as, list_events
from gridmap.errors import Conflict, Forbidden, InvalidInput, NotFound
from gridmap.facilities.service import (describe_facility, get_facility, retire_facility,
                                        set_photo, set_state)
from gridmap.incidents.attachments import Upload
from gridmap.storage import DirectoryStorage
from tests.facilities.conftest import make
from tests.incidents.conftest import person

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def test_a_grid_worker_reports_a_state_and_the_trail_keeps_it(db, grids, roles):
    found = make(db, roles["admin"], grids[0])
    with acting_as(Actor("person", roles["worker_a"].actor)):
        set_state(db, roles["worker_a"], found.id, "damaged", comment="灯罩破损")
    assert describe_facility(db, found)["state"] == "damaged"
    event = list_events(db, table="facility")[0]
    assert (event.action, event.row_key, event.actor) == \
        ("facility.state", found.id, "person:t-grid_worker")
    assert event.before == {"state": "intact"}
    assert event.after == {"state": "damaged", "comment": "灯罩破损"}


def test_refusals(db, grids, roles):
    found = make(db, roles["admin"], grids[0])
    with pytest.raises(NotFound):  # grid B's worker never learns of it
        set_state(db, roles["worker_b"], found.id, "damaged")
    with pytest.raises(Forbidden):  # a grid worker reports states, never retires
        retire_facility(db, roles["worker_a"], found.id)
    with pytest.raises(Forbidden):  # an agency's key reads only
        from gridmap.auth.scope import Scope
        set_state(db, Scope.for_api_key("k", None), found.id, "damaged")
    with pytest.raises(Forbidden):  # registering is for planners and administrators
        make(db, roles["worker_a"], grids[0])
    with pytest.raises(InvalidInput, match="expected one of intact"):
        set_state(db, roles["worker_a"], found.id, "broken")
    with pytest.raises(InvalidInput, match="16 digits"):
        get_facility(db, roles["admin"], "42011101")
    retire_facility(db, roles["planner"], found.id, comment="拆除")
    with pytest.raises(Conflict, match="retired"):
        set_state(db, roles["worker_a"], found.id, "intact")
    with pytest.raises(Conflict):
        retire_facility(db, roles["admin"], found.id)


def test_a_planner_registers_only_in_their_street(db, grids, roles):
    other_street = person("planner", ("street", "420111999"))
    with pytest.raises(Forbidden, match="outside their reach"):
        make(db, other_street, grids[0])
    found = make(db, roles["planner"], grids[0], name="光谷广场路灯 1")
    shown = describe_facility(db, found)
    assert shown["owner_department"] == shown["maintainer_department"] == "municipal"
    assert shown["class_name"] == {"zh": "路灯", "en": "Street lamp"}


def test_a_photo_is_checked_by_content_and_stored_by_sha256(db, grids, roles, tmp_path):
    found = make(db, roles["admin"], grids[0])
    storage = DirectoryStorage(tmp_path)
    set_photo(db, storage, roles["worker_a"], found.id, Upload("lamp.png", PNG),
              max_bytes=10_000)
    assert storage.get(found.photo_sha256) == PNG and found.photo_media_type == "image/png"
    with pytest.raises(InvalidInput, match="named .jpg but holds image/png"):
        set_photo(db, storage, roles["worker_a"], found.id, Upload("lamp.jpg", PNG),
                  max_bytes=10_000)
