"""A demo grid with its community's station placed (``gridmap demo`` places them) and the
settings the route tests plan with."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from gridmap.auth.scope import Scope
from gridmap.config import load_settings

ADMIN = Scope("person:t-admin", "administrator", None, None, None, True)


@pytest.fixture(scope="session")
def settings(database_url):
    return load_settings({"database_url": database_url})


@pytest.fixture()
def grid(db) -> str:
    """The current grid with the most buildings whose community has a station."""
    return db.execute(text("""
        select g.code from grid g join route_station s on s.community_code = g.community_code
        where g.valid_to is null order by g.building_count desc, g.code limit 1""")).scalar_one()
