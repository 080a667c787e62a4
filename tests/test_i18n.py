"""Message catalogues: every message extracted has a zh_CN and an en translation, compiled and
exported; lazy messages render per locale; the CLI speaks its environment's language."""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridmap.i18n import LOCALES, Message, locale_from_environment, msg, translate, use_locale
from tests.conftest import REPO


def _translations_script():
    spec = importlib.util.spec_from_file_location("translations", REPO / "scripts" /
                                                  "translations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


translations = _translations_script()


@pytest.fixture(scope="module")
def extracted():
    return translations.extract()


def test_extraction_finds_every_kind_of_source(extracted):
    """Python (msg, N_, gettext), templates, the JavaScript and the layer YAML all reach the
    catalogue: one known message of each."""
    where = {m.id: {path for path, _ in m.locations} for m in extracted if m.id}
    assert "webapp/templates/map.html" in where["Tap a grid for its details"]
    assert any(p.startswith("webapp/static/js/") for p in where["Choose a district"])
    assert "layers/definitions/grids.yaml" in where["Grid code"]
    assert "gridmap/errors.py" in where["invalid input"]
    assert "layers/base.py" in where["bbox {raw!r}: expected four numbers "
                                     "minlon,minlat,maxlon,maxlat"]


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_complete_compiled_and_exported(extracted, locale):
    """No message missing, empty or fuzzy; the .mo and the JavaScript's JSON are made from the
    committed .po (run `make translations` when this fails)."""
    assert translations.problems(extracted, locale) == []


def test_problems_are_reported(extracted, tmp_path, monkeypatch):
    """The check fails on a message the catalogue lacks (the test above is not vacuous)."""
    extracted.add("a message nobody translated", locations=[("gridmap/new.py", 1)])
    found = translations.problems(extracted, "zh_CN")
    assert any("missing 'a message nobody translated'" in line for line in found)


def _pairs(locale: str):
    """(msgid, msgstr) of every entry and plural form of the locale's catalogue."""
    for m in translations.read_catalogue(locale):
        if not m.id:
            continue
        if isinstance(m.id, (list, tuple)):
            for i, string in enumerate(m.string):
                # A language of one plural form (zh) words every count as the plural does.
                yield m.id[min(i, len(m.id) - 1) if len(m.string) > 1 else -1], string
        else:
            yield m.id, m.string


def test_zh_cn_translations_are_chinese(extracted):
    """zh_CN holds translations, not copies of the English msgids (placeholders aside)."""
    words = [(i, s) for i, s in _pairs("zh_CN") if re.search(r"[A-Za-z]{3,}", re.sub(
        r"\{[^}]*\}|%\(\w+\)\w|GRIDMAP_\w+|[a-z]+=|--\w+", "", i))]
    english = [i for i, s in words if not re.search(r"[\u4e00-\u9fff]", s)]
    assert english == []


def test_placeholders_agree(extracted):
    """A translation uses exactly the fields of its msgid, so rendering never fails."""
    field = re.compile(r"\{(\w+)[^}]*\}|%\((\w+)\)")
    for locale in LOCALES:
        for msgid, string in _pairs(locale):
            assert set(field.findall(string)) == set(field.findall(msgid)), (locale, msgid)


def test_message_renders_per_locale():
    message = msg("bbox {raw!r}: expected four numbers minlon,minlat,maxlon,maxlat", raw="x")
    assert message.render("en") == "bbox 'x': expected four numbers minlon,minlat,maxlon,maxlat"
    assert message.render("zh_CN") == "bbox 'x'：应为四个数 minlon,minlat,maxlon,maxlat"
    assert str(message) == message.render("en")  # English unless a locale is in force
    with use_locale("zh_CN"):
        assert str(message) == message.render("zh_CN") and f"{message}" == str(message)
    assert isinstance(message, str) and message.startswith("bbox")  # still a str (English)


def test_nested_messages_render_in_the_same_locale():
    outer = msg("{part} {value!r} of {code!r}: expected {expected}", part=msg("street"),
                value="x", code="c", expected=msg("a non-zero 6-digit service-object code"))
    assert outer.render("zh_CN") == "'c' 中的街道 'x'：应为非零的 6 位服务对象代码"


def test_unknown_msgid_and_unknown_locale_fall_back_to_english():
    assert translate("not in any catalogue", "zh_CN") == "not in any catalogue"
    assert msg("invalid input").render("fr") == "invalid input"


@given(st.text(max_size=30), st.integers())
def test_rendering_never_fails(text, number):
    """Whatever the values, a message renders in every locale (values are never parsed as
    format strings)."""
    message = msg("parameter {name} given {count} times; expected it once", name=text,
                  count=number)
    for locale in LOCALES:
        assert text in message.render(locale) and str(number) in message.render(locale)


_NAMES = st.sampled_from(["", "C", "POSIX", "C.UTF-8", "zh_CN.UTF-8", "zh_TW.UTF-8", "zh",
                          "en_US.UTF-8", "en_GB", "fr_FR.UTF-8", "de_DE@euro"])


@given(st.fixed_dictionaries({}, optional={
    "LANGUAGE": st.lists(_NAMES, min_size=1, max_size=3).map(":".join),
    "LC_ALL": _NAMES, "LC_MESSAGES": _NAMES, "LANG": _NAMES}))
def test_cli_locale_follows_gettext(env):
    """GNU gettext's rule: the first set of LC_ALL, LC_MESSAGES, LANG; C/POSIX or none is
    English (LANGUAGE ignored); else LANGUAGE's first supported entry, else that locale."""
    category = next((env[k] for k in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(k)), "")
    found = locale_from_environment(env)
    assert found in LOCALES
    if category.split(".")[0] in ("", "C", "POSIX"):
        assert found == "en"
    else:
        wanted = [*env.get("LANGUAGE", "").split(":"), category]
        first = next((n[:2] for n in wanted if n[:2] in ("zh", "en")), "en")
        assert found == ("zh_CN" if first == "zh" else "en")


@pytest.mark.parametrize("lang, expected", [
    ("C.UTF-8", "gridmap: invalid grid code: '4201110020230X3' is not all digits (character 14 "
                "is 'X')"),
    ("zh_CN.UTF-8", "gridmap: 网格编码无效: '4201110020230X3' 不全是数字（第 14 个字符是 'X'）"),
])
def test_cli_error_in_the_environments_language(lang, expected):
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    result = subprocess.run([sys.executable, "-m", "gridmap.cli", "code", "parse",
                             "4201110020230X3"], env={**env, "LANG": lang},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == expected


def test_gridmap_does_not_import_flask():
    code = "import sys, gridmap.i18n, gridmap.errors, gridmap.cli; print('flask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=REPO)
    assert out.stdout.strip() == "False"
    assert Message  # the public name the lead's code imports


# -- messages of the plans and the validator, as a Chinese reader sees them ------------------

def _chinese_client(app):
    """A planner's browser that asks for Chinese (the suite's clients ask for English)."""
    from tests.conftest import sign_in
    from tests.webapp.signin import csrf_token

    client = app.test_client()
    client.environ_base.pop("HTTP_ACCEPT_LANGUAGE")
    sign_in(client, "t-planner")
    return client, {"X-CSRFToken": csrf_token(client), "Accept-Language": "zh-CN"}


def _features(database_url, community, merge_first_two=False):
    from tests.webapp.test_plans_api import _community_features

    return _community_features(database_url, community, merge_first_two=merge_first_two)


def test_a_stale_plan_is_refused_in_chinese(app, people, database_url):
    """The 409 of a plan drawn from grids someone changed since: title and detail in zh_CN,
    naming who changed them, when, and both versions."""
    from sqlalchemy import text

    from gridmap.db import session_scope

    community = people["t-community"].scopes[0][1]
    client, headers = _chinese_client(app)
    version = client.get(f"/api/plans?community={community}", headers=headers).get_json()
    drafted = client.post("/api/plans", json={
        "community": community, "base_version": version["version"],
        "features": _features(database_url, community)}, headers=headers)
    assert drafted.status_code == 201, drafted.get_json()
    plan = drafted.get_json()["id"]
    with session_scope(database_url) as session:  # another planner's change, meanwhile
        session.execute(text(
            "insert into community_plan_version as v values (:c, 1, 'person:张规划', now()) "
            "on conflict (community_code) do update set version = v.version + 1, "
            "changed_by = 'person:张规划', changed_at = now()"), {"c": community})
    stale = client.post(f"/api/plans/{plan}/apply", json={"comment": "晚了"}, headers=headers)
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["error"] == "冲突"
    base = version["version"]
    assert re.fullmatch(
        rf"方案 {plan} 是按社区 {community} 网格的第 {base} 版起草的，而 person:张规划 已于 "
        rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d \S* ?修改了这些网格（现为第 {base + 1} 版）；"
        rf"请按当前网格重新起草", body["detail"]), body["detail"]


def test_a_broken_plan_lists_its_findings_in_chinese(app, people, database_url):
    """The 422 of a draft that breaks rules lists the validator's findings in zh_CN too (they
    are joined as messages, not as their English text)."""
    community = people["t-community"].scopes[0][1]
    client, headers = _chinese_client(app)
    version = client.get(f"/api/plans?community={community}", headers=headers).get_json()
    merged = client.post("/api/plans", json={
        "community": community, "base_version": version["version"],
        "features": _features(database_url, community, merge_first_two=True)},
        headers=headers).get_json()
    findings = merged["comparison"]["violations"]
    assert findings and all(re.search(r"[\u4e00-\u9fff]", v["detail"]) for v in findings)
    refused = client.post(f"/api/plans/{merged['id']}/apply", json={"comment": "合并"},
                          headers=headers)
    assert refused.status_code == 422
    detail = refused.get_json()["detail"]
    assert detail.startswith(f"方案 {merged['id']} 违反 ") and "居住区网格" in detail, detail
    assert not re.search(r"households|expected", detail), detail


def _overlapping_grids(width_m: float):
    """Two 100 m grids of one community overlapping by ``width_m`` (EPSG:4547)."""
    import geopandas as gpd
    from shapely.geometry import box

    from gridmap.grid.validate import Snapshot

    epsg = 4547
    x, y = 500_000.0, 3_380_000.0
    outline = box(x - 10, y - 10, x + 300, y + 200)
    empty = gpd.GeoDataFrame({"code": []}, geometry=[], crs=epsg)
    return Snapshot(
        epsg=epsg, district=gpd.GeoDataFrame({"code": ["420111"]}, geometry=[outline], crs=epsg),
        streets=gpd.GeoDataFrame({"code": ["420111002"], "district_code": ["420111"]},
                                 geometry=[outline], crs=epsg),
        communities=gpd.GeoDataFrame({"code": ["420111002022"], "street_code": ["420111002"]},
                                     geometry=[outline], crs=epsg),
        grids=gpd.GeoDataFrame({"code": ["420111002022001", "420111002022002"],
                                "community_code": ["420111002022"] * 2},
                               geometry=[box(x, y, x + 100, y + 100),
                                         box(x + 100 - width_m, y, x + 200 - width_m, y + 100)],
                               crs=epsg),
        buildings=empty)


@given(st.floats(min_value=1, max_value=60))
def test_a_validator_finding_in_both_languages(width):
    """The overlap the validator finds reads as before in English and in Chinese in zh_CN,
    with the same area, whatever the overlap."""
    import shapely

    from gridmap.grid.validate import check_no_overlap

    snap = _overlapping_grids(width)
    (finding,) = check_no_overlap(snap)
    area = f"{shapely.intersection(*snap.grids.geometry.values).area:.1f}"
    assert finding.detail.render("en") == (
        f"grids 420111002022001 and 420111002022002 overlap by {area} m²")
    assert finding.detail.render("zh_CN") == (
        f"网格 420111002022001 与 420111002022002 重叠 {area} m²")
    with use_locale("zh_CN"):
        assert finding.as_dict()["detail"] == finding.detail.render("zh_CN")
    assert finding.as_dict()["detail"] == finding.detail  # English unless a locale is in force


@given(st.lists(st.text(max_size=10), max_size=5))
def test_joined_messages_render_each_in_the_locale(names):
    """A list of messages joined is still one message per locale (never the English join)."""
    from gridmap.i18n import joined

    parts = [msg("grid {code} was never issued", code=n) for n in names]
    together = joined(parts)
    assert together == "; ".join(parts)  # its str value: the English text
    for locale in LOCALES:
        assert together.render(locale) == "; ".join(p.render(locale) for p in parts)
    assert msg("{violations} (and {count} more)", violations=together, count=2).render(
        "zh_CN") == f"{together.render('zh_CN')}（另有 2 条）"


def test_partition_speaks_chinese(database_url):
    """``gridmap partition`` in a zh_CN environment: the summary, the table (its columns
    ordered by the translation) and the findings in Chinese; nothing is written."""
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    done = subprocess.run([sys.executable, "-m", "gridmap.cli", "--database-url", database_url,
                           "partition", "420111002015", "--grids", "2"],
                          env={**env, "LANG": "zh_CN.UTF-8"}, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 1, done.stderr  # two grids cannot hold every household
    lines = done.stdout.splitlines()
    assert lines[0].startswith("社区 420111002015：2 个居住区网格、"), lines[0]
    assert lines[1] == "  网格    户数 楼栋数    PP  类型"
    assert re.fullmatch(r"  \d\d +\d+ +\d+ +\d\.\d\d  (居住区|单位)", lines[2]), lines[2]
    assert any(re.fullmatch(r"  \[grid_count_bounds\] --grids 2：\d+ 户分成 2 个网格，无法都在 "
                            r"\d+–\d+ 户之间（这需要 \d+–\d+ 户）", line) for line in lines), lines
    assert not re.search(r"households|expected", done.stdout)
