"""The load on the map: residential grids filled by their households against the bounds, a
legend under the grids' switch, and the table of grids out of bounds for the chosen unit."""
from __future__ import annotations

import pytest

from tests.e2e.mapdriver import open_map

pytestmark = pytest.mark.e2e
WITHIN = "#4f9a5e"


def test_the_chosen_community_shows_its_load(tablet, server, artifacts):
    open_map(tablet, server, "?community=420111002022")
    legend = tablet.locator("ul.legend[data-layer=grids] li")
    assert [legend.nth(i).get_attribute("data-value") for i in range(legend.count())] == [
        "under", "within", "over", "unit"]
    # the demo's residential grids all lie within 250–500: filled so, and the table says so
    assert tablet.locator(f'path[fill="{WITHIN}"]').count() >= 5
    section = tablet.locator("#info section.load")
    assert section.locator("h3").inner_text().endswith("（250–500）的网格")
    assert section.locator("table.load-table").count() == 0
    tablet.screenshot(path=str(artifacts / "load-community.png"))
