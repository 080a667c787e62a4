"""Benchmark: assign 1,000,000 points to 10,000 grid polygons (seeded) — gridmap's
point-in-polygon join beside geopandas.sjoin(predicate="within"), same data, same run.

Each method lives in its own subprocess, so its peak memory (ru_maxrss above the baseline
once the data is built) is its own. After one untimed warm-up run each, the timed runs are
interleaved (gridmap, sjoin, sjoin, gridmap, …) so that noise from the machine hits both;
each run starts from a fresh, unprepared copy of the polygons (preparing them is part of the
work). sjoin's time is the join alone (its GeoDataFrame of points is built beforehand, and
turning its pairs into labels is not counted); gridmap's is from coordinate arrays to labels.
The figure is the ratio of the medians; labels must be identical in every run.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Figure, spread, write_figures  # noqa: E402

SIZE = 20_000.0  # metres: a 20 km square district of 10,000 grids of ~200 m
TARGET = 3.0     # gridmap at least this many times faster than sjoin, on the median


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


def serve(method: str, n_points: int, n_polygons: int, seed: int) -> None:
    """Child: build the data, then answer each ``run`` line on stdin with one JSON line."""
    points, wkb = make_data(n_points, n_polygons, seed)
    if method == "sjoin":
        import geopandas as gpd

        left = gpd.GeoDataFrame(geometry=gpd.points_from_xy(points[:, 0], points[:, 1]))

        def once(polygons):
            start, cpu = time.perf_counter(), time.process_time()
            joined = gpd.sjoin(left, gpd.GeoDataFrame(geometry=polygons), predicate="within",
                               how="left")
            # the join only, not the labels below
            seconds = (time.perf_counter() - start, time.process_time() - cpu)
            return seconds, (joined["index_right"].fillna(-1).astype(np.int64)
                             .groupby(level=0).min().to_numpy())
    else:
        from gridmap.grid.pointindex import label_points

        def once(polygons):
            start, cpu = time.perf_counter(), time.process_time()
            labels = label_points(points[:, 0], points[:, 1], polygons)
            return (time.perf_counter() - start, time.process_time() - cpu), labels
    base = _peak_kib()
    for line in sys.stdin:
        if line.strip() != "run":
            break
        (seconds, cpu), labels = once(shapely.from_wkb(wkb))
        print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mib": (_peak_kib() - base) / 1024,
                          "digest": hashlib.sha256(np.asarray(labels, np.int64).tobytes())
                          .hexdigest(), "assigned": int((labels >= 0).sum())}), flush=True)


class _Child:
    def __init__(self, method: str, args) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--child", method, "--points", str(args.points),
             "--polygons", str(args.polygons), "--seed", str(args.seed)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self) -> dict:
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmark child {self.proc.args[3]} died "
                               f"(exit {self.proc.wait()})")
        return json.loads(line)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--polygons", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="Also write the figures here (bench/run.py).")
    parser.add_argument("--child")
    args = parser.parse_args(argv)
    if args.child:
        serve(args.child, args.points, args.polygons, args.seed)
        return 0
    load_before = os.getloadavg()[0]
    children = {"gridmap": _Child("gridmap", args), "sjoin": _Child("sjoin", args)}
    runs: dict[str, list[dict]] = {name: [] for name in children}
    try:
        for child in children.values():
            child.run()  # warm-up: imports and first-call costs, not timed
        for rep in range(args.repeat):
            for name in (("gridmap", "sjoin") if rep % 2 == 0 else ("sjoin", "gridmap")):
                runs[name].append(children[name].run())
    finally:
        for child in children.values():
            child.close()
    digests = {r["digest"] for rs in runs.values() for r in rs}
    times = {name: [r["seconds"] for r in rs] for name, rs in runs.items()}
    cpus = {name: [r["cpu"] for r in rs] for name, rs in runs.items()}
    peaks = {name: max(r["peak_mib"] for r in rs) for name, rs in runs.items()}
    n = args.points
    print(f"assign {n:,} points to {args.polygons:,} polygons (seed {args.seed}; "
          f"{args.repeat} interleaved runs after a warm-up; "
          f"{runs['gridmap'][0]['assigned']:,} points in a polygon; load average "
          f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after on {os.cpu_count()} CPUs)")
    print(f"  {'method':<26}{'median s':>10}{'min–max s':>16}{'CPU s':>8}{'points/s':>12}"
          f"{'peak MiB':>10}")
    for label, name in (("gridmap label_points", "gridmap"), ("geopandas.sjoin(within)", "sjoin")):
        med, lo, hi = spread(times[name])
        print(f"  {label:<26}{med:>10.3f}{f'{lo:.3f}–{hi:.3f}':>16}"
              f"{spread(cpus[name])[0]:>8.3f}{n / med:>12,.0f}{peaks[name]:>10.1f}")
    ratio = spread(times["sjoin"])[0] / spread(times["gridmap"])[0]
    same = len(digests) == 1
    print(f"  ratio of medians sjoin/gridmap: {ratio:.2f}x wall time, "
          f"{spread(cpus['sjoin'])[0] / spread(cpus['gridmap'])[0]:.2f}x CPU time "
          f"(target >= {TARGET:g}x); runs: "
          + ", ".join(f"{g:.3f}/{s:.3f}" for g, s in zip(times["gridmap"], times["sjoin"]))
          + f"; labels identical in every run: {same}")
    gm, sj = spread(times["gridmap"]), spread(times["sjoin"])
    cpu_ratio = spread(cpus["sjoin"])[0] / spread(cpus["gridmap"])[0]
    target = f"<= {1 / TARGET:.3f} (>= {TARGET:g}x faster)"
    figures = [
        Figure("assign 1M points to 10k grids", "s", gm, "geopandas.sjoin", sj, target,
               ratio >= TARGET and same),
        Figure("  the same, CPU time", "s", spread(cpus["gridmap"]), "geopandas.sjoin",
               spread(cpus["sjoin"]), target, cpu_ratio >= TARGET and same),
        Figure("  its peak memory", "MiB", (peaks["gridmap"],) * 3, "geopandas.sjoin",
               (peaks["sjoin"],) * 3, "<= 1", peaks["gridmap"] <= peaks["sjoin"]),
    ]
    if args.json:
        write_figures(args.json, figures)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
