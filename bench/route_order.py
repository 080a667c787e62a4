"""Benchmark: ordering a day's stops (gridmap.routing.tsp) beside OR-Tools, LKH-3, VROOM and
pgRouting, every method on the same walking distance matrix in the same run (issue 10).

Instances (seeded): 50 and 200 stops drawn from the street lamps, fire hydrants and buildings of
Helsinki's centre (../shared/data/helsinki, walk_edges: its largest connected piece, 5,262 of
5,559 nodes), the station being the first stop drawn; 50 and 200 random stops on a generated
network of ~50,000 edges (a jittered 160 × 160 street grid, 2% of the blocks' sides removed).
Stops are snapped to the nearest node of the network (the snap distance is added at both ends).

The matrix is computed here with scipy.sparse.csgraph.dijkstra from every stop's node (its
time is the same for every method); the path geometry (the walked line through the legs, from
the Dijkstra predecessors) is timed once and added to each method's whole-route time. Methods:
gridmap (``order_stops``, timed ``--repeat`` times), greedy + 2-opt in numpy (the own local
search the choice was weighed against), OR-Tools routing with guided local search at 1 s and
30 s (its time is the limit it is given), elkai (LKH-3) with 1 and 10 runs, pyvroom
(exploration level 5, 2 threads), pgRouting's ``pgr_TSP`` (the matrix is in a table of the
bench database first; only the query is timed). The reference is the shortest tour of the run.
A peer that is not installed is said so and left out. Targets: gridmap's tour within 0.3% of
the reference; on Helsinki the whole route ≤ 0.3 s for 50 stops, ≤ 1.5 s for 200.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from common import Figure, spread, write_figures  # noqa: E402

from gridmap.routing.tsp import nearest_neighbour, order_stops, tour_length  # noqa: E402

HELSINKI = HERE.parent.parent / "shared" / "data" / "helsinki" / "helsinki_center_derived.gpkg"
GAP = 0.3  # % over the reference
WHOLE = {50: 0.3, 200: 1.5}  # s, Helsinki


def helsinki() -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Walking graph (metres), node coordinates (ETRS-TM35FIN; nodes off the largest piece
    pushed far away so that no stop snaps to them) and the candidate stops."""
    import pyogrio
    import pyproj
    import shapely

    edges = pyogrio.read_dataframe(HELSINKI, layer="walk_edges", read_geometry=False,
                                   columns=["u", "v", "length"])
    nodes = pyogrio.read_dataframe(HELSINKI, layer="walk_nodes")
    to_m = pyproj.Transformer.from_crs(4326, 3067, always_xy=True)
    xy = np.column_stack(to_m.transform(nodes.geometry.x.values, nodes.geometry.y.values))
    index = {k: i for i, k in enumerate(nodes["id"].to_numpy())}
    u = np.array([index[k] for k in edges["u"]])
    v = np.array([index[k] for k in edges["v"]])
    graph = _undirected(u, v, edges["length"].to_numpy(), len(xy))
    pois = pyogrio.read_dataframe(HELSINKI, layer="pois_points")
    keep = (pois["highway"] == "street_lamp") | (pois["emergency"] == "fire_hydrant")
    buildings = pyogrio.read_dataframe(HELSINKI, layer="buildings").geometry.values
    lonlat = np.vstack([shapely.get_coordinates(pois.geometry.values[keep.to_numpy()]),
                        shapely.get_coordinates(shapely.point_on_surface(
                            shapely.make_valid(buildings)))])
    return graph, _largest_piece(graph, xy), np.column_stack(to_m.transform(*lonlat.T))


def generated(seed: int, side: int = 160, spacing: float = 40.0):
    """A jittered street grid of ~50,000 edges, lengths 1–1.3 × straight, and random stops."""
    rng = np.random.default_rng(seed)
    xy = np.indices((side, side)).reshape(2, -1).T * spacing
    xy = xy + rng.uniform(-spacing / 4, spacing / 4, xy.shape)
    ids = np.arange(side * side).reshape(side, side)
    pairs = np.vstack([np.column_stack([ids[:-1].ravel(), ids[1:].ravel()]),
                       np.column_stack([ids[:, :-1].ravel(), ids[:, 1:].ravel()])])
    pairs = pairs[rng.random(len(pairs)) > 0.02]
    length = np.linalg.norm(xy[pairs[:, 0]] - xy[pairs[:, 1]], axis=1)
    graph = _undirected(pairs[:, 0], pairs[:, 1], length * rng.uniform(1, 1.3, len(pairs)),
                        len(xy))
    return graph, _largest_piece(graph, xy), rng.uniform(0, side * spacing, (20_000, 2))


def _undirected(u, v, w, n) -> sp.csr_matrix:
    """Both directions of every way; of parallel ways, the shortest."""
    row, col, d = np.r_[u, v], np.r_[v, u], np.r_[w, w]
    order = np.lexsort((d, col, row))
    row, col, d = row[order], col[order], d[order]
    first = np.r_[True, (row[1:] != row[:-1]) | (col[1:] != col[:-1])]
    return sp.csr_matrix((d[first], (row[first], col[first])), shape=(n, n))


