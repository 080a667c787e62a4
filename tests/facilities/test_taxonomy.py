"""The component taxonomy as data: the shipped file loads, a reload changes nothing, a bad
file is refused naming the line."""
from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from gridmap.config import REPO_ROOT
from gridmap.errors import InvalidInput
from gridmap.facilities.taxonomy import load_components
from gridmap.incidents.taxonomy import load_taxonomy
from gridmap.models.facility import ComponentClass

TAXONOMY = REPO_ROOT / "data" / "taxonomy"


def test_the_shipped_taxonomy_covers_the_standard_majors(db):
    counts = load_components(db, TAXONOMY)
    assert counts["changed"] == 0 and counts["component_classes"] >= 40  # the demo loaded it
    majors = dict(db.execute(select(func.substr(ComponentClass.code, 1, 2),
                                    ComponentClass.major_en).distinct()).all())
    assert majors == {"01": "Public utilities", "02": "Roads and traffic",
                      "03": "City appearance", "04": "Parks and greenery",
                      "05": "Housing and land", "06": "Other facilities"}
    names = set(db.execute(select(ComponentClass.name_en)).scalars())
    assert {"Fire hydrant", "Street lamp", "Surveillance camera", "Bus stop", "Traffic signal",
            "Waste bin", "Public toilet", "Bench", "Street tree",
            "Water supply manhole cover"} <= names


def _copy(tmp_path):
    for name in ("departments.csv", "event_classes.csv", "components.csv"):
        shutil.copy(TAXONOMY / name, tmp_path / name)
    return tmp_path / "components.csv"


@pytest.mark.parametrize("line, problem", [
    ("01,00,公用设施,Public utilities,x,x,water,30", "neither 00"),
    ("01,1,公用设施,Public utilities,x,x,water,30", "2 digits each"),
    ("01,99,公用设施,Public utilities,x,x,nobody,30", "not in departments.csv"),
    ("01,99,公用设施,Public utilities,x,x,water,0", "inspection_days"),
    ("01,99,公用设施,Public utilities,,x,water,30", "name_zh"),
    ("01,01,公用设施,Public utilities,x,x,water,30", "0101 appears more than once"),
])
def test_a_bad_row_is_refused_naming_its_line(db, tmp_path, line, problem):
    path = _copy(tmp_path)
    rows = path.read_text(encoding="utf-8")
    path.write_text(rows + line + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=problem):
        load_components(db, tmp_path)


def test_a_city_replaces_the_file_and_reloads(db, tmp_path):
    path = _copy(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("消火栓", "市政消火栓"),
                    encoding="utf-8")
    load_taxonomy(db, tmp_path)
    assert load_components(db, tmp_path)["changed"] == 1
    assert db.get(ComponentClass, "0111").name_zh == "市政消火栓"
    (tmp_path / "components.csv").unlink()
    assert load_components(db, tmp_path) is None  # optional: a city may have none yet


def test_missing_columns_are_named(db, tmp_path):
    path = _copy(tmp_path)
    path.write_text("major,minor,name_zh\n01,01,x\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="columns .*major_zh.* are missing"):
        load_components(db, tmp_path)
