"""A draft plan exported as a GeoPackage (``gridmap plan export``, ``GET
/api/plans/ID/export.gpkg``) is a proper GeoPackage in EPSG:4490 with codes as text and the
households and buildings of each grid, and importing it back gives an equal draft."""
from __future__ import annotations

import sqlite3

import numpy as np
import pyogrio
import pytest
import shapely
from hypothesis import given, settings, strategies as st
from geoalchemy2.shape import to_shape
from sqlalchemy import select, text

from gridmap.db import session_scope
from gridmap.errors import Conflict, InvalidInput, NotFound
from gridmap.models import Grid
from gridmap.plans.apply import apply_plan
from gridmap.plans.compare import compare_plan
from gridmap.plans.drafts import DraftGrid, create_draft, draft_from_file, draft_grids
from gridmap.plans.export import exported_file_info, export_plan
from tests.conftest import rolled_back, sign_in
from tests.plans.shapes import cut_across
from tests.test_cli import _run

COMMUNITY = "420111002022"
GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"


def _active(session) -> list[Grid]:
    return list(session.execute(select(Grid).where(Grid.community_code == COMMUNITY,
                                                   Grid.valid_to.is_(None))
                                .order_by(Grid.code)).scalars())


def _as_drawn(session) -> list[DraftGrid]:
    return [DraftGrid(g.kind, to_shape(g.geom), g.name) for g in _active(session)]


def _same_shape(a, b) -> bool:
    """The same polygon to the last bit (a one-part multipolygon read as its polygon)."""
    return a.geom_type == b.geom_type and np.array_equal(shapely.get_coordinates(a),
                                                         shapely.get_coordinates(b))


def _assert_equal_drafts(session, first, second) -> None:
    a, b = draft_grids(session, first.id), draft_grids(session, second.id)
    assert [(g.position, g.kind, g.name) for g, _ in a] == \
        [(g.position, g.kind, g.name) for g, _ in b]
    assert all(_same_shape(x, y) for (_, x), (_, y) in zip(a, b))
    figures = [[(g.households, g.buildings, g.polsby_popper) for g in compare_plan(
        session, plan).grids] for plan in (first, second)]
    assert figures[0] == figures[1]


def test_the_file_is_a_geopackage_in_epsg_4490_with_codes_as_text(db, tmp_path):
    plan = create_draft(db, COMMUNITY, _as_drawn(db), title="as drawn", source="test")
    path = tmp_path / "plan.gpkg"
    comparison = export_plan(db, plan.id, path)
    with sqlite3.connect(path) as gpkg:
        assert gpkg.execute("pragma application_id").fetchone()[0] == GPKG_APPLICATION_ID
        assert gpkg.execute("select table_name, data_type, srs_id from gpkg_contents"
                            ).fetchall() == [("grids", "features", 4490)]
        assert gpkg.execute("select geometry_type_name, srs_id from gpkg_geometry_columns"
                            ).fetchall() == [("MULTIPOLYGON", 4490)]
        organisation, number, definition = gpkg.execute(
            "select organization, organization_coordsys_id, definition from "
            "gpkg_spatial_ref_sys where srs_id = 4490").fetchone()
        assert (organisation.upper(), number) == ("EPSG", 4490) and "2000" in definition
        columns = {name: kind for _, name, kind, *_ in gpkg.execute("pragma table_info(grids)")}
    assert {name: columns[name] for name in ("code", "community", "households", "buildings")} \
        == {"code": "TEXT", "community": "TEXT", "households": "MEDIUMINT",
            "buildings": "MEDIUMINT"}
    frame = pyogrio.read_dataframe(path)
    assert frame.crs.to_epsg() == 4490
    # an unchanged plan: every grid keeps its code, and the file says which
    assert list(frame["code"]) == [g.code for g in _active(db)]
    assert list(frame["households"]) == [g.households for g in comparison.grids] == \
        [g.households for g in _active(db)]
    assert list(frame["buildings"]) == [g.building_count for g in _active(db)]
    info = exported_file_info(path)
    assert (info.community_code, info.plan_id, info.base_version) == (
        COMMUNITY, plan.id, plan.base_version)


def test_export_then_import_gives_an_equal_draft(db, tmp_path):
    plan = create_draft(db, COMMUNITY, _as_drawn(db), title="as drawn", source="test")
    path = tmp_path / "plan.gpkg"
    export_plan(db, plan.id, path)
    back = draft_from_file(db, path, COMMUNITY)
    _assert_equal_drafts(db, plan, back)


names = st.none() | st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=100)


