"""Seeded data for the import benchmark: a district hierarchy and ~170,000 buildings.

The district (GB/T 2260 420111, 洪山区, around Optics Valley at 114.40°E 30.50°N) is a
16 × 13 km rectangle of 96 × 96 city blocks (150 × 120 m, 20 m roads between them):
3 × 3 streets, each of 4 × 4 communities, each of 8 × 8 responsibility grids of one block.
Every block has a type (residential compound, towers, old town, villas, industrial, campus,
mixed) that decides its lots; each lot holds one building — a rectangle, an L or a courtyard
block, turned a few degrees — that never leaves its lot, so footprints never overlap.
Buildings carry a source id, a Chinese name (often), a use, floors (sometimes missing),
households (derived for residential ones) and a Chinese address.

Everything is built in lon/lat (EPSG:4326, as GeoJSON wants) from metres with the local scale
at the centre, so hierarchy rectangles share exact coordinates and nest exactly.
Files go to ``bench/.cache/`` (git-ignored) and are rebuilt only when missing.
"""
from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

CACHE = Path(__file__).resolve().parent / ".cache"
VERSION = 1  # bump when the layout changes, so cached files are rebuilt
DISTRICT, DISTRICT_NAME = "420111", "洪山区"
STREETS, COMMUNITIES, GRIDS = 3, 4, 8        # per side: streets, communities per street, grids
BLOCK_W, BLOCK_H, ROAD = 150.0, 120.0, 20.0  # metres
LON0, LAT0 = 114.32, 30.44                   # south-west corner of the district
DEG_X = 1 / (111_320.0 * math.cos(math.radians(LAT0 + 0.06)))  # degrees per metre
DEG_Y = 1 / 110_574.0

# type: (share of blocks, lots across, lots down, use, building width and depth ranges in
# metres (as a share of the lot), floors range)
BLOCK_TYPES = {
    "compound": (0.30, 2, 5, "residential", (0.70, 0.85), (0.45, 0.60), (6, 18)),
    "towers": (0.15, 4, 3, "residential", (0.55, 0.75), (0.55, 0.75), (18, 33)),
    "oldtown": (0.20, 8, 6, "residential", (0.60, 0.85), (0.55, 0.80), (2, 6)),
    "villas": (0.10, 8, 6, "residential", (0.55, 0.75), (0.50, 0.70), (2, 4)),
    "industrial": (0.10, 2, 2, "industrial", (0.55, 0.85), (0.45, 0.75), (1, 3)),
    "campus": (0.10, 3, 2, "education", (0.45, 0.75), (0.35, 0.60), (3, 8)),
    "mixed": (0.05, 3, 3, "commercial", (0.55, 0.80), (0.55, 0.80), (4, 24)),
}
PLACES = ["光谷", "关山", "卓刀泉", "珞喻", "鲁巷", "民族", "虎泉", "野芷湖", "南湖", "狮子山",
          "马房山", "洪山", "书城", "佳园", "茶山"]
ESTATES = ["花园", "小区", "家园", "公寓", "新村", "雅苑", "嘉园", "名都", "华府", "宿舍"]
ROADS = ["珞喻路", "民族大道", "关山大道", "鲁磨路", "虎泉街", "卓刀泉路", "书城路", "光谷大道",
         "南湖大道", "雄楚大道", "珞狮路", "茶山刘路"]
STRUCTURES = ["钢筋混凝土结构", "砖混结构", "框架结构", "钢结构", "砖木结构"]
NAMES = {"towers": "大厦", "industrial": "厂房", "campus": "教学楼", "mixed": "商业楼",
         "villas": "别墅"}


def _lonlat(x, y):
    """Metres east and north of the south-west corner to lon, lat."""
    return LON0 + np.asarray(x) * DEG_X, LAT0 + np.asarray(y) * DEG_Y


def _rect(x0, y0, x1, y1):
    (lx0, lx1), (ly0, ly1) = _lonlat([x0, x1], [y0, y1])
    return shapely.box(lx0, ly0, lx1, ly1)


