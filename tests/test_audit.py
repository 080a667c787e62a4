"""The audit trail: every write records who, what and when; the table is append-only."""
from __future__ import annotations

import pyogrio
import geopandas as gpd
import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from gridmap.audit import Actor, acting_as, current_actor, list_events, record
from gridmap.ingest import Recipe, import_recipe


def test_record_names_the_actor_of_the_context(db):
    assert current_actor().kind == "system"
    with acting_as(Actor("person", "张三", address="127.0.0.1", request_id="r-1")):
        record(db, action="update", table="grid", key="x", before={"kind": "unit"},
               after={"kind": "residential"})
    db.flush()
    event = list_events(db, who="张三")[0]
    assert (event.actor_kind, event.actor, str(event.address), event.request_id) == \
        ("person", "张三", "127.0.0.1", "r-1")
    assert (event.before, event.after) == ({"kind": "unit"}, {"kind": "residential"})
    assert current_actor().kind == "system"  # restored after the block


@pytest.mark.parametrize("statement", [
    "update audit_event set actor = 'someone else'",
    "delete from audit_event",
    "truncate audit_event",
])
def test_the_trail_refuses_update_delete_and_truncate_even_for_a_superuser(db, statement):
    record(db, action="insert", table="grid", key="y")
    db.flush()
    assert db.execute(text("select rolsuper from pg_roles where rolname = current_user")
                      ).scalar()  # the test connects as a superuser: grants would not bind
    with pytest.raises(DBAPIError, match="audit_event is append-only"):
        with db.begin_nested():
            db.execute(text(statement))


def test_an_import_records_one_event_and_a_redraw_one_per_grid(db, tmp_path):
    code, kind, wkb = db.execute(text(
        "select code, kind, ST_AsBinary(geom) from grid where valid_to is null "
        "order by code limit 1")).one()
    smaller = shapely.from_wkb(wkb).buffer(-0.00002)
    path = tmp_path / "g.gpkg"
    pyogrio.write_dataframe(gpd.GeoDataFrame({"code": [code], "kind": [kind]},
                                             geometry=[smaller], crs=4490), path)
    with acting_as(Actor("cli", "planner@host")):
        import_recipe(db, Recipe(source=path, layer="grids",
                                 fields={"code": "code", "kind": "kind"}))
    db.flush()
    events = list_events(db, who="planner@host")
    actions = sorted((e.action, e.table_name) for e in events)
    # the grid holds demo facilities (lamps along its roads): one row says how many moved
    assert actions == [("import", "grids"), ("insert", "grid"), ("refresh_grids", "facility"),
                       ("retire", "grid")]
    retired = next(e for e in events if e.action == "retire")
    inserted = next(e for e in events if e.action == "insert")
    assert retired.row_key == code and retired.after == {"successors": [inserted.row_key]}
    assert inserted.after["redraws"] == code


def test_an_unchanged_import_writes_no_event(db, tmp_path):
    code, kind, wkb = db.execute(text(
        "select code, kind, ST_AsBinary(geom) from grid where valid_to is null "
        "order by code limit 1")).one()
    path = tmp_path / "g.gpkg"
    pyogrio.write_dataframe(gpd.GeoDataFrame({"code": [code], "kind": [kind]},
                                             geometry=[shapely.from_wkb(wkb)], crs=4490), path)
    before = db.execute(text("select count(*) from audit_event")).scalar()
    import_recipe(db, Recipe(source=path, layer="grids", fields={"code": "code", "kind": "kind"}))
    assert db.execute(text("select count(*) from audit_event")).scalar() == before


def test_cli_commands_act_as_the_operating_system_user_and_audit_lists_them(runner, committed):
    with committed() as session:
        session.execute(text("update grid set households = households + 1 where id = "
                             "(select min(id) from grid where valid_to is null)"))
    assert runner("assign").exit_code == 0
    listed = runner("audit", "--table", "building", "--limit", "1")
    assert listed.exit_code == 0, listed.output
    assert f"cli:{Actor.command_line().name} assign building 420111" in listed.output
    as_json = runner("audit", "--json", "--since", "2000-01-01", "--limit", "1")
    assert '"action": "assign"' in as_json.output
    bad = runner("audit", "--since", "yesterday")
    assert bad.exit_code != 0 and "--since 'yesterday'" in str(bad.exception)
