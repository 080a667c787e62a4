"""A district of its own for the tile tests, which commit edits: a scratch database with the
demo loaded, two ``gridmap serve`` processes on it, and an agency key."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests
from click.testing import CliRunner

from gridmap.auth import issue_key
from gridmap.db import session_scope
from tests.conftest import gridmap_server, scratch_database


@dataclass(frozen=True)
class TileWorld:
    url: str
    bases: tuple[str, str]
    key: str

    def get(self, path: str, server: int = 0, **headers: str) -> requests.Response:
        return requests.get(self.bases[server] + path,
                            headers={"X-API-Key": self.key, "Accept-Language": "en", **headers},
                            timeout=30)


@pytest.fixture(scope="package")
def world(database_url):
    from gridmap.cli import cli

    with scratch_database(database_url, "gridmap_tiles") as url:
        runner = CliRunner()
        for args in (["db", "upgrade"], ["demo"]):
            result = runner.invoke(cli, ["--database-url", url, *args])
            assert result.exit_code == 0, result.output + repr(result.exception)
        with session_scope(url) as session:
            key = issue_key(session, "tile tests", None).secret
        with gridmap_server(url, "first tile server") as one, \
                gridmap_server(url, "second tile server") as two:
            yield TileWorld(url, (f"http://127.0.0.1:{one}", f"http://127.0.0.1:{two}"), key)