def _largest_piece(graph, xy):
    _, label = connected_components(graph, directed=False)
    xy = xy.copy()
    xy[label != np.bincount(label).argmax()] = 1e12
    return xy


def stop_matrix(graph, xy, stops_xy):
    """The stops' walking matrix (snap distances added) and what the path geometry needs."""
    snap, node = cKDTree(xy).query(stops_xy)
    unique, inverse = np.unique(node, return_inverse=True)
    dist, pred = dijkstra(graph, directed=True, indices=unique, return_predecessors=True)
    matrix = dist[:, unique][np.ix_(inverse, inverse)] + snap[:, None] + snap[None, :]
    np.fill_diagonal(matrix, 0)
    return matrix, (node, inverse, pred)


def path_geometry(legs, xy, stops_xy, order) -> np.ndarray:
    """Coordinates of the walked line: each leg from the Dijkstra predecessors."""
    node, inverse, pred = legs
    line = [stops_xy[order[0]]]
    for a, b in zip(order[:-1], order[1:]):
        row, walk, at = pred[inverse[a]], [], node[b]
        while at >= 0 and at != node[a]:
            walk.append(at)
            at = row[at]
        line += [xy[node[a]], *xy[walk[::-1]], stops_xy[b]]
    return np.asarray(line)


def two_opt(matrix: np.ndarray) -> np.ndarray:
    """Greedy tour improved by best-improvement 2-opt, vectorised in numpy."""
    order = nearest_neighbour(matrix)
    while True:
        a, b = order[:-1], order[1:]
        gain = (matrix[a, b][:, None] + matrix[a, b][None, :]
                - matrix[a[:, None], a[None, :]] - matrix[b[:, None], b[None, :]])
        gain = np.triu(gain, 2)
        i, j = np.unravel_index(np.argmax(gain), gain.shape)
        if gain[i, j] <= 1e-9:
            return order
        order[i + 1:j + 1] = order[i + 1:j + 1][::-1].copy()


def ortools(matrix: np.ndarray, seconds: int) -> np.ndarray:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    manager = pywrapcp.RoutingIndexManager(len(matrix), 1, 0)
    model = pywrapcp.RoutingModel(manager)
    cost = model.RegisterTransitMatrix(np.rint(matrix * 100).astype(np.int64).tolist())
    model.SetArcCostEvaluatorOfAllVehicles(cost)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
    params.time_limit.seconds = seconds
    solution = model.SolveWithParameters(params)
    index, order = model.Start(0), []
    while not model.IsEnd(index):
        order.append(manager.IndexToNode(index))
        index = solution.Value(model.NextVar(index))
    return np.array(order + [0])


def elkai_runs(matrix: np.ndarray, runs: int) -> np.ndarray:
    import elkai

    return np.array(elkai.DistanceMatrix(matrix.tolist()).solve_tsp(runs=runs))


def vroom_tour(matrix: np.ndarray) -> np.ndarray:
    import vroom

    problem = vroom.Input()
    problem.set_durations_matrix("car", np.rint(matrix * 100).astype(np.uint32))
    problem.add_vehicle(vroom.Vehicle(1, start=0, end=0))
    problem.add_job([vroom.Job(i, location=i) for i in range(1, len(matrix))])
    steps = problem.solve(exploration_level=5, nb_threads=2).routes
    return np.array([0, *steps.loc[steps["type"] == "job", "location_index"], 0])


