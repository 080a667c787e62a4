"""Every setting read anywhere is documented in gridmap.config.SETTINGS."""
from __future__ import annotations

import re

import pytest

from gridmap.config import SETTINGS, load_settings
from tests.conftest import REPO


def test_every_setting_used_is_documented():
    documented = {s.name for s in SETTINGS}
    used = set()
    for path in list((REPO / "gridmap").rglob("*.py")) + list((REPO / "webapp").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'settings\["(\w+)"\]', source))
        used |= set(re.findall(r'\["GRIDMAP"\]\["(\w+)"\]', source))
    assert used and used <= documented, used - documented
    assert all(s.help for s in SETTINGS)


def test_environment_and_overrides():
    values = load_settings({"max_households": 600}, environ={"GRIDMAP_MIN_HOUSEHOLDS": "200"})
    assert values["min_households"] == 200 and values["max_households"] == 600
    with pytest.raises(ValueError, match="expected an integer"):
        load_settings(environ={"GRIDMAP_MIN_HOUSEHOLDS": "many"})
    with pytest.raises(KeyError, match="unknown setting"):
        load_settings({"colour": "red"})
