"""Validator predicates on hand-drawn grids: each with a failing and a passing case."""
from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Polygon, box

from gridmap.grid import validate as v

EPSG = 4547  # CGCS2000 / 3-degree GK CM 114E; the hand-drawn squares sit near Wuhan
X0, Y0 = 537000.0, 3376000.0


def sq(x, y, w, h=None):
    return box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + (h if h is not None else w))


def frame(rows):
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=EPSG)


def snapshot(grids=None, buildings=None, communities=None, **kw):
    """District = street = community = 200×100 m; by default two grids of 100×100 m."""
    whole = sq(0, 0, 200, 100)
    communities = communities or [{"code": "420111002023", "street_code": "420111002",
                                   "geometry": whole}]
    grids = grids if grids is not None else [
        grid("420111002023001", 1, sq(0, 0, 100)), grid("420111002023002", 2, sq(100, 0, 100))]
    buildings = buildings if buildings is not None else [
        building(1, sq(10, 10, 20), 300, 1), building(2, sq(120, 10, 20), 260, 2)]
    return v.Snapshot(
        epsg=EPSG,
        district=frame([{"code": "420111", "geometry": whole}]),
        streets=frame([{"code": "420111002", "district_code": "420111", "geometry": whole}]),
        communities=frame(communities), grids=frame(grids),
        buildings=frame(buildings), **kw)


def grid(code, seq, geom, kind="residential", households=None, gid=None):
    return {"id": gid or seq, "code": code, "kind": kind, "community_code": code[:12],
            "sequence": seq, "households": 300 if households is None else households,
            "valid_from": 0, "geometry": geom}


def building(bid, geom, households, grid_id, name=None):
    return {"id": bid, "source_id": str(bid), "name": name, "households": households,
            "grid_id": grid_id, "geometry": geom}


def fix_totals(snap):
    totals = snap.buildings.groupby("grid_id")["households"].sum()
    snap.grids["households"] = [int(totals.get(i, 0)) for i in snap.grids["id"]]
    return snap


def checks(snap, name):
    return v.CHECKS[name](snap)


def test_valid_snapshot_passes_every_check():
    snap = fix_totals(snapshot())
    assert v.run_checks(snap) == []


def test_invalid_geometry_is_reported_with_reason():
    bowtie = Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])
    snap = snapshot(grids=[grid("420111002023001", 1, bowtie),
                           grid("420111002023002", 2, sq(100, 0, 100))])
    found = checks(snap, "valid_geometry")
    assert len(found) == 1
    assert found[0].codes == ("420111002023001",) and "Self-intersection" in found[0].detail
    lon, lat = found[0].location
    assert 114 < lon < 115 and 30 < lat < 31


def test_grid_outside_community_is_reported_with_area():
    snap = snapshot(grids=[grid("420111002023001", 1, sq(0, 0, 100)),
                           grid("420111002023002", 2, sq(100, 0, 110, 100))])
    found = checks(snap, "within_parent")
    assert [f.codes for f in found] == [("420111002023002", "420111002023")]
    assert "outside" in found[0].detail and "9" in found[0].detail  # ~ (10 − 0.5) × 100 m²


def test_grid_within_tolerance_is_not_outside():
    snap = snapshot(grids=[grid("420111002023001", 1, sq(0, 0, 100)),
                           grid("420111002023002", 2, sq(100, 0, 100.3, 100))])
    assert checks(snap, "within_parent") == []


def test_overlapping_siblings_are_reported():
    snap = snapshot(grids=[grid("420111002023001", 1, sq(0, 0, 120, 100)),
                           grid("420111002023002", 2, sq(100, 0, 100))])
    found = checks(snap, "no_overlap")
    assert len(found) == 1 and found[0].codes == ("420111002023001", "420111002023002")
    assert "2000.0 m²" in found[0].detail


def test_gap_is_reported_where_it_is():
    snap = snapshot(grids=[grid("420111002023001", 1, sq(0, 0, 100)),
                           grid("420111002023002", 2, sq(150, 0, 50, 100))])
    found = checks(snap, "no_gap")
    assert len(found) == 1 and "5000.0 m²" in found[0].detail
    assert found[0].codes == ("420111002023",)


