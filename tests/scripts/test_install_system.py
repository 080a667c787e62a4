"""scripts/install-system.sh groups and the make targets that use them: `make run` installs
neither Chromium nor the test extras (issue 5). Only --list and dry runs here: a test never
installs packages."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.scripts.conftest import run_script


def _packages(*groups: str) -> list[str]:
    done = run_script("install-system.sh", "--list", *groups)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_run_group_has_the_database_and_no_browser_or_gdal():
    run = _packages("run")
    assert {"postgresql", "python3-venv"} <= set(run)
    assert not {"chromium", "chromium-driver", "gdal-bin"} & set(run)
    # GDAL and QGIS read /ogcapi
    assert _packages("run", "test") == run + ["chromium", "gdal-bin", "python3-qgis",
                                              "qgis-providers"]
    bench = _packages("run", "bench")
    assert bench[:-1] == run + ["gdal-bin", "mosquitto", "mosquitto-clients"]
    assert "pgrouting" in bench[-1]


@pytest.mark.parametrize(("group", "suffix", "metapackage"), [
    ("run", "postgis-3", "postgresql-postgis"),
    ("bench", "pgrouting", "postgresql-pgrouting"),  # pgr_TSP, bench/route_order.py's peer
])
def test_postgis_and_pgrouting_follow_the_installed_postgresql(group, suffix, metapackage):
    installed = sorted(os.listdir("/usr/lib/postgresql"), key=int) if Path(
        "/usr/lib/postgresql").is_dir() else []
    found = [p for p in _packages(group) if p.endswith(suffix) or p == metapackage]
    assert found == ([f"postgresql-{installed[-1]}-{suffix}"] if installed else [metapackage])


@pytest.mark.parametrize(("args", "says"), [
    (["radio"], "gridmap: unknown package group 'radio'; expected one of: run test bench mqtt"),
    (["--list", "run", "tests"], "unknown package group 'tests'"),
    ([], "usage: install-system.sh [--list] GROUP..."),
])
def test_unknown_groups_get_one_line_and_status_2(args, says):
    done = run_script("install-system.sh", *args)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and says in done.stderr


def _dry_run(target: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    done = subprocess.run(["make", "-n", "-B", target], cwd=REPO, env=env, capture_output=True,
                          text=True, check=True)
    return done.stdout


def test_mqtt_group_is_mosquitto():
    assert _packages("mqtt") == ["mosquitto", "mosquitto-clients"]


@pytest.mark.parametrize(("target", "groups", "extras"), [
    ("run", ["run", "mqtt"], "'.'"), ("test", ["run test", "mqtt"], "'.[test]'"),
    ("bench", ["run bench"], None),
])
def test_make_targets_install_only_their_groups(target, groups, extras):
    commands = _dry_run(target)
    # mqtt only when no broker answers: scripts/ensure-broker.sh --check || install-system
    assert re.findall(r"scripts/install-system\.sh (.*)", commands) == groups
    assert ("ensure-broker.sh --check || bash scripts/install-system.sh mqtt" in commands) \
        == ("mqtt" in groups)
    if extras:
        assert re.findall(r"pip install --quiet -e (\S+)", commands) == [extras]