@settings(max_examples=12)
@given(data=st.data(), fraction=st.floats(0.2, 0.8), vertical=st.booleans())
def test_any_draft_comes_back_from_its_geopackage_unchanged(engine, tmp_path_factory, data,
                                                             fraction, vertical):
    """Property: a draft (one grid split along any line, any names and kinds, Chinese or
    not) exported and imported is the same draft: the same shapes to the bit, kinds, names,
    households and buildings."""
    folder = tmp_path_factory.mktemp("roundtrip")
    with rolled_back(engine) as session:
        grids = _as_drawn(session)
        which = data.draw(st.integers(0, len(grids) - 1), label="grid split")
        parts = cut_across(grids[which].geom, fraction, vertical)
        drawn = grids[:which] + [DraftGrid("residential", p) for p in parts] + \
            grids[which + 1:]
        drawn = [DraftGrid(data.draw(st.sampled_from(["residential", "unit"]), label="kind"),
                           g.geom, data.draw(names, label="name")) for g in drawn]
        plan = create_draft(session, COMMUNITY, drawn, title="split", source="test")
        path = folder / "plan.gpkg"
        export_plan(session, plan.id, path)
        back = draft_from_file(session, path, COMMUNITY)
        _assert_equal_drafts(session, plan, back)
        assert back.base_version == plan.base_version


def test_a_file_exported_before_the_grids_changed_is_refused_on_import(db, tmp_path):
    db.execute(text("update district set max_households = 5000 where code = '420111'"))
    grids = _as_drawn(db)
    plan = create_draft(db, COMMUNITY, grids, title="to edit", source="test")
    path = tmp_path / "plan.gpkg"
    export_plan(db, plan.id, path)
    merged = grids[2:] + [DraftGrid("residential", shapely.union(grids[0].geom,
                                                                 grids[1].geom))]
    other = create_draft(db, COMMUNITY, merged, title="meanwhile", source="test")
    apply_plan(db, other.id, comment="someone else's change")
    with pytest.raises(Conflict, match="were at version"):
        draft_from_file(db, path, COMMUNITY)
    # said explicitly: drawn from the current grids
    assert draft_from_file(db, path, COMMUNITY, base_version=plan.base_version + 1)


def test_bad_export_requests_are_refused(db, tmp_path):
    plan = create_draft(db, COMMUNITY, _as_drawn(db), title="x", source="test")
    with pytest.raises(InvalidInput, match="ending in .gpkg"):
        export_plan(db, plan.id, tmp_path / "plan.shp")
    with pytest.raises(InvalidInput, match="no such folder"):
        export_plan(db, plan.id, tmp_path / "nowhere" / "plan.gpkg")
    with pytest.raises(NotFound, match="no such plan"):
        export_plan(db, 999999, tmp_path / "plan.gpkg")


def test_the_command_line_round_trip(runner, database_url, tmp_path):
    with session_scope(database_url) as session:
        plan_id = create_draft(session, COMMUNITY, _as_drawn(session), title="cli",
                               source="test").id
    path = tmp_path / "plan.gpkg"
    done = runner("plan", "export", str(plan_id), "-o", str(path))
    assert done.exit_code == 0, done.output
    assert f"plan {plan_id} written to {path}" in done.output and "EPSG:4490" in done.output
    imported = runner("plan", "import", str(path), "--community", COMMUNITY)
    assert imported.exit_code == 0, imported.output
    back_id = int(imported.output.split()[2])
    with session_scope(database_url) as session:
        from gridmap.plans.drafts import get_plan

        _assert_equal_drafts(session, get_plan(session, plan_id), get_plan(session, back_id))
    for done_id in (plan_id, back_id):
        assert runner("plan", "discard", str(done_id)).exit_code == 0
    for args, needle in ((("plan", "export", "999999", "-o", str(path)), "no such plan"),
                         (("plan", "export", str(plan_id), "-o", str(tmp_path / "a.csv")),
                          ".gpkg"),
                         (("plan", "export", str(plan_id)), "Missing option")):
        bad = _run("--database-url", database_url, *args)
        assert bad.returncode == 2 and needle in bad.stderr, bad.stderr
        assert bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr


def test_the_download_is_the_same_file_for_whoever_may_read_the_plan(app, people,
                                                                     database_url, tmp_path):
    community = people["t-community"].scopes[0][1]
    with session_scope(database_url) as session:
        rows = session.execute(text("select kind, name, ST_AsBinary(geom) from grid where "
                                    "community_code = :c and valid_to is null order by code"),
                               {"c": community}).all()
        plan_id = create_draft(session, community, [
            DraftGrid(kind, shapely.from_wkb(bytes(wkb)), name) for kind, name, wkb in rows],
            title="download", source="test").id
    client = app.test_client()
    sign_in(client, "t-community")
    response = client.get(f"/api/plans/{plan_id}/export.gpkg")
    assert response.status_code == 200
    assert response.mimetype == "application/geopackage+sqlite3"
    assert f'filename="plan-{plan_id}-{community}.gpkg"' in response.headers[
        "Content-Disposition"]
    path = tmp_path / "download.gpkg"
    path.write_bytes(response.get_data())
    frame = pyogrio.read_dataframe(path)
    assert len(frame) == len(rows) and frame.crs.to_epsg() == 4490
    missing = client.get("/api/plans/999999/export.gpkg")
    assert missing.status_code == 404 and set(missing.get_json()) == {"error", "detail"}
    with session_scope(database_url) as session:
        from gridmap.plans.drafts import discard_plan

        discard_plan(session, plan_id)
