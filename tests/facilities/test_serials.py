"""Serials are never reused: a retired facility keeps its ID and the next one gets a new
serial; two transactions issuing at once get distinct serials."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.errors import InvalidInput
from gridmap.facilities.ids import decode
from gridmap.facilities.serials import issue_ids
from gridmap.facilities.service import retire_facility
from tests.facilities.conftest import make


def test_retire_then_create_gives_a_new_serial(db, grids, admin):
    first = make(db, admin, grids[0])
    retire_facility(db, admin, first.id, comment="removed")
    second = make(db, admin, grids[0])
    assert decode(second.id).serial == decode(first.id).serial + 1
    db.refresh(first)
    assert first.id and not first.in_use and first.retired_at is not None


def test_serials_run_out_with_a_message(db):
    db.execute(text("insert into facility_serial values ('420111', '0699', 999998)"))
    assert issue_ids(db, "420111", "0699", 1) == ["4201110699999999"]
    with pytest.raises(InvalidInput, match="no serials left"):
        issue_ids(db, "420111", "0699", 1)
    assert db.execute(text("select last_serial from facility_serial where class_code = '0699' "
                           "and district_code = '420111'")).scalar() == 999999


def test_concurrent_issuance_gives_distinct_serials(engine):
    """Four transactions at once, each holding its block a moment before committing."""
    district, cls = "990101", "0698"  # a counter of its own (no facility rows needed)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def issue() -> None:
        try:
            with Session(engine) as session:
                ids = issue_ids(session, district, cls, 5)
                time.sleep(0.1)
                session.commit()
                results.append(ids)
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=issue) for _ in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors, errors
        issued = [i for ids in results for i in ids]
        assert sorted(decode(i).serial for i in issued) == list(range(1, 21))
    finally:
        with engine.begin() as conn:
            conn.execute(text("delete from facility_serial where district_code = :d"),
                         {"d": district})