def test_millimetre_sliver_is_not_a_gap():
    snap = snapshot(grids=[grid("420111002023001", 1, sq(0, 0, 100)),
                           grid("420111002023002", 2, sq(100.002, 0, 99.998, 100))])
    assert checks(snap, "no_gap") == []


def test_building_in_no_grid_and_stale_assignment():
    snap = snapshot(grids=[grid("420111002023001", 1, sq(0, 0, 100)),
                           grid("420111002023002", 2, sq(100, 0, 100))],
                    buildings=[building(1, sq(250, 10, 20), 10, None, "外面"),
                               building(2, sq(120, 10, 20), 260, 1)])
    found = checks(snap, "building_in_one_grid")
    details = sorted(f.detail for f in found)
    assert "building 1 (外面) lies in no active grid" in details
    assert any("recorded in grid 420111002023001 but lies in grid 420111002023002" in d
               for d in details)


def test_building_on_shared_boundary_goes_to_larger_overlap():
    # Representative point on x=100 (the shared edge); 50 m² more of it lies in grid 2.
    footprint = sq(90, 45, 20, 10).union(sq(100, 55, 10, 5))
    snap = snapshot(buildings=[building(1, footprint, 260, 2),
                               building(2, sq(10, 10, 20), 300, 1)])
    assert checks(snap, "building_in_one_grid") == []


def test_household_bounds():
    snap = fix_totals(snapshot(buildings=[building(1, sq(10, 10, 20), 200, 1),
                                          building(2, sq(120, 10, 20), 501, 2)]))
    found = checks(snap, "household_bounds")
    assert [f.codes[0] for f in found] == ["420111002023001", "420111002023002"]
    assert "holds 200 households; expected 250–500" in found[0].detail


def test_household_bounds_are_configurable_and_skip_unit_grids():
    snap = fix_totals(snapshot(grids=[grid("420111002023001", 1, sq(0, 0, 100)),
                                      grid("420111002023002", 2, sq(100, 0, 100), kind="unit")],
                               buildings=[building(1, sq(10, 10, 20), 200, 1),
                                          building(2, sq(120, 10, 20), 0, 2)],
                               min_households=150, max_households=300))
    assert checks(snap, "household_bounds") == []


def test_stale_household_total_is_reported():
    snap = snapshot()  # grids record 300 each; the buildings hold 300 and 260
    found = checks(snap, "household_bounds")
    assert [f.codes for f in found] == [("420111002023002",)]
    assert "records 300 households but its buildings hold 260" in found[0].detail


def test_duplicate_and_malformed_codes():
    snap = snapshot(grids=[grid("420111002023001", 1, sq(0, 0, 100)),
                           grid("420111002023001", 2, sq(100, 0, 100), gid=2)])
    found = checks(snap, "codes")
    assert any("used by 2 grids" in f.detail for f in found)
    snap = snapshot(grids=[grid("420111002023001", 1, sq(0, 0, 100)),
                           grid("420111605001002", 2, sq(100, 0, 100))])
    found = checks(snap, "codes")
    assert len(found) == 1 and "street '605'" in found[0].detail


def test_code_disagreeing_with_its_community():
    snap = snapshot(grids=[grid("420111002023001", 1, sq(0, 0, 100)),
                           {**grid("420111002023002", 2, sq(100, 0, 100)),
                            "community_code": "420111002046"}])
    found = checks(snap, "codes")
    assert any("the grid is in 420111002046" in f.detail for f in found)


def test_sequence_order_west_to_east():
    snap = snapshot(grids=[grid("420111002023001", 1, sq(100, 0, 100)),
                           grid("420111002023002", 2, sq(0, 0, 100))])
    found = checks(snap, "sequence_order")
    assert len(found) == 1 and "west→east" in found[0].detail


def test_unknown_check_name():
    with pytest.raises(KeyError, match="unknown checks"):
        v.run_checks(snapshot(), ["no_such_check"])


def test_demo_district_is_valid(db):
    from gridmap.grid.validate import validate_district

    assert validate_district(db, "420111") == []
