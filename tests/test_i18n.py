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
                yield m.id[min(i, len(m.id) - 1)], string
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
