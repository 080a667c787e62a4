"""Draw the demo district's plan (street → communities → grids) from the real Wuhan data.

Run once by a maintainer; its output ``data/wuhan_guanggu/demo_plan.gpkg`` is committed and
loaded by ``gridmap demo``. Grids follow the real roads: the street is cut into blocks by the
OSM roads (tunnels left out), communities are the blocks on each side of 民族大道 and 珞喻路,
and inside a community, blocks are grown into grids of 250–500 households (blocks with more
households are split between their buildings). Blocks without households become unit grids
when they hold a large non-residential unit, else they join the neighbouring grid they share
most border with. Codes are not drawn here: the code system issues them when the plan loads.

    .venv/bin/python tools/make_demo_plan.py ../shared/data/wuhan_guanggu/wuhan_guanggu.gpkg
"""
from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.ingest.households import derive_households

EPSG = 4547
LOW, HIGH = 250, 500
TARGETS = (400, 380, 420, 350, 450, 300, 480)  # household targets tried when splitting
UNIT_BUILDING_M2 = 2500.0  # footprint making a block without households a unit grid
MIN_BLOCK_M2 = 2500.0      # smaller slivers join a neighbour before planning
ROAD_KINDS = ("trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
              "trunk_link", "secondary_link")
DISTRICT = "420111"        # 洪山区
STREET = "420111002"       # 关山街道 (NBS statistical division codes 2023)
# (code, name, side of 民族大道 x, side of 珞喻路 y): real communities of 关山街道, chosen by
# name for the quadrants of 光谷广场; their boundaries here are drawn by this tool, not
# official. The official names end in 居民委员会 (the committee); the plan uses the
# community's name, which gridmap.reference matches to the official one.
COMMUNITIES = [
    ("420111002023", "鲁磨路社区", "west", "north"),
    ("420111002046", "华中科技大学社区", "east", "north"),
    ("420111002022", "关南社区", "west", "south"),
    ("420111002015", "关山口社区", "east", "south"),
]


def _blocks(roads: gpd.GeoDataFrame, extent) -> gpd.GeoDataFrame:
    lines = roads[roads.kind_detail.isin(ROAD_KINDS) & (roads.is_tunnel != True)]  # noqa: E712
    net = shapely.union_all(list(lines.geometry.intersection(extent).values) + [extent.boundary])
    faces = np.array(shapely.get_parts(shapely.polygonize(shapely.get_parts(net))))
    blocks = gpd.GeoDataFrame(geometry=faces, crs=EPSG)
    return _absorb_small(blocks)