def _blocks(rng: np.random.Generator) -> pd.DataFrame:
    """One row per block (= grid): column i (west→east), row j (north→south), codes, type."""
    n = STREETS * COMMUNITIES * GRIDS
    j, i = np.divmod(np.arange(n * n), n)
    per_street = COMMUNITIES * GRIDS
    street = [f"{DISTRICT}{s + 1:03d}" for s in (j // per_street * STREETS + i // per_street)]
    community = [f"{s}{c + 1:03d}" for s, c in
                 zip(street, j % per_street // GRIDS * COMMUNITIES + i % per_street // GRIDS)]
    code = [f"{c}{g + 1:03d}" for c, g in zip(community, j % GRIDS * GRIDS + i % GRIDS)]
    types = list(BLOCK_TYPES)
    share = np.array([BLOCK_TYPES[t][0] for t in types])
    kind = rng.choice(len(types), n * n, p=share / share.sum())
    return pd.DataFrame({"i": i, "j": j, "street": street, "community": community,
                         "code": code, "type": np.array(types)[kind]})


def _cell(i, j, span=1):
    """Rectangle of span × span blocks (along road centre lines) from block column i, row j."""
    n = STREETS * COMMUNITIES * GRIDS
    px, py = BLOCK_W + ROAD, BLOCK_H + ROAD
    return _rect(i * px, (n - j - span) * py, (i + span) * px, (n - j) * py)


def hierarchy(blocks: pd.DataFrame) -> dict[str, gpd.GeoDataFrame]:
    """District, streets, communities and grids: nested rectangles along road centre lines."""
    n = STREETS * COMMUNITIES * GRIDS
    levels = {"districts": (n, None), "streets": (COMMUNITIES * GRIDS, "street"),
              "communities": (GRIDS, "community"), "grids": (1, "code")}
    out = {}
    for layer, (span, column) in levels.items():
        first = blocks[(blocks.i % span == 0) & (blocks.j % span == 0)]
        codes = first[column] if column else [DISTRICT]
        suffix = {"districts": "", "streets": "街道", "communities": "社区", "grids": "网格"}
        names = ([DISTRICT_NAME] if layer == "districts" else
                 [f"{PLACES[k % len(PLACES)]}{suffix[layer]}{k + 1}" for k in range(len(first))])
        frame = gpd.GeoDataFrame({"code": list(codes), "name": names},
                                 geometry=[_cell(i, j, span) for i, j in zip(first.i, first.j)],
                                 crs=4326)
        if layer == "grids":
            frame["kind"] = np.where(first["type"].isin(["industrial", "campus"]),
                                     "unit", "residential")
        out[layer] = frame
    return out


# Footprint templates in a unit square centred on the origin (closed rings).
_RECT = np.array([(-.5, -.5), (.5, -.5), (.5, .5), (-.5, .5), (-.5, -.5)])
_ELL = np.array([(-.5, -.5), (.5, -.5), (.5, 0), (0, 0), (0, .5), (-.5, .5), (-.5, -.5)])
_COURT = _RECT * 0.45


def _place(template, cx, cy, w, h, theta):
    """Template scaled to w × h metres, turned by theta, centred on (cx, cy): lon/lat rings."""
    x, y = template[None, :, 0] * w[:, None], template[None, :, 1] * h[:, None]
    c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
    lon, lat = _lonlat(cx[:, None] + x * c - y * s, cy[:, None] + x * s + y * c)
    return np.stack([lon, lat], axis=-1)


def _lots(blocks: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One row per building lot: block, centre (metres), lot size, type."""
    n = STREETS * COMMUNITIES * GRIDS
    frames = []
    for name, (_, across, down, *_rest) in BLOCK_TYPES.items():
        sel = blocks[blocks["type"] == name]
        lw, lh = BLOCK_W / across, BLOCK_H / down
        a, d = np.meshgrid(np.arange(across), np.arange(down))
        k = sel.index.to_numpy().repeat(a.size)
        x0 = sel["i"].to_numpy().repeat(a.size) * (BLOCK_W + ROAD) + ROAD / 2
        y0 = (n - 1 - sel["j"].to_numpy()).repeat(a.size) * (BLOCK_H + ROAD) + ROAD / 2
        frames.append(pd.DataFrame({
            "block": k, "type": name, "lw": lw, "lh": lh,
            "cx": x0 + (np.tile(a.ravel(), len(sel)) + 0.5) * lw,
            "cy": y0 + BLOCK_H - (np.tile(d.ravel(), len(sel)) + 0.5) * lh,
            "lot": np.tile(np.arange(a.size), len(sel))}))
    return pd.concat(frames, ignore_index=True)


def buildings(blocks: pd.DataFrame, rng: np.random.Generator, count: int) -> gpd.GeoDataFrame:
    """``count`` buildings, one per lot, on a random choice of the blocks' lots."""
    lots = _lots(blocks, rng)
    lots = lots.iloc[np.sort(rng.choice(len(lots), count, replace=False))].reset_index(drop=True)
    n = len(lots)
    spec = {t: BLOCK_TYPES[t] for t in BLOCK_TYPES}
    wr = np.array([spec[t][4] for t in lots["type"]])
    hr = np.array([spec[t][5] for t in lots["type"]])
    fr = np.array([spec[t][6] for t in lots["type"]])
    w = lots["lw"].to_numpy() * rng.uniform(wr[:, 0], wr[:, 1])
    h = lots["lh"].to_numpy() * rng.uniform(hr[:, 0], hr[:, 1])
    loose = lots["type"].isin(["oldtown", "villas"]).to_numpy()
    theta = np.radians(rng.uniform(-1, 1, n) * np.where(loose, 15, 6))
    # Shrink what would stick out of its lot (1 m clear of the lot line) once turned.
    c, s = np.abs(np.cos(theta)), np.abs(np.sin(theta))
    fit = np.minimum((lots["lw"].to_numpy() / 2 - 1) / ((w * c + h * s) / 2),
                     (lots["lh"].to_numpy() / 2 - 1) / ((w * s + h * c) / 2))
    w, h = w * np.minimum(fit, 1), h * np.minimum(fit, 1)
    cx, cy = lots["cx"].to_numpy(), lots["cy"].to_numpy()
    shape = rng.choice(3, n, p=[0.72, 0.22, 0.06])
    geoms = np.empty(n, dtype=object)
    for kind, template in enumerate((_RECT, _ELL)):
        k = shape == kind
        geoms[k] = shapely.polygons(_place(template, cx[k], cy[k], w[k], h[k], theta[k]))
    k = shape == 2
    holes = shapely.linearrings(_place(_COURT, cx[k], cy[k], w[k], h[k], theta[k]))
    geoms[k] = shapely.polygons(_place(_RECT, cx[k], cy[k], w[k], h[k], theta[k]),
                                holes=holes[:, None])
    use = np.array([spec[t][3] for t in lots["type"]], dtype=object)
    floors = rng.integers(fr[:, 0], fr[:, 1] + 1)
    area = w * h * np.select([shape == 1, shape == 2], [0.75, 1 - 0.45 ** 2], 1.0)
    households = np.where(use == "residential",
                          np.maximum(1, np.floor(area * floors * 0.75 / 90)), 0).astype(int)
    place = rng.integers(0, len(PLACES), len(blocks))[lots["block"].to_numpy()]
    estate = rng.integers(0, len(ESTATES), len(blocks))[lots["block"].to_numpy()]
    number = lots["lot"].to_numpy() + 1
    names = [None if t == "oldtown" and r < 0.6 else
             f"{PLACES[p]}{ESTATES[e]}{k}栋" if u == "residential" and t != "villas" else
             f"{PLACES[p]}{NAMES.get(t, '楼')}{k}号"
             for t, r, p, e, k, u in zip(lots["type"], rng.random(n), place, estate, number, use)]
    road = rng.integers(0, len(ROADS), len(blocks))[lots["block"].to_numpy()]
    addr = [f"武汉市洪山区{ROADS[r]}{b % 400 + 1}号" + (f"{k}栋" if k > 1 else "")
            for r, b, k in zip(road, lots["block"], number)]
    missing = rng.random(n) < 0.05  # some sources lack floors
    return gpd.GeoDataFrame({
        "bldg_id": [f"HS{k:07d}" for k in range(1, n + 1)],
        "name": names, "use": use,
        "floors": pd.array(np.where(missing, None, floors), dtype="Int32"),
        "hh": households, "addr": addr,
        "height_m": np.round(floors * rng.uniform(2.8, 3.3, n), 1),
        "structure": np.array(STRUCTURES, dtype=object)[rng.integers(0, len(STRUCTURES), n)],
        "survey": [f"2024-{m:02d}-{d:02d}" for m, d in
                   zip(rng.integers(1, 13, n), rng.integers(1, 29, n))],
    }, geometry=geoms, crs=4326)


def write(count: int = 170_000, seed: int = 20261124) -> dict[str, Path]:
    """Write (or reuse) the hierarchy and buildings files; return their paths by layer."""
    folder = CACHE / f"import-v{VERSION}-{count}-{seed}"
    paths = {layer: folder / f"{layer}.geojson"
             for layer in ("districts", "streets", "communities", "grids", "buildings")}
    if all(p.exists() for p in paths.values()):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    blocks = _blocks(rng)
    frames = {**hierarchy(blocks), "buildings": buildings(blocks, rng, count)}
    for layer, frame in frames.items():
        tmp = paths[layer].with_suffix(".tmp")
        pyogrio.write_dataframe(frame, tmp, driver="GeoJSON", layer=layer)
        tmp.rename(paths[layer])
    return paths
