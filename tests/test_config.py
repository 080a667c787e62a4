"""Settings: every one documented (here and in the README) and checked at start."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, strategies as st

from gridmap.config import SETTINGS, load_settings, settings_table
from gridmap.errors import ConfigurationError
from tests.conftest import REPO


def test_every_setting_used_is_documented():
    documented = {s.name for s in SETTINGS}
    used = set()
    for folder in ("gridmap", "webapp", "layers", "migrations"):
        for path in (REPO / folder).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            used |= set(re.findall(r'settings\["(\w+)"\]', source))
            used |= set(re.findall(r'\["GRIDMAP"\]\["(\w+)"\]', source))
    assert used and used <= documented, used - documented
    assert all(s.help and s.expects for s in SETTINGS)


def test_readme_carries_the_settings_table():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert settings_table() in readme, "regenerate the README table: gridmap.config." \
                                       "settings_table()"


def test_environment_and_overrides():
    values = load_settings({"max_households": 600}, environ={"GRIDMAP_MIN_HOUSEHOLDS": "200"})
    assert values["min_households"] == 200 and values["max_households"] == 600
    with pytest.raises(KeyError, match="unknown setting"):
        load_settings({"colour": "red"})


@pytest.mark.parametrize("variable, value, expected", [
    ("GRIDMAP_MIN_HOUSEHOLDS", "many", "expected a whole number ≥ 1"),
    ("GRIDMAP_API_MAX_FEATURES", "abc", "expected a whole number ≥ 1"),
    ("GRIDMAP_API_MAX_FEATURES", "0", "expected a whole number ≥ 1"),
    ("GRIDMAP_API_MAX_FEATURES", "-5", "expected a whole number ≥ 1"),
    ("GRIDMAP_API_MAX_FEATURES", "²", "ASCII digits"),
    ("GRIDMAP_GAP_TOLERANCE_M2", "nan", "expected a number ≥ 0"),
    ("GRIDMAP_CONTAINMENT_TOLERANCE_M", "-0.5", "expected a number ≥ 0"),
    ("GRIDMAP_CODE_PROFILE", "gb", "expected one of cjt213, cjt349, gbt30428"),
    ("GRIDMAP_STATEMENT_TIMEOUT_MS", "0", "expected a whole number ≥ 1"),
    ("DATABASE_URL", "not a url", "expected postgresql://"),
    ("DATABASE_URL", "postgresql://u@h:port/db", "expected postgresql://"),
    ("DATABASE_URL", "postgresql://u@h:70000/db", "port 70000 is outside 1–65535"),
    ("DATABASE_URL", "sqlite:///gridmap.db", "'sqlite' is not PostgreSQL"),
    ("DATABASE_URL", "postgresql://u@h:5432", "no database name"),
    ("GRIDMAP_DATA_DIR", "/nonexistent/data", "no such folder"),
    ("GRIDMAP_DATA_DIR", str(REPO / "gridmap"), "has no reference/districts.csv"),
])
def test_bad_setting_is_one_line_naming_it(variable, value, expected):
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ={variable: value})
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"configuration error: {variable}=")
    assert expected in message


def test_bounds_must_be_ordered():
    with pytest.raises(ConfigurationError, match="expected min ≤ max"):
        load_settings(environ={"GRIDMAP_MIN_HOUSEHOLDS": "600"})


def test_overrides_are_checked_too():
    with pytest.raises(ConfigurationError, match="api_max_features=0"):
        load_settings({"api_max_features": 0})


def test_password_in_a_bad_url_is_not_shown():
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ={"DATABASE_URL": "mysql://gridmap:s3cret@db/gridmap"})
    assert "s3cret" not in str(caught.value) and "***" in str(caught.value)


@given(st.text(max_size=12))
def test_any_text_is_a_checked_value_or_a_configuration_error(raw):
    try:
        values = load_settings(environ={"GRIDMAP_API_MAX_FEATURES": raw})
    except ConfigurationError as exc:
        assert "GRIDMAP_API_MAX_FEATURES" in str(exc) and "\n" not in str(exc)
    else:
        assert isinstance(values["api_max_features"], int)
        assert values["api_max_features"] >= 1
        assert raw.strip() == "" or raw.strip().lstrip("+").isascii()
