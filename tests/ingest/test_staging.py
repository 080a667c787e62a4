"""Staged writes of buildings (gridmap.ingest.staging): what is read back from
``import_building`` is what was staged (text as text, an empty or missing text as NULL,
integers, footprints as EPSG:4490 multipolygons with every coordinate as given); the chunked
write gives the same result whatever the chunk size, and a failure on either side of it
writes nothing and leaves the session usable.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, box
from sqlalchemy import text

from gridmap.errors import ImportFailed
from gridmap.grid.assign import grid_labeller
from gridmap.ingest import buildings, import_recipe, staging
from gridmap.ingest.staging import TEXT, stage_buildings
from gridmap.progress import NoProgress
from tests.ingest.test_import_writes import (DEMO, FREE_LAT, FREE_LON, boxes, buildings_recipe,
                                             write)

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
                              "footprint": _footprint()})


def _stage(db, rows: list[dict], keep: np.ndarray) -> list:
    attrs = pd.DataFrame({name: pd.Series([r[name] for r in rows], dtype=object)
                          for name in (*TEXT, "households", "floors")})
    geoms = np.array([r["footprint"] for r in rows], dtype=object)
    raw = db.connection().connection.driver_connection
    with raw.cursor() as cur:
        stage_buildings(cur, attrs, geoms, keep, NoProgress())
    return db.execute(text(
        "select row, source_id, name, use, address, households, floors, "
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
        assert (got.srid, got.type) == (4490, "MULTIPOLYGON")
        footprint = given_row["footprint"]
        multi = footprint if footprint.geom_type == "MultiPolygon" else MultiPolygon([footprint])
        assert shapely.equals_exact(shapely.from_wkb(bytes(got.wkb)), multi, tolerance=0)


def test_a_skipped_row_is_deleted_through_the_view(db):
    """The duplicates policy ``skip`` deletes staged rows through ``import_building``."""
    rows = [{"source_id": str(i), "name": None, "use": None, "address": None,
             "households": 1, "floors": None,
             "footprint": box(114.4 + i * 0.001, 30.5, 114.4005 + i * 0.001, 30.5005)}
            for i in range(3)]
    _stage(db, rows, np.arange(3))
    db.execute(text("delete from import_building where row = any(:rows)"), {"rows": [1]})
    left = db.execute(text("select source_id from import_building_raw order by row"))
    assert left.scalars().all() == ["0", "2"]


_STATE = text("""
    select b.source_id, b.households, b.grid_id, ST_AsBinary(b.footprint) as wkb,
           g.households as grid_households
    from building b left join grid g on g.id = b.grid_id
    where b.source = 'chunks' order by b.source_id
""")


def _files(tmp_path):
    """A first import of six buildings, then a second that changes two, keeps two, adds
    two, and holds one in-file duplicate (skipped)."""
    first = boxes(FREE_LON, FREE_LAT, 6)
    second = first[:4] + boxes(FREE_LON, FREE_LAT + 0.0004, 2) + [first[0]]
    a = write(tmp_path, "a.gpkg", first, bid=[str(i) for i in range(6)], hh=[1] * 6)
    b = write(tmp_path, "b.gpkg", second, bid=["0", "1", "2", "3", "6", "7", "8"],
              hh=[5, 1, 7, 1, 2, 2, 9])
    return a, b


def _import_both(db, paths) -> tuple[list, list]:
    reports = [import_recipe(db, buildings_recipe(p, DEMO, source_name="chunks",
                                                  duplicates="skip"))
               for p in paths]
    counts = [(r.inserted, r.updated, r.skipped, r.assignment) for r in reports]
    return counts, [tuple(row) for row in db.execute(_STATE)]


def _in_savepoint(db, run):
    with db.begin_nested() as savepoint:
        result = run()
        savepoint.rollback()
    return result


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_result_does_not_depend_on_the_chunk_size(db, tmp_path_factory, monkeypatch, data):
    paths = _files(tmp_path_factory.mktemp("chunks"))
    monkeypatch.setattr(staging, "WRITE_CHUNK", 10**9)
    expected = _in_savepoint(db, lambda: _import_both(db, paths))
    assert expected[0][1][:3] == (2, 2, 1)  # "6", "7" new, "0", "2" changed, "8" skipped
    monkeypatch.setattr(staging, "WRITE_CHUNK", data.draw(st.integers(1, 8), label="chunk"))
    assert _in_savepoint(db, lambda: _import_both(db, paths)) == expected


def _failing_labeller(calls: list, fail_at: int):
    def labeller(session, district):
        real = grid_labeller(session, district)

        def label(footprints):
            calls.append(len(footprints))
            if len(calls) == fail_at:
                raise ImportFailed("labelling failed on purpose")
            return real(footprints)
        return label
    return labeller


@pytest.fixture()
def small_chunks(monkeypatch):
    monkeypatch.setattr(staging, "WRITE_CHUNK", 1)


def test_a_failure_while_labelling_writes_nothing(db, tmp_path, monkeypatch, small_chunks):
    calls: list = []
    monkeypatch.setattr(buildings, "grid_labeller", _failing_labeller(calls, fail_at=4))
    path = write(tmp_path, "a.gpkg", boxes(FREE_LON, FREE_LAT, 6),
                 bid=[str(i) for i in range(6)], hh=[1] * 6)
    with pytest.raises(ImportFailed, match="on purpose"):
        import_recipe(db, buildings_recipe(path, DEMO, source_name="chunks"))
    # Chunks were written before the failure; the import's savepoint took them back, and no
    # statement of the worker is left running on the connection.
    assert db.execute(text("select count(*) from building where source = 'chunks'")).scalar() == 0


def test_a_failed_check_stops_the_labelling(db, tmp_path, monkeypatch, small_chunks):
    path = write(tmp_path, "a.gpkg", boxes(FREE_LON, FREE_LAT, 6),
                 bid=[str(i) for i in range(6)], hh=[1] * 6)
    import_recipe(db, buildings_recipe(path, DEMO, source_name="first"))
    calls: list = []
    monkeypatch.setattr(buildings, "grid_labeller", _failing_labeller(calls, fail_at=0))
    with pytest.raises(ImportFailed, match="duplicate buildings already stored"):
        import_recipe(db, buildings_recipe(path, DEMO, source_name="chunks"))
    assert len(calls) < 6  # the check failed before every chunk was labelled
    assert db.execute(text("select count(*) from building where source = 'chunks'")).scalar() == 0