def _absorb_small(blocks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geoms = list(blocks.geometry.values)
    while True:
        areas = np.array([g.area for g in geoms])
        small = [i for i in np.argsort(areas) if areas[i] < MIN_BLOCK_M2]
        if not small:
            return gpd.GeoDataFrame(geometry=geoms, crs=EPSG)
        i = small[0]
        shared = [(geoms[i].intersection(g).length, j) for j, g in enumerate(geoms) if j != i]
        length, j = max(shared)
        if length == 0:
            raise SystemExit(f"block {i} touches no other block")
        geoms[j] = shapely.union(geoms[j], geoms[i])
        del geoms[i]


def _split_large(blocks, buildings, target: int) -> gpd.GeoDataFrame:
    """Split blocks holding more than HIGH households between their buildings."""
    rows = []
    for geom in blocks.geometry.values:
        inside = buildings[buildings.point.within(geom)]
        total = inside.households.sum()
        if total <= HIGH:
            rows.append(geom)
            continue
        pts = inside.point
        axis = 0 if np.ptp(pts.x) >= np.ptp(pts.y) else 1
        order = np.argsort(pts.x.to_numpy() if axis == 0 else pts.y.to_numpy())
        group, current, parts = [], 0, 0
        for h in inside.households.to_numpy()[order]:
            if current and (current + h > HIGH or current >= target):
                parts, current = parts + 1, 0
            current += h
            group.append(parts)
        group, parts = np.array(group), parts + 1
        cells = shapely.voronoi_polygons(shapely.multipoints(pts.values[order]),
                                         extend_to=geom)
        cells = list(shapely.get_parts(cells))
        owner = np.full(len(cells), -1)
        for k, c in enumerate(cells):
            hit = np.nonzero(shapely.contains(c, pts.values[order]))[0]
            owner[k] = group[hit[0]] if len(hit) else 0
        for g in range(parts):
            piece = shapely.union_all([cells[k] for k in range(len(cells)) if owner[k] == g])
            rows.append(shapely.intersection(piece, geom))
    return gpd.GeoDataFrame(geometry=rows, crs=EPSG)


def _grow(blocks: gpd.GeoDataFrame) -> list[tuple[list[int], str]]:
    """Group one community's blocks into grids: (block indices, kind)."""
    geoms = blocks.geometry.values
    hh = blocks.households.to_numpy()
    touches = {i: {j for j in range(len(geoms)) if j != i
                   and geoms[i].intersection(geoms[j]).length > 1.0} for i in range(len(geoms))}
    free = set(range(len(geoms)))
    grids: list[tuple[list[int], str]] = []
    cx = np.array([g.centroid.x for g in geoms])
    cy = np.array([g.centroid.y for g in geoms])
    for seed in np.lexsort((cx, -cy)):
        if seed not in free or hh[seed] == 0:
            continue
        members, total = [seed], hh[seed]
        free.discard(seed)
        while total < LOW:
            frontier = {j for m in members for j in touches[m]} & free
            fitting = [j for j in frontier if total + hh[j] <= HIGH]
            if not fitting:
                break
            # Prefer neighbours with households, then the nearest.
            j = min(fitting, key=lambda j: (hh[j] == 0, np.hypot(cx[j] - cx[seed],
                                                                   cy[j] - cy[seed])))
            members.append(j)
            total += hh[j]
            free.discard(j)
        grids.append((members, "residential"))
    grids = _merge_short(grids, geoms, hh)
    for i in sorted(free, key=lambda i: -blocks.unit_m2.iloc[i]):
        if i in free and blocks.unit_m2.iloc[i] >= UNIT_BUILDING_M2:
            grids.append(([i], "unit"))
            free.discard(i)
    while free:
        progress = False
        for i in sorted(free):
            best = max(((geoms[i].intersection(geoms[m]).length, k)
                        for k, (ms, _) in enumerate(grids) for m in ms), default=(0, -1))
            if best[0] > 0:
                grids[best[1]][0].append(i)
                free.discard(i)
                progress = True
        if not progress:
            i = min(free)
            grids.append(([i], "unit"))
            free.discard(i)
    return grids


def _merge_short(grids, geoms, hh):
    """Merge residential groups under LOW into a touching group when the sum fits."""
    grids = [(list(m), k) for m, k in grids]
    for idx in range(len(grids)):
        members, _ = grids[idx]
        total = hh[members].sum()
        if not members or total >= LOW:
            continue
        shape = shapely.union_all(geoms[members])
        options = [(shape.intersection(shapely.union_all(geoms[m])).length, k)
                   for k, (m, _) in enumerate(grids)
                   if k != idx and m and hh[m].sum() + total <= HIGH]
        options = [o for o in options if o[0] > 1.0]
        if options:
            _, k = max(options)
            grids[k][0].extend(members)
            members.clear()
    return [(m, k) for m, k in grids if m]


GRID_SIZE = 1e-7  # degrees, about 1 cm: the plan's precision in CGCS2000


def _union(blocks, ids):
    """Union of blocks in CGCS2000 on a fixed precision grid: shared edges stay shared, so
    neighbouring unions neither overlap nor leave slivers, and the result is valid."""
    return shapely.union_all(blocks.storage.values[np.asarray(ids)], grid_size=GRID_SIZE)


UNIT_KINDS = {"mall": "商场", "retail": "商场", "commercial": "商业楼", "hotel": "酒店",
              "train_station": "车站", "school": "学校", "university": "大学", "hospital": "医院",
              "industrial": "工厂", "office": "办公楼"}


def _unit_name(area, buildings) -> str:
    """A unit grid is named for its unit: the largest named building in it, else what its
    largest building is (商场, 酒店 …), else 单位网格."""
    inside = buildings[buildings.point.within(area)].sort_values("area", ascending=False)
    named = inside[inside["name"].notna() & (inside["name"] != "无名")]
    if len(named):
        return str(named["name"].iloc[0])
    kinds = inside["kind_detail"].dropna() if "kind_detail" in inside else []
    return UNIT_KINDS.get(kinds.iloc[0], "单位网格") if len(kinds) else "单位网格"


def _plan(blocks, buildings, roads):
    blocks = blocks.copy()
    blocks["block_id"] = np.arange(len(blocks))
    blocks["storage"] = shapely.set_precision(
        blocks.geometry.to_crs(4490).values, GRID_SIZE)
    pts = gpd.GeoDataFrame(buildings[["households"]], geometry=buildings.point, crs=EPSG)
    pts["unit_m2"] = np.where(buildings.households == 0, buildings.area, 0)
    joined = gpd.sjoin(pts, blocks, predicate="within")
    blocks["households"] = joined.groupby("index_right").households.sum() \
        .reindex(blocks.index).fillna(0).astype(int)
    blocks["unit_m2"] = joined.groupby("index_right").unit_m2.max() \
        .reindex(blocks.index).fillna(0)
    main_ns = roads[roads["name"] == "民族大道"].union_all().centroid.x
    main_ew = roads[roads["name"] == "珞喻路"].union_all().centroid.y
    c = blocks.geometry.representative_point()
    blocks["side_x"] = np.where(c.x < main_ns, "west", "east")
    blocks["side_y"] = np.where(c.y > main_ew, "north", "south")
    communities, grids = [], []
    for code, name, sx, sy in COMMUNITIES:
        mine = blocks[(blocks.side_x == sx) & (blocks.side_y == sy)].reset_index(drop=True)
        communities.append({"code": code, "name": name,
                            "geometry": _union(blocks, mine.block_id)})
        for members, kind in _grow(mine):
            name = (_unit_name(shapely.union_all(mine.geometry.values[members]), buildings)
                    if kind == "unit" else None)
            grids.append({"community_code": code, "kind": kind, "name": name,
                          "households": int(mine.households.iloc[members].sum()),
                          "geometry": _union(blocks, mine.block_id.iloc[members])})
    return communities, grids


def main(source: Path, out: Path) -> None:
    buildings = gpd.read_file(source, layer="buildings").to_crs(EPSG)
    roads = gpd.read_file(source, layer="roads").to_crs(EPSG)
    derived = derive_households(buildings, buildings.geometry)
    buildings["households"] = derived.households
    buildings["point"] = buildings.geometry.representative_point()
    buildings["area"] = buildings.geometry.area
    b = np.r_[np.minimum(roads.total_bounds[:2], buildings.total_bounds[:2]),
              np.maximum(roads.total_bounds[2:], buildings.total_bounds[2:])]
    extent = shapely.box(*(b + np.array([-20, -20, 20, 20])))
    base = _blocks(roads, extent)
    for target in TARGETS:
        communities, grids = _plan(_split_large(base, buildings, target), buildings, roads)
        short = [g for g in grids if g["kind"] == "residential"
                 and not LOW <= g["households"] <= HIGH]
        if not short:
            break
        print(f"target {target}: {len(short)} grids out of bounds, trying the next target")
    def storage(rows):
        return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=4490)

    street = shapely.union_all([c["geometry"] for c in communities], grid_size=GRID_SIZE)
    frames = {
        "district": storage([{"code": DISTRICT, "name": "洪山区（演示范围）", "geometry": street}]),
        "streets": storage([{"code": STREET, "name": "关山街道", "geometry": street}]),
        "communities": storage(communities),
        "grids": storage(grids),
    }
    out.unlink(missing_ok=True)
    for layer, frame in frames.items():
        assert frame.is_valid.all(), layer
        frame.to_file(out, layer=layer, driver="GPKG")
    g = pd.DataFrame(grids)
    print(g.groupby(["community_code", "kind"]).households.agg(["count", "min", "max", "sum"]))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2
         else Path(__file__).resolve().parent.parent / "data/wuhan_guanggu/demo_plan.gpkg")
