"""Concurrent runs are safe: two processes doing the same check-then-write at once.

Each test runs real ``gridmap`` processes side by side against a scratch database of its own.
Without the district lock, two ``gridmap demo`` both counted a community's grids as zero and
both drew them (26 active grids instead of 24, overlapping; 3 of 3 runs).
"""
from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import pyogrio
import pytest
from geoalchemy2.shape import to_shape
from shapely.geometry import box
from sqlalchemy import create_engine, select, text

from gridmap.db import normalise_url
from gridmap.demo import PLAN
from tests.conftest import scratch_database


def gridmap(url: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gridmap.cli", "--database-url", url, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def together(*procs: subprocess.Popen) -> list[tuple[int, str, str]]:
    return [(p.wait(timeout=300), *p.communicate()) for p in procs]


@pytest.fixture(scope="module")
def scratch(database_url):
    """A migrated, empty database of its own (dropped afterwards)."""
    with scratch_database(database_url, "gridmap_race") as url:
        (code, out, err), = together(gridmap(url, "db", "upgrade"))
        assert code == 0, err
        yield url


def scalar(url: str, sql: str):
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def test_two_demo_loads_at_once_draw_each_community_once(scratch):
    results = together(gridmap(scratch, "demo"), gridmap(scratch, "demo"))
    assert [r[0] for r in results] == [0, 0], [r[2] for r in results]
    assert scalar(scratch, "select count(*) from grid where valid_to is null") == \
        scalar(scratch, "select count(*) from code_registry")
    planned = len(pyogrio.read_dataframe(PLAN, layer="grids", read_geometry=False))
    assert scalar(scratch, "select count(*) from grid where valid_to is null") == planned
    assert scalar(scratch, """select count(*) from grid a join grid b on a.id < b.id
        and a.community_code = b.community_code and ST_Intersects(a.geom, b.geom)
        where a.valid_to is null and b.valid_to is null
          and ST_Area(ST_Intersection(a.geom, b.geom)::geography) > 1""") == 0
    assert scalar(scratch, "select count(*) from (select community_code, sequence from "
                           "code_registry group by 1, 2 having count(*) > 1) d") == 0


def test_two_imports_of_the_same_new_buildings_at_once(scratch, tmp_path):
    """Both succeed: one inserts, the other finds them in place (no IntegrityError)."""
    if not scalar(scratch, "select count(*) from district"):
        together(gridmap(scratch, "demo"))
    lon, lat = 114.3871, 30.5150
    frame = gpd.GeoDataFrame({"bid": [f"race{i}" for i in range(40)], "hh": [3] * 40},
                             geometry=[box(lon + (i % 8) * 0.0001, lat - (i // 8) * 0.0001,
                                           lon + (i % 8) * 0.0001 + 0.00006,
                                           lat - (i // 8) * 0.0001 + 0.00006)
                                       for i in range(40)], crs=4490)
    path = tmp_path / "race.gpkg"
    pyogrio.write_dataframe(frame, path)
    args = ("import", str(path), "--layer", "buildings", "--district", "420111",
            "--field", "source_id=bid", "--field", "households=hh")
    results = together(gridmap(scratch, *args), gridmap(scratch, *args))
    assert [r[0] for r in results] == [0, 0], [r[2] for r in results]
    outputs = sorted(r[1].splitlines()[0] for r in results)
    assert "40 new" in outputs[1] and "0 new, 0 updated" in outputs[0]
    assert scalar(scratch, "select count(*) from building where source_id like 'race%'") == 40


def test_a_redraw_that_began_earlier_is_dated_after_the_one_it_followed(scratch):
    """Transaction A begins, B redraws a grid and commits, then A (an import of the grids as
    they were) replaces B's grids. Dated by the start of A's transaction, B's grids would be
    retired before they were issued; dated by the clock under the district's lock, every
    grid's interval is in order and A's change follows B's."""
    from sqlalchemy.orm import Session

    from gridmap.db import get_engine, session_scope
    from gridmap.grid.redraw import GridFeature, apply_grids
    from gridmap.locks import lock_district
    from gridmap.models import Grid
    from tests.plans.shapes import cut_across
    from tests.plans.test_sequences import COMMUNITY, DISTRICT, _active, _draw_community

    with session_scope(scratch) as session:
        _draw_community(session)
        drawn = [(g.kind, to_shape(g.geom)) for g in _active(session)]
    first = Session(get_engine(scratch))
    try:
        began = first.execute(text("select now()")).scalar()
        with session_scope(scratch) as session:  # B: the first grid split in two
            lock_district(session, DISTRICT)
            (kind, shape), *rest = drawn
            split = [GridFeature(COMMUNITY, kind, part) for part in cut_across(shape, 0.5, True)]
            b = apply_grids(session, split + [GridFeature(COMMUNITY, k, s) for k, s in rest],
                            replace=True, note="B")
        lock_district(first, DISTRICT)  # A: the grids as they were, over B's
        a = apply_grids(first, [GridFeature(COMMUNITY, k, s) for k, s in drawn],
                        replace=True, note="A")
        assert set(a.retired) == set(b.inserted)
        rows = first.execute(select(Grid.code, Grid.valid_from, Grid.valid_to)
                             .where(Grid.community_code == COMMUNITY)).all()
        assert all(to is None or to >= since for _, since, to in rows)
        dated = {code: since for code, since, _ in rows}
        assert min(dated[c] for c in a.inserted) > max(dated[c] for c in b.inserted) > began
    finally:
        first.rollback()
        first.close()


def test_two_route_plans_of_one_grid_at_once_store_one_plan_and_agree(database_url):
    grid = scalar(database_url, "select g.code from grid g join route_station s "
                                "on s.community_code = g.community_code "
                                "where g.valid_to is null order by g.code limit 1")
    results = together(gridmap(database_url, "route", grid, "--days", "7"),
                       gridmap(database_url, "route", grid, "--days", "7"))
    assert [r[0] for r in results] == [0, 0], [r[2] for r in results]
    # the second waited for the first's plan and started from it: the same week
    assert results[0][1] == results[1][1]
    assert scalar(database_url, "select count(*) from route_plan p join grid g "
                                f"on g.id = p.grid_id where g.code = '{grid}'") == 1
