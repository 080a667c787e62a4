"""The suite and the shipped recipes run from a plain clone: nothing outside the repository."""
from __future__ import annotations

import re

import pytest

from gridmap.ingest import load_recipe
from tests.conftest import REPO

# The sibling folder of the repository holding the team's data, which a plain clone does not
# have: a path into it, written as text (``../NAME/…``) or as a pathlib join (``/ "NAME"``).
# The name is spelt in two halves so that this file does not match itself.
_NAME = "sha" + "red"
OUTSIDE = re.compile(rf"""\.\./{_NAME}\b|\b{_NAME}[/\\]|["']{_NAME}["']""")
TEXT_SUFFIXES = {".py", ".yaml", ".yml", ".json", ".md", ".txt", ".cfg", ".ini", ".toml",
                 ".csv", ".geojson"}


def _files(folder: str):
    return [p for p in sorted((REPO / folder).rglob("*"))
            if p.is_file() and p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts]


@pytest.mark.parametrize("folder", ["tests", "import"])
def test_no_file_refers_to_data_outside_the_repository(folder):
    offenders = [f"{p.relative_to(REPO)}:{n}: {line.strip()}"
                 for p in _files(folder)
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if OUTSIDE.search(line)]
    assert offenders == []


def test_pattern_catches_both_spellings():
    assert OUTSIDE.search('SHARED = REPO.parent / "sha' 'red" / "data"')
    assert OUTSIDE.search("source: ../../sha" "red/data/kotka/x.gpkg")
    assert not OUTSIDE.search("def test_building_on_shared_boundary():")


def test_every_shipped_recipe_reads_a_file_inside_the_repository():
    for path in sorted((REPO / "import").glob("*.yaml")):  # facility recipes: tests/facilities
        if path.name.startswith("facilities_"):
            continue
        recipe = load_recipe(path)
        assert recipe.source.is_relative_to(REPO), f"{path.name}: {recipe.source}"
        assert recipe.source.exists(), f"{path.name}: {recipe.source}"
