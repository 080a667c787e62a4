"""The write side of imports: exact coordinates, building identity, duplicates, districts,
the grid redraw path, hierarchy checks both ways, codes issued for uncoded grids.

Codes of the demo are read from the database, never hard-coded, so the tests follow the demo.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from shapely.geometry import LineString, Polygon, box
from shapely.ops import split
from sqlalchemy import text

from gridmap.errors import ImportFailed
from gridmap.grid.validate import validate_district
from gridmap.ingest import Recipe, import_recipe

DEMO = "420111"
OTHER = "420106"  # 武昌区: a second district, drawn west of the demo's extent
OTHER_BOX = (114.300123456789, 30.530987654321, 114.320456789123, 30.550321987654)
FREE_LON, FREE_LAT = 114.3871, 30.5150  # demo ground with no building


def write(tmp_path: Path, filename: str, geoms, crs=4490, **columns) -> Path:
    path = tmp_path / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(gpd.GeoDataFrame(columns, geometry=list(geoms), crs=crs), path)
    return path


def area_recipe(path: Path, layer: str) -> Recipe:
    return Recipe(source=path, layer=layer, fields={"code": "code", "name": "name"})


def grid_recipe(path: Path, coded: bool = True) -> Recipe:
    fields = {"kind": "kind"} | ({"code": "code"} if coded else {})
    return Recipe(source=path, layer="grids", fields=fields)


def buildings_recipe(path: Path, district: str, **kw) -> Recipe:
    return Recipe(source=path, layer="buildings", district=district,
                  fields={"source_id": "bid", "households": "hh"}, **kw)


def boxes(lon: float, lat: float, n: int = 3):
    return [box(lon + i * 0.0003, lat, lon + i * 0.0003 + 0.0002, lat + 0.0002)
            for i in range(n)]


@pytest.fixture()
def other_district(db, tmp_path):
    """District 420106 with one street and one community, all three the same polygon with a
    slanted edge, and nothing else."""
    x0, y0, x1, y1 = OTHER_BOX
    district = Polygon([(x0, y0), (x1, y0), (x1, y1 - 0.003123456789), (x0, y1)])
    import_recipe(db, area_recipe(write(tmp_path, "d.gpkg", [district], code=[OTHER],
                                        name=["武昌区"]), "districts"))
    import_recipe(db, area_recipe(write(tmp_path, "s.gpkg", [district], code=[OTHER + "001"],
                                        name=["测试街道"]), "streets"))
    import_recipe(db, area_recipe(write(tmp_path, "c.gpkg", [district],
                                        code=[OTHER + "001001"], name=["测试社区"]),
                                  "communities"))
    return district


def community_grids(db, community: str):
    rows = db.execute(text("select code, kind, ST_AsBinary(geom) as wkb from grid "
                           "where community_code = :c and valid_to is null order by code"),
                      {"c": community}).all()
    return [(r.code, r.kind, shapely.from_wkb(r.wkb)) for r in rows]


def stale_totals(db) -> int:
    return db.execute(text("""select count(*) from grid g cross join lateral
        (select coalesce(sum(b.households), 0) as hh, count(b.id) as n from building b
         where b.grid_id = g.id) t
        where g.valid_to is null and (g.households, g.building_count) is distinct from
        (t.hh, t.n)""")).scalar()


# -- precision ---------------------------------------------------------------------------------

def test_grids_nesting_exactly_are_stored_exactly_and_accepted(db, tmp_path, other_district):
    """Grids cut from a community at full precision nest in it; WKT rounding to 6 decimals
    made such cuts stick out of the community (issue: 13 of 52 grids rejected)."""
    cut = LineString([(114.310987654321, 30.5), (114.311123456789, 30.6)])
    halves = sorted(split(other_district, cut).geoms, key=lambda g: g.centroid.x)
    path = write(tmp_path, "g.gpkg", halves, kind=["unit", "unit"])  # no household bounds
    report = import_recipe(db, grid_recipe(path, coded=False))
    assert report.inserted == 2
    stored = community_grids(db, OTHER + "001001")
    for (_, _, geom), half in zip(stored, halves):
        assert shapely.equals_exact(geom, shapely.multipolygons([half]), tolerance=0)
    assert validate_district(db, OTHER, tolerance_m=0.5, min_area_m2=1.0) == []


# -- building identity -------------------------------------------------------------------------

def test_same_file_name_in_two_districts_keeps_both(db, tmp_path, other_district):
    a = write(tmp_path, "a/buildings.gpkg", boxes(FREE_LON, FREE_LAT), bid=["1", "2", "3"],
              hh=[10, 20, 30])
    b = write(tmp_path, "b/buildings.gpkg", boxes(114.305, 30.535), bid=["1", "2", "3"],
              hh=[1, 2, 3])
    assert import_recipe(db, buildings_recipe(a, DEMO)).inserted == 3
    assert import_recipe(db, buildings_recipe(b, OTHER)).inserted == 3
    counts = dict(db.execute(text("select district_code, count(*) from building where "
                                  "source like 'district-%' group by 1")).all())
    assert counts == {DEMO: 3, OTHER: 3}


def test_id_of_another_district_is_refused(db, tmp_path, other_district):
    a = write(tmp_path, "a.gpkg", boxes(FREE_LON, FREE_LAT), bid=["1", "2", "3"], hh=[1, 2, 3])
    b = write(tmp_path, "b.gpkg", boxes(114.305, 30.535), bid=["1", "2", "3"], hh=[1, 2, 3])
    import_recipe(db, buildings_recipe(a, DEMO, source_name="survey"))
    with pytest.raises(ImportFailed, match=r"3 feature\(s\) reuse ids .* feature 1 "
                                           r"\(source_id=1\) is building survey:1 of district "
                                           r"420111 already"):
        import_recipe(db, buildings_recipe(b, OTHER, source_name="survey"))


def test_far_move_is_refused_unless_allowed(db, tmp_path):
    a = write(tmp_path, "a.gpkg", boxes(FREE_LON, FREE_LAT), bid=["1", "2", "3"], hh=[1, 2, 3])
    import_recipe(db, buildings_recipe(a, DEMO, source_name="survey"))
    moved = boxes(FREE_LON, FREE_LAT)
    moved[0] = shapely.affinity.translate(moved[0], yoff=-0.003)  # ~330 m south
    b = write(tmp_path, "b.gpkg", moved, bid=["1", "2", "3"], hh=[1, 2, 3])
    with pytest.raises(ImportFailed, match=r"would move building survey:1 \d+ m away"):
        import_recipe(db, buildings_recipe(b, DEMO, source_name="survey"))
    report = import_recipe(db, buildings_recipe(b, DEMO, source_name="survey",
                                                allow_move=True))
    assert (report.inserted, report.updated) == (0, 1)


def test_small_move_is_an_update(db, tmp_path):
    a = write(tmp_path, "a.gpkg", boxes(FREE_LON, FREE_LAT), bid=["1", "2", "3"], hh=[1, 2, 3])
    import_recipe(db, buildings_recipe(a, DEMO, source_name="survey"))
    nudged = [shapely.affinity.translate(g, xoff=0.00001) for g in boxes(FREE_LON, FREE_LAT)]
    b = write(tmp_path, "b.gpkg", nudged, bid=["1", "2", "3"], hh=[1, 2, 3])
    assert import_recipe(db, buildings_recipe(b, DEMO, source_name="survey")).updated == 3


# -- duplicates --------------------------------------------------------------------------------

def test_duplicates_of_stored_buildings_refused_skipped_or_kept(db, tmp_path):
    path = write(tmp_path, "a.gpkg", boxes(FREE_LON, FREE_LAT), bid=["1", "2", "3"],
                 hh=[10, 20, 30])
    import_recipe(db, buildings_recipe(path, DEMO, source_name="first"))
    with pytest.raises(ImportFailed, match=r"3 footprint\(s\) duplicate buildings already "
                                           r"stored .* covers 100% of building first:1"):
        import_recipe(db, buildings_recipe(path, DEMO, source_name="second"))
    skipped = import_recipe(db, buildings_recipe(path, DEMO, source_name="second",
                                                 duplicates="skip"))
    assert (skipped.inserted, skipped.skipped) == (0, 3)
    assert stale_totals(db) == 0
    kept = import_recipe(db, buildings_recipe(path, DEMO, source_name="second",
                                              duplicates="keep"))
    assert kept.inserted == 3
    found = [v for v in validate_district(db, DEMO, tolerance_m=0.5, min_area_m2=1.0)
             if v.check == "buildings_overlap"]
    assert {v.detail.split(" overlap")[0] for v in found} == {
        f"buildings first:{i} and second:{i}" for i in "123"}


def test_duplicates_within_a_file(db, tmp_path):
    geoms = boxes(FREE_LON, FREE_LAT, 2)
    geoms.append(shapely.affinity.scale(geoms[0], 0.9, 0.9))  # a building:part-like copy
    path = write(tmp_path, "a.gpkg", geoms, bid=["1", "2", "3"], hh=[1, 2, 3])
    with pytest.raises(ImportFailed, match=r"1 pair\(s\) of footprints in the file .* "
                                           r"feature 1 \(source_id=1\) and feature 3"):
        import_recipe(db, buildings_recipe(path, DEMO))
    report = import_recipe(db, buildings_recipe(path, DEMO, duplicates="skip"))
    assert (report.inserted, report.skipped) == (2, 1)


def test_adjacent_buildings_sharing_a_sliver_are_not_duplicates(db, tmp_path):
    a = box(FREE_LON, FREE_LAT, FREE_LON + 0.0002, FREE_LAT + 0.0002)
    b = box(FREE_LON + 0.000199, FREE_LAT, FREE_LON + 0.0004, FREE_LAT + 0.0002)
    path = write(tmp_path, "a.gpkg", [a, b], bid=["1", "2"], hh=[1, 2])
    assert import_recipe(db, buildings_recipe(path, DEMO)).inserted == 2


# -- districts ---------------------------------------------------------------------------------

def test_buildings_outside_their_district_are_refused(db, tmp_path, other_district):
    geoms = boxes(FREE_LON, FREE_LAT, 2) + boxes(114.305, 30.535, 1)
    path = write(tmp_path, "a.gpkg", geoms, bid=["1", "2", "x"], hh=[1, 2, 3])
    with pytest.raises(ImportFailed, match=r"1 of 3 buildings lie outside district 420111 .* "
                                           r"feature 3 \(source_id=x\) at 114\.30\d+, "
                                           r"30\.53\d+, in district 420106"):
        import_recipe(db, buildings_recipe(path, DEMO))
    assert db.execute(text("select count(*) from building where source like 'district-%'")
                      ).scalar() == 0


def test_overlapping_district_is_refused(db, tmp_path):
    demo = db.execute(text("select ST_AsBinary(geom) from district where code = :c"),
                      {"c": DEMO}).scalar()
    shifted = shapely.affinity.translate(shapely.from_wkb(demo), xoff=0.01)
    path = write(tmp_path, "d.gpkg", [shifted], code=[OTHER], name=["武昌区"])
    with pytest.raises(ImportFailed, match=r"overlaps district 420111 by \d+\.\d m²"):
        import_recipe(db, area_recipe(path, "districts"))


def test_district_shrunk_below_its_streets_is_refused(db, tmp_path):
    demo = db.execute(text("select ST_AsBinary(geom) from district where code = :c"),
                      {"c": DEMO}).scalar()
    smaller = shapely.from_wkb(demo).buffer(-0.002)
    path = write(tmp_path, "d.gpkg", [smaller], code=[DEMO], name=["洪山区"])
    with pytest.raises(ImportFailed, match=r"street \d{9} extends \d+\.\d m² outside its "
                                           r"parent 420111"):
        import_recipe(db, area_recipe(path, "districts"))


# -- grids -------------------------------------------------------------------------------------

def a_community(db) -> str:
    return db.execute(text("select community_code from grid where valid_to is null "
                           "group by 1 having count(*) >= 3 order by 1 limit 1")).scalar()


def test_identical_grid_reimport_changes_nothing(db, tmp_path):
    community = a_community(db)
    grids = community_grids(db, community)
    before = db.execute(text("select code, version from grid order by code")).all()
    registry = db.execute(text("select count(*) from code_registry")).scalar()
    path = write(tmp_path, "g.gpkg", [g for _, _, g in grids], code=[c for c, _, _ in grids],
                 kind=[k for _, k, _ in grids])
    report = import_recipe(db, grid_recipe(path))
    assert (report.inserted, report.updated, report.retired) == (0, 0, 0)
    uncoded = import_recipe(db, grid_recipe(path, coded=False))
    assert (uncoded.inserted, uncoded.updated, uncoded.retired) == (0, 0, 0)
    assert db.execute(text("select code, version from grid order by code")).all() == before
    assert db.execute(text("select count(*) from code_registry")).scalar() == registry


def test_merging_two_grids_retires_both_with_lineage_and_reassigns(db, tmp_path):
    community = a_community(db)
    grids = community_grids(db, community)
    (code_a, kind, a), (code_b, _, b) = grids[0], grids[1]
    merged = shapely.union_all([a, b])
    rest = grids[2:]
    households = db.execute(text("select sum(households) from grid where code in (:a, :b)"),
                            {"a": code_a, "b": code_b}).scalar()
    path = write(tmp_path, "plan.gpkg", [merged] + [g for _, _, g in rest],
                 kind=[kind] + [k for _, k, _ in rest])
    report = import_recipe(db, grid_recipe(path, coded=False))
    assert (report.inserted, report.retired) == (1, 2)
    new = db.execute(text("select code, households from grid where community_code = :c "
                          "and valid_to is null and not (code = any(:keep))"),
                     {"c": community, "keep": [c for c, _, _ in rest]}).all()
    assert len(new) == 1 and new[0].households == households
    lineage = set(db.execute(text("select parent_code, child_code from grid_lineage")).all())
    assert {(code_a, new[0].code), (code_b, new[0].code)} <= lineage
    status = dict(db.execute(text("select code, status from code_registry where code in "
                                  "(:a, :b)"), {"a": code_a, "b": code_b}).all())
    assert status == {code_a: "retired", code_b: "retired"}
    assert db.execute(text("select count(*) from building b join grid g on g.id = b.grid_id "
                           "where g.valid_to is not null")).scalar() == 0
    assert stale_totals(db) == 0


def test_reshaped_grid_overlapping_its_sibling_is_refused(db, tmp_path):
    community = a_community(db)
    (code_a, kind, a), (_, _, b) = community_grids(db, community)[:2]
    path = write(tmp_path, "g.gpkg", [shapely.union_all([a, b])], code=[code_a], kind=[kind])
    with pytest.raises(ImportFailed, match=r"overlap by \d+\.\d m²"):
        import_recipe(db, grid_recipe(path))
    assert db.execute(text("select valid_to from grid where code = :c"), {"c": code_a}
                      ).scalar() is None


def test_grid_code_of_another_profile_is_refused(db, tmp_path):
    community = a_community(db)
    _, kind, a = community_grids(db, community)[0]
    code14 = community + "99"  # CJ/T 213: 2-digit sequence, in a 15-digit district
    path = write(tmp_path, "g.gpkg", [a], code=[code14], kind=[kind])
    with pytest.raises(ImportFailed, match=r"profile gbt30428"):
        import_recipe(db, grid_recipe(path))


def test_uncoded_grids_get_codes_west_to_east_north_to_south(db, tmp_path, other_district):
    x0, y0, x1, y1 = OTHER_BOX
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    quarters = [shapely.intersection(other_district, box(*q)) for q in (
        (xm, y0, x1, ym), (x0, ym, xm, y1), (x0, y0, xm, ym), (xm, ym, x1, y1))]
    path = write(tmp_path, "g.gpkg", quarters, kind=["residential"] * 4)
    import_recipe(db, grid_recipe(path, coded=False))
    codes = {c: g for c, _, g in community_grids(db, OTHER + "001001")}
    order = sorted(codes, key=lambda c: c)
    centres = [(codes[c].centroid.x, codes[c].centroid.y) for c in order]
    # 001 north-west, 002 north-east, 003 south-west, 004 south-east.
    assert centres[0][1] > ym and centres[1][1] > ym and centres[2][1] < ym
    assert centres[0][0] < centres[1][0] and centres[2][0] < centres[3][0]
    assert order == [f"{OTHER}001001{n:03d}" for n in range(1, 5)]


def test_uncoded_grid_outside_every_community_is_refused(db, tmp_path):
    path = write(tmp_path, "g.gpkg", [box(100.0, 30.0, 100.001, 30.001)], kind=["unit"])
    with pytest.raises(ImportFailed, match="lies in no loaded community"):
        import_recipe(db, grid_recipe(path, coded=False))


# -- totals ------------------------------------------------------------------------------------

def test_assign_command_repairs_stale_totals(runner, committed):
    with committed() as session:
        session.execute(text("update grid set households = households + 7 where id = "
                             "(select min(id) from grid where valid_to is null)"))
    result = runner("assign", "--district", DEMO)
    assert result.exit_code == 0, result.output
    assert "buildings in a grid" in result.output
    with committed() as session:
        assert stale_totals(session) == 0


# -- progress ----------------------------------------------------------------------------------

class Recorder:
    def __init__(self):
        self.stages, self.done = [], {}

    def stage(self, name, total=None):
        self.stages.append((name, total))
        self.done[name] = 0

    def advance(self, amount=1):
        self.done[self.stages[-1][0]] += amount


def test_building_import_reports_each_stage(db, tmp_path):
    path = write(tmp_path, "a.gpkg", boxes(FREE_LON, FREE_LAT), bid=["1", "2", "3"],
                 hh=[1, 2, 3])
    progress = Recorder()
    import_recipe(db, buildings_recipe(path, DEMO), progress=progress)
    names = [name for name, _ in progress.stages]
    assert names[0] == "reading a.gpkg" and names[-1] == "refreshing totals"
    assert ("staging", 3) in progress.stages and progress.done["staging"] == 3


def test_terminal_progress_draws_on_stderr(capsys):
    from gridmap.progress import TerminalProgress

    with TerminalProgress(enabled=True) as bar:
        bar.stage("staging", total=10)
        bar.advance(10)
    assert "staging" in capsys.readouterr().err


def test_cli_duplicates_and_allow_move_options(runner, tmp_path):
    path = write(tmp_path, "a.gpkg", boxes(FREE_LON, FREE_LAT - 0.0005), bid=["1", "2", "3"],
                 hh=[1, 2, 3])
    args = ["import", str(path), "--layer", "buildings", "--district", DEMO,
            "--field", "source_id=bid", "--field", "households=hh"]
    try:
        assert runner(*args, "--source-name", "cli-a").exit_code == 0
        refused = runner(*args, "--source-name", "cli-b")
        assert "duplicate buildings already stored" in str(refused.exception)
        skipped = runner(*args, "--source-name", "cli-b", "--duplicates", "skip")
        assert skipped.exit_code == 0 and "3 skipped" in skipped.output
        moved = write(tmp_path, "b.gpkg", boxes(114.3837, 30.5110), bid=["1", "2", "3"],
                      hh=[1, 2, 3])
        args[1] = str(moved)
        assert "m away from its stored footprint" in str(
            runner(*args, "--source-name", "cli-a").exception)
        assert runner(*args, "--source-name", "cli-a", "--allow-move").exit_code == 0
    finally:
        from gridmap.db import session_scope
        from tests.conftest import TEST_URL
        with session_scope(TEST_URL) as session:
            session.execute(text("delete from building where source like 'cli-%'"))
            from gridmap.grid.assign import refresh_grid_totals
            refresh_grid_totals(session)


def test_long_edges_keep_their_place_when_projected(db, tmp_path):
    """A 16 km district and three streets side by side: the district's long edges are
    straight in longitude/latitude, the streets' shorter edges lie on them. Projecting only the
    vertices bowed the district's edges by ~3 m and put the streets "outside" their district
    (4,968 m² and 12,162 m² in the import benchmark's district)."""
    x0, y0, x1, y1 = 114.10, 30.44, 114.27, 30.56  # west of the demo district
    cuts = [x0, x0 + (x1 - x0) / 3, x0 + 2 * (x1 - x0) / 3, x1]
    import_recipe(db, area_recipe(write(tmp_path, "d.gpkg", [box(x0, y0, x1, y1)],
                                        code=[OTHER], name=["武昌区"]), "districts"))
    streets = [box(a, y0, b, y1) for a, b in zip(cuts, cuts[1:])]
    report = import_recipe(db, area_recipe(write(
        tmp_path, "s.gpkg", streets, code=[f"{OTHER}00{k}" for k in (1, 2, 3)],
        name=["一街", "二街", "三街"]), "streets"))
    assert report.inserted == 3


def test_geojson_missing_field_lists_the_file_columns(db, tmp_path):
    """GeoJSON is read without a separate look at its layer first; a field the file lacks is
    still named together with every column the file has."""
    path = write(tmp_path, "a.geojson", boxes(FREE_LON, FREE_LAT), crs=4326,
                 bid=["1", "2", "3"], hh=[1, 2, 3])
    recipe = Recipe(source=path, layer="buildings", district=DEMO,
                    fields={"source_id": "bid", "households": "households"})
    with pytest.raises(ImportFailed, match=r"field 'households' \(mapped to households\) is "
                                           r"missing; the source has bid, hh"):
        import_recipe(db, recipe)


def test_buildings_of_another_loaded_district_are_written_there_when_asked(db, tmp_path,
                                                                          other_district):
    geoms = boxes(FREE_LON, FREE_LAT, 2) + boxes(114.305, 30.535, 1)
    path = write(tmp_path, "a.gpkg", geoms, bid=["1", "2", "x"], hh=[1, 2, 3])
    report = import_recipe(db, buildings_recipe(path, DEMO, outside_district="assign"))
    assert report.inserted == 3
    assert any("1 building(s) lie in district 420106" in n for n in report.notes)
    rows = dict(db.execute(text("select source_id, district_code from building "
                                "where source = 'district-420111'")).all())
    assert rows == {"1": DEMO, "2": DEMO, "x": OTHER}  # one issuer of ids, two districts
    again = import_recipe(db, buildings_recipe(path, DEMO, outside_district="assign"))
    assert (again.inserted, again.updated) == (0, 0)


def test_buildings_in_no_loaded_district_are_refused_even_when_assigning(db, tmp_path):
    geoms = boxes(FREE_LON, FREE_LAT, 1) + boxes(100.0, 30.0, 1)
    path = write(tmp_path, "a.gpkg", geoms, bid=["1", "far"], hh=[1, 2])
    with pytest.raises(ImportFailed, match=r"1 of 2 buildings lie outside district 420111 .* "
                                           r"and every loaded district; first feature 2 "
                                           r"\(source_id=far\)"):
        import_recipe(db, buildings_recipe(path, DEMO, outside_district="assign"))


def test_demo_reports_its_stages(db):
    from gridmap.demo import load_demo

    progress = Recorder()
    load_demo(db, progress=progress)
    names = [name for name, _ in progress.stages]
    for stage in ("official divisions", "reading demo_plan.gpkg", "grids of the demo plan",
                  "reading wuhan_guanggu.gpkg", "assigning buildings to grids"):
        assert stage in names


def test_a_twenty_digit_code_in_a_fifteen_digit_district_says_so(db, tmp_path):
    community = a_community(db)
    _, kind, a = community_grids(db, community)[0]
    code20 = community + "00000001"  # 20 digits, read as CJ/T 349 (a 6-digit service prefix)
    path = write(tmp_path, "g.gpkg", [a], code=[code20], kind=[kind])
    with pytest.raises(ImportFailed, match=r"district 420111 uses profile gbt30428 \(15 digits\)"
                                           r", this code has 20"):
        import_recipe(db, grid_recipe(path))
