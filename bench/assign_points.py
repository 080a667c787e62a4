"""Benchmark: assign 1,000,000 points to 10,000 grid polygons (seeded) — gridmap's
point-in-polygon join beside geopandas.sjoin(predicate="within"), same data, same run.

Each method runs in its own fresh subprocess so its peak memory (ru_maxrss above the
baseline after the data is built) is its own. Times are the best of ``--repeat`` runs, each on
a fresh, unprepared copy of the polygons (preparing them is part of the work).
Labels must be identical.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import shapely

SIZE = 20_000.0  # metres: a 20 km square district of 10,000 grids of ~200 m


def make_data(n_points: int, n_polygons: int, seed: int):
    rng = np.random.default_rng(seed)
    extent = shapely.box(0, 0, SIZE, SIZE)
    seeds = shapely.multipoints(rng.uniform(0, SIZE, (n_polygons, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=extent))
    polygons = shapely.intersection(cells, extent)
    points = rng.uniform(-0.01 * SIZE, 1.01 * SIZE, (n_points, 2))  # a few fall outside
    return points, shapely.to_wkb(polygons)


def _peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_method(method: str, n_points: int, n_polygons: int, seed: int, repeat: int) -> dict:
    points, wkb = make_data(n_points, n_polygons, seed)
    if method == "sjoin":
        import geopandas as gpd

        left = gpd.GeoDataFrame(geometry=gpd.points_from_xy(points[:, 0], points[:, 1]))
    base = _peak_kib()
    times, labels = [], None
    for _ in range(repeat):
        polygons = shapely.from_wkb(wkb)
        if method == "sjoin":
            right = gpd.GeoDataFrame(geometry=polygons)
            start = time.perf_counter()
            joined = gpd.sjoin(left, right, predicate="within", how="left")
            times.append(time.perf_counter() - start)
            labels = (joined["index_right"].fillna(-1).astype(np.int64)
                      .groupby(level=0).min().to_numpy())
        else:
            from gridmap.grid.pointindex import label_points

            start = time.perf_counter()
            labels = label_points(points[:, 0], points[:, 1], polygons)
            times.append(time.perf_counter() - start)
    return {"method": method, "seconds": min(times), "runs": times,
            "peak_mib": (_peak_kib() - base) / 1024, "labels": labels.tolist()}


def _in_subprocess(method: str, args) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", method, "--points",
                          str(args.points), "--polygons", str(args.polygons), "--seed",
                          str(args.seed), "--repeat", str(args.repeat)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--polygons", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child")
    args = parser.parse_args(argv)
    if args.child:
        json.dump(run_method(args.child, args.points, args.polygons, args.seed, args.repeat),
                  sys.stdout)
        return 0
    ours = _in_subprocess("gridmap", args)
    peer = _in_subprocess("sjoin", args)
    same = ours["labels"] == peer["labels"]
    n = args.points
    print(f"assign {n:,} points to {args.polygons:,} polygons (seed {args.seed}, best of "
          f"{args.repeat})")
    print(f"  {'method':<34}{'seconds':>9}{'points/s':>14}{'peak MiB':>10}")
    for name, r in (("gridmap label_points", ours), ("geopandas.sjoin(within)", peer)):
        print(f"  {name:<34}{r['seconds']:>9.3f}{n / r['seconds']:>14,.0f}{r['peak_mib']:>10.1f}")
    print(f"  speed ratio gridmap/sjoin: {peer['seconds'] / ours['seconds']:.2f}x "
          f"(target >= 3x); memory ratio: {ours['peak_mib'] / max(peer['peak_mib'], 1e-9):.2f} "
          f"(target <= 1); labels identical: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
