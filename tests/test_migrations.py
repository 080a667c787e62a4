"""Every migration upgrades and downgrades on a scratch database."""
from __future__ import annotations

import uuid

from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text

from gridmap.cli import cli
from gridmap.db import dispose_engines, normalise_url


def test_upgrade_downgrade_upgrade(database_url):
    name = f"gridmap_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(database_url.rsplit("/", 1)[0] + "/postgres"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    url = database_url.rsplit("/", 1)[0] + f"/{name}"
    try:
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
    finally:
        dispose_engines(url)
        with admin.connect() as conn:
            conn.execute(text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()
