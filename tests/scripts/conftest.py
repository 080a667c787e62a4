"""Helpers for the tests of ``scripts/``: the stdlib-only helper scripts loaded as modules, the
scripts run as subprocesses, and a snapshot of every local cluster's access files so that a test
can prove it changed nothing."""
from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SCRIPTS = REPO / "scripts"


def load_script(name: str):
    """Import ``scripts/<name>.py`` (they import each other by plain name)."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    return importlib.import_module(name)


def run_script(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``bash scripts/<args[0]> args[1:]``; text output, never raises on exit status."""
    return subprocess.run(["bash", str(SCRIPTS / args[0]), *args[1:]], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)


def access_files_snapshot() -> dict[str, tuple[bytes, int]]:
    """Content and modification time of every local cluster's pg_hba.conf and pg_ident.conf."""
    files = sorted(Path("/etc/postgresql").glob("*/*/pg_hba.conf")) + sorted(
        Path("/etc/postgresql").glob("*/*/pg_ident.conf"))
    return {str(f): (f.read_bytes(), f.stat().st_mtime_ns) for f in files}


def clusters() -> str:
    """``pg_lsclusters`` output (empty when postgresql-common is not installed)."""
    try:
        return subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
    except FileNotFoundError:
        return ""
