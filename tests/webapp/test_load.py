"""The grids' load: each residential grid's households against its district's bounds, in the
API (and so on the map, coloured, with a legend), recomputed when the bounds change."""
from __future__ import annotations

from sqlalchemy import text

from gridmap.db import session_scope


def _loads(client):
    features = client.get("/api/grids?district=420111").get_json()["features"]
    return {f["id"]: (f["properties"]["kind"], f["properties"]["households"],
                      f["properties"]["load"], f["properties"]["bounds"]) for f in features}


def test_every_grid_carries_its_load_against_the_bounds(client, database_url):
    loads = _loads(client)
    assert loads
    for kind, households, load, bounds in loads.values():
        if kind == "unit":
            assert load is None and bounds is None
        else:
            assert bounds == "250–500"
            assert load == ("under" if households < 250 else "over" if households > 500
                            else "within")
    # tighter bounds: the same grids, now some under and some over
    with session_scope(database_url) as session:
        session.execute(text("update district set min_households = 380, max_households = 420 "
                             "where code = '420111'"))
    try:
        tight = _loads(client)
    finally:
        with session_scope(database_url) as session:
            session.execute(text("update district set min_households = 250, "
                                 "max_households = 500 where code = '420111'"))
    seen = {load for kind, _, load, _ in tight.values() if kind == "residential"}
    assert {"under", "over"} <= seen
    for kind, households, load, bounds in tight.values():
        if kind == "residential":
            assert bounds == "380–420"
            assert load == ("under" if households < 380 else "over" if households > 420
                            else "within")


def test_the_grids_layer_publishes_its_legend(client):
    grids = next(layer for layer in client.get("/api/layers").get_json()
                 if layer["name"] == "grids")
    assert [entry["value"] for entry in grids["legend"]] == ["under", "within", "over", "unit"]
    assert grids["style"]["fill_by"] == "load"
