"""Fixtures of the OGC API – Features tests: an app whose public collections are set, agency
keys, and a live ``gridmap serve`` for GDAL."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from gridmap.db import session_scope
from tests.conftest import free_port, wait_until_serving

#: Public in the apps and the server below; the others need a key.
PUBLIC = "districts,streets,communities,grids,buildings,roads,water,incidents"
PREFIX = "/ogcapi/collections"


@pytest.fixture()
def ogc(database_url):
    """A test client of an app with :data:`PUBLIC` public collections, asking for English."""
    from webapp import create_app

    app = create_app({"database_url": database_url, "ogcapi_public_collections": PUBLIC})
    app.config["TESTING"] = True
    return app.test_client()


@pytest.fixture(scope="module")
def keys(database_url) -> dict[str, str]:
    """Agency keys: ``facilities`` names facilities, ``roads`` names roads only, ``revoked``
    was revoked."""
    from gridmap.auth import issue_key, revoke_key

    with session_scope(database_url) as session:
        made = {name: issue_key(session, f"ogc test {name}", cols)
                for name, cols in (("facilities", ["facilities"]), ("roads", ["roads"]),
                                   ("revoked", None))}
        revoke_key(session, str(made["revoked"].key.id))
        return {name: issued.secret for name, issued in made.items()}


@pytest.fixture(scope="module")
def live(database_url) -> str:
    """Base URL of ``gridmap serve`` (real gunicorn) with :data:`PUBLIC` public."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url,
           "GRIDMAP_OGCAPI_PUBLIC_COLLECTIONS": PUBLIC}
    proc = subprocess.Popen([sys.executable, "-m", "gridmap.cli", "serve", "--port", str(port),
                             "--workers", "2"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_serving(proc, url, "gridmap serve")
    try:
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)


def items_url(name: str, **params: str) -> str:
    from urllib.parse import urlencode

    return f"{PREFIX}/{name}/items" + (f"?{urlencode(params)}" if params else "")
