"""A second district for tests: the demo's real geometry shifted ~650 km east, imported through
the ordinary import path (districts → streets → communities → grids → buildings → roads →
water), so tests can check that a map or a query keeps two districts apart.

It becomes 320508 (姑苏区, Suzhou: a real GB/T 2260 code, so the code checks pass) with
illustrative names and the demo's street and community codes (imported as unofficial); two
residential grids carry names, as a planner's would.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely
from sqlalchemy.orm import Session

from gridmap.ingest import Recipe, import_recipe
from tests.conftest import REPO

CODE = "320508"
NAME = "姑苏区（测试：光谷平移）"
SHIFT = (6.2, 0.8)  # degrees lon, lat: Optics Valley (114.39, 30.51) → Suzhou (120.59, 31.31)
GRID_NAMES = {"001": "平江一网格", "002": "平江二网格"}  # in the copy of 鲁磨路社区
_DEMO = REPO / "data" / "wuhan_guanggu"


def _shift(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = frame.to_crs(4490) if frame.crs and frame.crs.to_epsg() != 4490 else frame
    moved = shapely.transform(out.geometry.values, lambda xy: xy + SHIFT)
    return out.set_geometry(moved, crs=4490)


def _recode(code: str) -> str:
    return CODE + str(code)[6:]


def write_sources(folder: Path) -> dict[str, Path]:
    """The shifted copy as GeoPackages in ``folder``; returns layer → file."""
    plan = _DEMO / "demo_plan.gpkg"
    files = {}
    for layer, source_layer in (("districts", "district"), ("streets", "streets"),
                                ("communities", "communities")):
        frame = _shift(pyogrio.read_dataframe(plan, layer=source_layer))
        frame["code"] = frame["code"].map(_recode)
        frame["name"] = ([NAME] if layer == "districts" else
                         [f"测试{name}" for name in frame["name"]])
        files[layer] = folder / f"{layer}.gpkg"
        pyogrio.write_dataframe(frame, files[layer])
    grids = _shift(pyogrio.read_dataframe(plan, layer="grids"))
    grids["community_code"] = grids["community_code"].map(_recode)
    first = grids.index[grids["community_code"] == CODE + "002023"]
    grids.loc[first, "name"] = list(GRID_NAMES.values())[:len(first)]
    files["grids"] = folder / "grids.gpkg"
    pyogrio.write_dataframe(grids, files["grids"])
    source = _DEMO / "wuhan_guanggu.gpkg"
    for layer, source_layer, where in (
            ("buildings", "buildings", "kind <> 'building_part'"),
            ("roads", "roads", "kind in ('major_road', 'minor_road', 'path')"),
            ("water", "water_raw_tiles",
             "boundary is null and ST_GeometryType(geom) <> 'POINT'")):
        frame = _shift(pyogrio.read_dataframe(source, layer=source_layer, where=where))
        files[layer] = folder / f"{layer}.gpkg"
        pyogrio.write_dataframe(frame, files[layer])
    return files


def load_shifted_district(session: Session, folder: Path) -> list[str]:
    """Import the shifted copy into ``session`` (the caller commits); one line per layer."""
    files = write_sources(folder)
    recipes = [
        Recipe(source=files["districts"], layer="districts", fields={"code": "code",
                                                                      "name": "name"}),
        # The copy keeps the demo's street and community codes, which are not 姑苏区's own.
        Recipe(source=files["streets"], layer="streets", fields={"code": "code", "name": "name"},
               unofficial=True),
        Recipe(source=files["communities"], layer="communities",
               fields={"code": "code", "name": "name"}, unofficial=True),
        Recipe(source=files["grids"], layer="grids",
               fields={"community_code": "community_code", "kind": "kind", "name": "name"}),
        Recipe(source=files["buildings"], layer="buildings", district=CODE, repair=True,
               source_name="test-shifted", fields={"source_id": "id", "name": "name"},
               households={}),
        Recipe(source=files["roads"], layer="roads", district=CODE, source_name="test-shifted",
               fields={"source_id": "id", "kind": "kind_detail", "name": "name",
                       "bridge": "is_bridge", "tunnel": "is_tunnel"}),
        Recipe(source=files["water"], layer="water", district=CODE, source_name="test-shifted",
               fields={"source_id": "id", "kind": "kind", "name": "name"}),
    ]
    return [import_recipe(session, recipe).summary() for recipe in recipes]
