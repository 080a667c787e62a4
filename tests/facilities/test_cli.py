"""``gridmap facility …`` as a user runs it: a real process, tab-separated lines, JSON for one
facility, and bad input one line on stderr, exit 2."""
from __future__ import annotations

import json
import os

from tests.facilities.conftest import HELSINKI_OSM, shifted_osm
from tests.test_cli import _run


def _gridmap(database_url, *args):
    return _run(*args, env={**os.environ, "DATABASE_URL": database_url})


def _one_line_error(done, text: str) -> None:
    assert done.returncode == 2 and done.stdout == "", done.stdout
    assert done.stderr.count("\n") == 1 and text in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_import_list_show_set_state_retire(database_url, tmp_path):
    source = shifted_osm(tmp_path)
    done = _gridmap(database_url, "facility", "import", str(source), "--district", "420111")
    assert done.returncode == 0, done.stderr
    assert "new facilities" in done.stdout and "0111 消火栓" in done.stdout
    again = _gridmap(database_url, "facility", "import", str(source), "--district", "420111")
    assert " 0 new facilities" in again.stdout.splitlines()[0]
    listed = _gridmap(database_url, "facility", "list", "--class", "0111", "--limit", "5")
    first = listed.stdout.splitlines()[0].split("\t")
    assert first[1:3] == ["0111", "消火栓"] and first[3] == "intact"
    changed = _gridmap(database_url, "facility", "set-state", first[0], "damaged",
                       "--comment", "漏水")
    assert changed.returncode == 0 and changed.stdout.split("\t")[3] == "damaged"
    shown = json.loads(_gridmap(database_url, "facility", "show", first[0]).stdout)
    assert shown["state"] == "damaged" and shown["class_name"]["en"] == "Fire hydrant"
    retired = _gridmap(database_url, "facility", "retire", first[0], "--comment", "拆除")
    assert retired.returncode == 0 and "RETIRED" in retired.stdout
    _one_line_error(_gridmap(database_url, "facility", "retire", first[0]), "retired")


def test_bad_input_is_one_line_and_exit_2(database_url, tmp_path):
    _one_line_error(_gridmap(database_url, "facility", "import", str(tmp_path / "no.osm"),
                             "--district", "420111"), "does not exist")
    _one_line_error(_gridmap(database_url, "facility", "import", str(HELSINKI_OSM),
                             "--district", "420111"), "outside China")
    bad = tmp_path / "bad.yaml"
    bad.write_text("classes: nope\nsource_name: x\n", encoding="utf-8")
    _one_line_error(_gridmap(database_url, "facility", "import", str(HELSINKI_OSM),
                             "--recipe", str(bad), "--district", "420111"), "classes")
    _one_line_error(_gridmap(database_url, "facility", "show", "123"), "16 digits")
    _one_line_error(_gridmap(database_url, "facility", "show", "4201110111999999"),
                    "does not exist")
