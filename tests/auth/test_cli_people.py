"""gridmap user … and gridmap apikey … through the real CLI and database."""
from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import text

from gridmap.auth.keys import find_key

PASSWORD = "correct horse battery staple"


@pytest.fixture()
def grid_code(committed):
    with committed() as session:
        return session.execute(text("select code from grid where valid_to is null "
                                    "order by code limit 1")).scalar()


@pytest.fixture()
def cleanup(committed):
    yield
    with committed() as session:
        session.execute(text("delete from person where login like 'cli-%'"))
        session.execute(text("delete from api_key where agency like 'cli-%'"))


def test_user_add_list_disable_reset(runner, grid_code, cleanup):
    added = runner("user", "add", "cli-worker", "--role", "grid_worker", "--grid", grid_code,
                   "--display-name", "王五", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert added.exit_code == 0, added.output
    assert f"added cli-worker (grid_worker: grid {grid_code})" in added.output
    listed = runner("user", "list")
    assert f"cli-worker\tgrid_worker\tactive\tgrid:{grid_code}\t王五" in listed.output
    assert runner("user", "disable", "cli-worker").exit_code == 0
    assert "cli-worker\tgrid_worker\tdisabled" in runner("user", "list").output
    reset = runner("user", "reset-password", "cli-worker", "--password-stdin",
                   input="another long passphrase\n")
    assert reset.exit_code == 0, reset.output
    audit = runner("audit", "--table", "person").output
    assert "insert person cli-worker" in audit and "reset_password person cli-worker" in audit


def test_apikey_add_prints_the_key_once_on_the_last_line(runner, committed, cleanup):
    added = runner("apikey", "add", "cli-agency", "--collections", "grids,buildings")
    assert added.exit_code == 0, added.output
    secret = added.output.strip().splitlines()[-1]
    with committed() as session:
        assert find_key(session, secret).agency == "cli-agency"
    listed = runner("apikey", "list").output
    assert "cli-agency\tgrids,buildings\tlive" in listed and secret not in listed
    key_id = listed.split("cli-agency")[0].strip().splitlines()[-1].split("\t")[0]
    assert runner("apikey", "revoke", key_id).exit_code == 0
    assert "cli-agency\tgrids,buildings\trevoked" in runner("apikey", "list").output


@pytest.mark.parametrize("args, stdin, message", [
    (["user", "add", "cli-x", "--role", "grid_worker"], "",
     "role grid_worker with no scope: expected at least one of --grid"),
    (["user", "add", "cli-x", "--role", "administrator", "--password-stdin"], "1234567890\n",
     "most common passwords"),
    (["user", "add", "cli-x", "--role", "planner", "--street", "999999999"], "",
     "no such street"),  # refused before the password prompt
    (["user", "add", "cli x", "--role", "administrator"], "", "expected 1–64 letters"),
    (["user", "disable", "cli-nobody"], "", "no such login name"),
    (["apikey", "add", "cli-a", "--collections", "houses"], "", "'houses' is not a collection"),
    (["apikey", "revoke", "999999"], "", "no key has this id or prefix"),
])
def test_bad_input_is_one_line_on_stderr_and_exit_2(database_url, args, stdin, message,
                                                    cleanup):
    done = subprocess.run([sys.executable, "-m", "gridmap.cli", "--database-url", database_url,
                           *args], input=stdin, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
