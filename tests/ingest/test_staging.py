"""Binary staging of buildings: what is read back from ``import_building`` is what was staged
(text as text, an empty or missing text as NULL, integers, footprints as EPSG:4490
multipolygons with every coordinate as given)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, box
from sqlalchemy import text

from gridmap.ingest.staging import TEXT, stage_buildings
from gridmap.progress import NoProgress

# PostgreSQL text holds no NUL and no lone surrogate; CSV's special characters are welcome.
_TEXTS = st.one_of(st.none(), st.just(""), st.integers(-10**6, 10**6),
                   st.text(st.characters(blacklist_categories=("Cs",),
                                         blacklist_characters="\x00"), max_size=12),
                   st.sampled_from(["a,b", '"quoted"', "line\nbreak", "\\N", "网格 1"]))
_INTS = st.one_of(st.none(), st.integers(0, 2**31 - 1))
_COORD = st.floats(-179, 179, allow_nan=False)


@st.composite
def _footprint(draw):
    x, y = draw(_COORD), draw(st.floats(-80, 80, allow_nan=False))
    w, h = draw(st.floats(1e-7, 0.01)), draw(st.floats(1e-7, 0.01))
    first = box(x, y, x + w, y + h)
    if draw(st.booleans()):
        return first
    return MultiPolygon([first, box(x + 2 * w, y, x + 3 * w, y + h)])


_ROW = st.fixed_dictionaries({**{name: _TEXTS for name in TEXT},
                              "households": _INTS, "floors": _INTS,
                              "grid_id": st.integers(-1, 2**31 - 1),
                              "footprint": _footprint()})


def _stage(db, rows: list[dict], keep: np.ndarray) -> list:
    attrs = pd.DataFrame({name: pd.Series([r[name] for r in rows], dtype=object)
                          for name in (*TEXT, "households", "floors")})
    geoms = np.array([r["footprint"] for r in rows], dtype=object)
    grid_ids = np.array([r["grid_id"] for r in rows], dtype=np.int64)
    raw = db.connection().connection.driver_connection
    with raw.cursor() as cur:
        stage_buildings(cur, attrs, geoms, grid_ids, keep, NoProgress())
    return db.execute(text(
        "select row, source_id, name, use, address, households, floors, grid_id, "
        "ST_SRID(footprint) as srid, GeometryType(footprint) as type, "
        "ST_AsBinary(footprint) as wkb from import_building order by row")).all()


def _expected_text(value):
    return None if value is None or value == "" else str(value)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_ROW, min_size=1, max_size=8), data=st.data())
def test_staged_rows_read_back_as_given(db, rows, data):
    keep = np.array(sorted(data.draw(st.sets(st.integers(0, len(rows) - 1), min_size=1))))
    with db.begin_nested() as savepoint:
        staged = _stage(db, rows, keep)
        savepoint.rollback()
    assert [s.row for s in staged] == keep.tolist()
    for got in staged:
        given_row = rows[got.row]
        for name in TEXT:
            assert getattr(got, name) == _expected_text(given_row[name]), name
        assert (got.households, got.floors) == (given_row["households"], given_row["floors"])
        assert got.grid_id == (given_row["grid_id"] if given_row["grid_id"] >= 0 else None)
        assert (got.srid, got.type) == (4490, "MULTIPOLYGON")
        footprint = given_row["footprint"]
        multi = footprint if footprint.geom_type == "MultiPolygon" else MultiPolygon([footprint])
        assert shapely.equals_exact(shapely.from_wkb(bytes(got.wkb)), multi, tolerance=0)


def test_a_skipped_row_is_deleted_through_the_view(db):
    """The duplicates policy ``skip`` deletes staged rows through ``import_building``."""
    rows = [{"source_id": str(i), "name": None, "use": None, "address": None,
             "households": 1, "floors": None, "grid_id": -1,
             "footprint": box(114.4 + i * 0.001, 30.5, 114.4005 + i * 0.001, 30.5005)}
            for i in range(3)]
    _stage(db, rows, np.arange(3))
    db.execute(text("delete from import_building where row = any(:rows)"), {"rows": [1]})
    left = db.execute(text("select source_id from import_building_raw order by row"))
    assert left.scalars().all() == ["0", "2"]
