"""Device types and alarm classes are data: the shipped files load, and a broken file is a
clear InvalidInput (never a traceback) naming the file."""
from __future__ import annotations

import pytest

from gridmap.devices.taxonomy import alarm_classes, device_types
from gridmap.errors import InvalidInput
from tests.conftest import REPO


def test_the_shipped_files_load():
    types = device_types(str(REPO / "data"))
    alarms = alarm_classes(str(REPO / "data"))
    assert "smoke_sensor" in types and types["smoke_sensor"].name_zh
    assert alarms["smoke"].event_class == "0506"
    assert {"tamper", "low_battery", "offline"} <= set(alarms)


@pytest.mark.parametrize("content, expected", [
    (b"code,name_zh\nsmoke_sensor,x\n", "columns name_en are missing"),
    ("code,name_zh,name_en\nsmoke_sensor,烟感,smoke\n".encode("gb18030"), "is not UTF-8"),
    (b"code,name_zh,name_en\nSmoke Sensor,x,y\n", "line 2"),
    (b"code,name_zh,name_en\na,x,y\na,x,y\n", "line 3"),
])
def test_a_broken_types_file_is_refused_with_its_reason(tmp_path, content, expected):
    (tmp_path / "taxonomy").mkdir()
    (tmp_path / "taxonomy" / "device_types.csv").write_bytes(content)
    with pytest.raises(InvalidInput, match=expected):
        device_types(str(tmp_path))


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="cannot be read"):
        alarm_classes(str(tmp_path))