def pgr_tsp(matrix: np.ndarray, url: str) -> tuple[np.ndarray, float]:
    """pgr_TSP on the matrix put into a table first; returns the tour and the query's time."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create extension if not exists pgrouting")
        conn.execute("create temporary table m (start_vid bigint, end_vid bigint, "
                     "agg_cost float8)")
        n = len(matrix)
        i, j = np.nonzero(~np.eye(n, dtype=bool))
        with conn.cursor().copy("copy m from stdin") as copy:
            for row in zip((i + 1).tolist(), (j + 1).tolist(), matrix[i, j].tolist()):
                copy.write_row(row)
        started = time.perf_counter()
        rows = conn.execute("select node from pgr_TSP('select * from m', start_id => 1) "
                            "order by seq").fetchall()
        seconds = time.perf_counter() - started
    return np.array([r[0] - 1 for r in rows]), seconds


def peers(url: str):
    """(name, function of the matrix returning the tour and seconds), for the installed."""
    def timed(f):
        def run(m):
            started = time.perf_counter()
            order = f(m)
            return order, time.perf_counter() - started
        return run
    found = [("greedy+2-opt", timed(two_opt))]
    for module, entries in [
            ("ortools", [("OR-Tools GLS 1 s", lambda m: ortools(m, 1)),
                         ("OR-Tools GLS 30 s", lambda m: ortools(m, 30))]),
            ("elkai", [("elkai 1 run", lambda m: elkai_runs(m, 1)),
                       ("elkai 10 runs", lambda m: elkai_runs(m, 10))]),
            ("vroom", [("pyvroom", vroom_tour)])]:
        try:
            __import__(module)
            found += [(name, timed(f)) for name, f in entries]
        except ImportError:
            print(f"bench: {module} is not installed: its rows are left out", file=sys.stderr)
    try:
        import psycopg

        with psycopg.connect(url) as conn:
            if not conn.execute("select 1 from pg_available_extensions "
                                "where name = 'pgrouting'").fetchone():
                raise RuntimeError("pgRouting is not installed (make system-bench)")
        found.append(("pgr_TSP", lambda m: pgr_tsp(m, url)))
    except Exception as error:  # noqa: BLE001 — any reason is reported, the bench goes on
        print(f"bench: pgr_TSP left out ({str(error).strip()[:120]})", file=sys.stderr)
    return found


def check(order: np.ndarray, n: int) -> np.ndarray:
    order = np.asarray(order)
    if order[0] != order[-1]:
        order = np.r_[order, order[0]]
    assert sorted(order[:-1].tolist()) == list(range(n)), "not a tour of every stop"
    return order


def median_time(f, repeat: int, cpu: list | None = None):
    """``f()``'s last result and the spread of its wall-clock times (its CPU times appended to
    ``cpu``: on a busy machine the wall clock says more about the others)."""
    times = []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = f()
        times.append(time.perf_counter() - started)
        if cpu is not None:
            cpu.append(time.process_time() - cpu_started)
    return result, spread(times)


def run_instance(name, graph, xy, candidates, k, seed, repeat, methods):
    rng = np.random.default_rng(seed)
    stops = candidates[rng.choice(len(candidates), k, replace=False)]
    (matrix, legs), t_matrix = median_time(lambda: stop_matrix(graph, xy, stops), repeat)
    cpu: list[float] = []
    tour, t_order = median_time(lambda: order_stops(matrix, seed=seed), repeat, cpu)
    _, t_geometry = median_time(lambda: path_geometry(legs, xy, stops, tour.order), repeat)
    rows = [("gridmap", t_order, tour.length)]
    for peer, solve in methods:
        order, seconds = solve(matrix)
        rows.append((peer, (seconds,) * 3, tour_length(matrix, check(order, k))))
    reference = min(r[2] for r in rows)
    print(f"\n{name}: {k} stops (seed {seed}), matrix {t_matrix[0]:.3f} s, path geometry "
          f"{t_geometry[0]:.3f} s, reference tour {reference:.0f} m; gridmap's ordering "
          f"{np.median(cpu):.3f} s of CPU")
    print(f"  {'method':18} {'order s':>8} {'whole s':>8} {'tour m':>9} {'% over ref':>10} "
          f"{'gridmap/peer: time':>19} {'length':>7}")
    for peer, t, length in rows:
        whole = t_matrix[0] + t_geometry[0] + t[0]
        print(f"  {peer:18} {t[0]:8.3f} {whole:8.3f} {length:9.0f} "
              f"{100 * (length / reference - 1):10.2f} {t_order[0] / t[0]:19.3f} "
              f"{tour.length / length:7.4f}")
    whole = tuple(m + g + o for m, g, o in zip(t_matrix, t_geometry, t_order))
    ok_gap = tour.length <= reference * (1 + GAP / 100)
    limit = WHOLE.get(k) if name == "Helsinki" else None
    figures = [Figure(f"order {name} {k}: tour vs {peer}", "m", (tour.length,) * 3, peer,
                      (length,) * 3, f"≤ +{GAP}% over best of run", ok_gap)
               for peer, _, length in rows[1:]]
    figures.append(Figure(f"order {name} {k}: whole route", "s", whole, "OR-Tools GLS 1 s",
                          (t_matrix[0] + t_geometry[0] + 1.0,) * 3,
                          f"≤ {limit} s" if limit else "(none)",
                          whole[0] <= limit if limit else True))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--json", type=Path, help="Also write the figures here (bench/run.py).")
    args = parser.parse_args(argv)
    url = os.environ.get("BENCH_DATABASE_URL",
                         "postgresql://postgres@127.0.0.1:5432/gridmap_bench")
    load = os.getloadavg()[0]
    print(f"load average {load:.2f} on {os.cpu_count()} cores at the start")
    methods = peers(url)
    figures = []
    networks = [("generated", lambda: generated(args.seed))]
    if HELSINKI.exists():
        networks.insert(0, ("Helsinki", helsinki))
    else:
        print(f"bench: {HELSINKI} is missing: Helsinki left out", file=sys.stderr)
    for name, build in networks:
        graph, xy, candidates = build()
        print(f"\n{name}: {graph.shape[0]} nodes, {graph.nnz // 2} edges")
        for k in args.sizes:
            figures += run_instance(name, graph, xy, candidates, k, args.seed + k, args.repeat,
                                    methods)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
    if args.json:
        write_figures(args.json, figures)
    return 0 if all(f.met for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
