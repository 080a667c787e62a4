"""The code registry never issues a code twice, retired ones included, and keeps lineage."""
from __future__ import annotations

import numpy as np
from shapely.geometry import box
from sqlalchemy import select, text

from gridmap.models import CodeRegistryEntry, GridLineage
from gridmap.registry import issue_codes, retire_codes


def test_new_codes_follow_every_issued_one_and_order_west_east_north_south(db):
    community = "420111002023"
    before = set(db.execute(select(CodeRegistryEntry.code)).scalars())
    highest = max(int(c[12:]) for c in before if c.startswith(community))
    retire_codes(db, [f"{community}{highest:03d}"])
    # Four squares: north row (west, east), south row (west, east), given shuffled.
    squares = np.array([box(100, 0, 200, 100), box(0, 200, 100, 300), box(0, 0, 100, 100),
                        box(100, 200, 200, 300)])
    codes = issue_codes(db, community, squares, row_height=150)
    sequences = [int(c[12:]) for c in codes]
    assert sequences == [highest + 4, highest + 1, highest + 3, highest + 2]
    assert not set(codes) & before
    retire_codes(db, [codes[0]], successors=codes[1:])
    again = issue_codes(db, community, squares[:1], row_height=150)
    assert int(again[0][12:]) == highest + 5  # the retired number is not reused
    lineage = db.execute(select(GridLineage.child_code).where(
        GridLineage.parent_code == codes[0])).scalars().all()
    assert sorted(lineage) == sorted(codes[1:])
    status = db.execute(text("select status from code_registry where code = :c"),
                        {"c": codes[0]}).scalar()
    assert status == "retired"


def test_registry_holds_one_code_per_sequence(db):
    """The database itself refuses a second code for a community's sequence number (a 14-digit
    and a 15-digit code of one sequence were both accepted once)."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    entry = db.execute(select(CodeRegistryEntry)).scalars().first()
    short = entry.community_code + f"{entry.sequence:02d}"
    with pytest.raises(IntegrityError, match="code_registry_sequence_key"):
        with db.begin_nested():
            db.add(CodeRegistryEntry(code=short, community_code=entry.community_code,
                                     sequence=entry.sequence, status="issued"))
            db.flush()
