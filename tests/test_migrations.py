"""Every migration upgrades and downgrades on a scratch database."""
from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import create_engine, inspect

from gridmap.cli import cli
from gridmap.db import normalise_url
from tests.conftest import scratch_database


def test_upgrade_downgrade_upgrade(database_url):
    with scratch_database(database_url, "gridmap_mig") as url:
        runner = CliRunner()
        for args, tables in ((["db", "upgrade"], True), (["db", "downgrade", "base"], False),
                             (["db", "upgrade"], True)):
            result = runner.invoke(cli, ["--database-url", url, *args])
            assert result.exit_code == 0, result.output
            engine = create_engine(normalise_url(url))
            names = set(inspect(engine).get_table_names())
            engine.dispose()
            assert ({"district", "street", "community", "grid", "building", "code_registry",
                     "division"} <= names) == tables
            assert ("division" in names) == tables  # 0003 is undone by its downgrade
            assert ({"person", "person_scope", "api_key"} & names
                    == ({"person", "person_scope", "api_key"} if tables else set()))  # 0006
