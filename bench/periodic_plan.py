"""Benchmark: a grid worker's 7-day inspection plan (gridmap.routing.periodic with the tour
engine gridmap.routing.tsp) on Helsinki's walking network (issue 10).

The grid: the 50 street lamps / fire hydrants and the 500 other places (buildings; the data's
486 are too few, so the nearest other lamps and hydrants stand in) nearest to a seeded
building of Helsinki's centre (../shared/data/helsinki), the station at that building. Buildings
are visited every 7 days (1 min each: a walk-by check), none yet (a new grid's first week:
each once within it);
facilities every 3, 7 or 14 days (1 min each). The working day is 4 hours of walking (1.2 m/s,
an inspection pace) and visits. The walking matrix (551 places) comes from scipy's Dijkstra
as in bench/route_order.py, and is timed apart. Peer: the same plan with the days left in
cheapest-insertion order (no tour engine). Targets: the plan ≤ 10 s, every building visited
within its cycle, every day within its length.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from common import Figure, finish  # noqa: E402
from route_order import HELSINKI, helsinki, stop_matrix  # noqa: E402

from gridmap.routing.periodic import Due, plan_days  # noqa: E402
from gridmap.routing.tsp import order_stops  # noqa: E402

SPEED = 1.2  # m/s (4.3 km/h)
DAY = 4 * 3600.0
DAYS = 7


def grid_stops(candidates: np.ndarray, facilities: int, rng) -> tuple[np.ndarray, int]:
    """A station, the 50 lamps/hydrants nearest to it (the facilities) and the 500 other
    places nearest to it (the data's 486 buildings are too few: lamps and hydrants beyond
    the 50 stand in for the rest)."""
    centre = candidates[rng.integers(facilities, len(candidates))]
    _, near_f = cKDTree(candidates[:facilities]).query(centre, k=50)
    others = np.delete(np.arange(len(candidates)), near_f)
    _, near_b = cKDTree(candidates[others]).query(centre, k=500)
    return np.vstack([centre, candidates[others[near_b]], candidates[near_f]]), 500


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="Also write the figures here (bench/run.py).")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    if not HELSINKI.exists():
        print(f"bench: {HELSINKI} is missing: periodic plan left out", file=sys.stderr)
        return finish(args.json, [], load)
    graph, xy, candidates = helsinki()
    import pyogrio

    pois = pyogrio.read_dataframe(HELSINKI, layer="pois_points", read_geometry=False)
    facilities = int(((pois["highway"] == "street_lamp")
                      | (pois["emergency"] == "fire_hydrant")).sum())
    rng = np.random.default_rng(args.seed)
    places, buildings = grid_stops(candidates, facilities, rng)
    started = time.perf_counter()
    metres, _ = stop_matrix(graph, xy, places)
    t_matrix = time.perf_counter() - started
    seconds = metres / SPEED
    due = [Due(f"building:{i}", i, 60.0, 6, 7)
           for i in range(1, buildings + 1)]
    due += [Due(f"facility:{i}", i, 60.0, int(rng.integers(0, every)), every)
            for i, every in zip(range(buildings + 1, len(places)),
                                rng.choice([3, 7, 14], len(places) - buildings - 1))]
    runs = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        plan = plan_days(seconds, due, days=DAYS, day_length_s=DAY,
                         order=lambda m: order_stops(m, seed=args.seed).order[:-1])
        runs.append(time.perf_counter() - started)
    started = time.perf_counter()
    plain = plan_days(seconds, due, days=DAYS, day_length_s=DAY)
    t_plain = time.perf_counter() - started
    visited = {v.key for v in plan.visits}
    missing = [s.key for s in due if s.key.startswith("building:") and s.key not in visited]
    over = [d.day for d in plan.days if d.total_s > DAY + 1e-6]
    print(f"Helsinki grid: {buildings} buildings, {len(due) - buildings} facilities, "
          f"{len(plan.visits)} visits in {DAYS} days; matrix {t_matrix:.2f} s")
    print(f"  {'day':>3} {'stops':>5} {'walk km':>8} {'hours':>6} {'plain walk km':>14}")
    for day, other in zip(plan.days, plain.days):
        print(f"  {day.day:3d} {len(day.keys):5d} {day.walk_s * SPEED / 1000:8.2f} "
              f"{day.total_s / 3600:6.2f} {other.walk_s * SPEED / 1000:14.2f}")
    print(f"  late {len(plan.late)}, unplanned {len(plan.unplanned)}, buildings not visited "
          f"{len(missing)}, days over length {over}")
    print(f"  plan {sorted(runs)[len(runs) // 2]:.2f} s (median of {len(runs)}; with the tour "
          f"engine on every day), insertion only {t_plain:.2f} s")
    walk = sum(d.walk_s for d in plan.days) * SPEED
    plain_walk = sum(d.walk_s for d in plain.days) * SPEED
    runs.sort()
    figures = [
        Figure("periodic 7 days, 500 buildings + 50 facilities: plan time", "s",
               (runs[len(runs) // 2], runs[0], runs[-1]), "insertion only", (t_plain,) * 3,
               "≤ 10 s, every building within its cycle, every day within its length",
               runs[len(runs) // 2] <= 10 and not missing and not over and not plan.late),
        Figure("periodic 7 days: walked in the week", "m", (walk,) * 3, "insertion only",
               (plain_walk,) * 3, "≤ the peer", walk <= plain_walk + 1e-6),
    ]
    return finish(args.json, figures, load)


if __name__ == "__main__":
    sys.exit(main())
