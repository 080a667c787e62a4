"""Benchmark: the walking distance matrix among 50 and 200 stops — gridmap.routing (snap +
one scipy dijkstra from the stops cut into their edges) beside networkx and pgRouting's
``pgr_withPointsCostMatrix`` on the same graph and the same snapped stops, same run.

Networks: the real Helsinki walking network (``../shared/data/helsinki``, walk_edges,
EPSG:3067), noded by gridmap.routing (its node count is printed beside the file's), with
stops drawn (seeded) from its street lamps, fire hydrants and building centroids; and a
generated network of 50,000 edges (a jittered lattice with a few edges removed). Every peer
gets the graph already built (networkx: a Graph; pgRouting: a table of edges, read by each
query as pgRouting does), and the stops as (edge, offset). Each matrix is checked against
gridmap's (≤ 1 mm). Figures are medians of ``--repeat`` runs.

networkx runs Dijkstra from both ends of each stop's edge and combines the four partial
sums, the textbook way (on Helsinki only: on the generated network it takes half a minute
per matrix); pgRouting is skipped (and said so) when the extension cannot be created in
``$BENCH_DATABASE_URL``. Runs are interleaved (A B B A …) after one warm-up each.
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

import numpy as np
import shapely

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from common import Figure, spread, write_figures  # noqa: E402

from gridmap.routing import (WalkGraph, Ways, distance_matrix, node_ways, snap,  # noqa: E402
                             tour_paths)

HELSINKI = HERE.parent.parent / "shared" / "data" / "helsinki" / "helsinki_center_derived.gpkg"
TARGETS = {50: 0.1, 200: 0.5}  # seconds: the matrix's share of the whole route's budget
# On the generated district-sized network: stops spread over all of it (no grid is that big:
# the whole-route budget for 200 stops, 1.5 s, is the target), and stops inside one 600 m
# square, as a grid's are.
GENERATED_TARGETS = {"spread": 1.5, "in one grid": 0.5}
GENERATED_EDGES = 50_000
GRID_SIDE = 600.0


def helsinki(seed: int) -> tuple[WalkGraph, dict[int, np.ndarray]]:
    import pyogrio
    from pyproj import Transformer

    edges = pyogrio.read_dataframe(HELSINKI, layer="walk_edges")
    noded = node_ways(Ways(np.asarray(edges.geometry.values, dtype=object),
                           np.zeros(len(edges), int), np.arange(len(edges))))
    trans = Transformer.from_crs(4326, 3067, always_xy=True)
    project = lambda xy: np.column_stack(trans.transform(xy[:, 0], xy[:, 1]))  # noqa: E731
    geoms = shapely.transform(noded.geoms, project)
    graph = WalkGraph(epsg=3067, node_xy=project(noded.node_xy), source=noded.source,
                      target=noded.target, length=shapely.length(geoms), geoms=geoms)
    print(f"Helsinki: {graph.n_nodes} nodes, {graph.n_edges} edges noded by gridmap "
          f"(the file: {len(np.unique(np.r_[edges.u, edges.v]))} nodes, {len(edges)} edges)")
    pois = pyogrio.read_dataframe(HELSINKI, layer="pois_points")
    wanted = pois[(pois["highway"] == "street_lamp") | (pois["emergency"] == "fire_hydrant")]
    buildings = pyogrio.read_dataframe(HELSINKI, layer="buildings")
    points = np.r_[shapely.get_coordinates(wanted.geometry.values),
                   shapely.get_coordinates(shapely.point_on_surface(buildings.geometry.values))]
    points = project(points)
    # The file's graph has pieces apart from the main one (62 by its own u/v columns): draw
    # the stops among the points whose nearest edge is on the largest, as a route's are.
    largest = np.bincount(graph.components).argmax()
    on_largest = snap(graph, points, max_snap_m=np.inf).component == largest
    print(f"Helsinki: {graph.components.max() + 1} connected pieces; "
          f"{on_largest.sum()} of {len(points)} lamps, hydrants and buildings on the largest "
          f"({(graph.components == largest).sum()} nodes)")
    points = points[on_largest]
    rng = np.random.default_rng(seed)
    return graph, {k: points[rng.choice(len(points), k, replace=False)] for k in TARGETS}


def generated(seed: int) -> tuple[WalkGraph, dict[str, dict[int, np.ndarray]]]:
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(GENERATED_EDGES / 2))) + 1  # 2·side·(side−1) lattice edges
    xy = np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2) * 80.0
    xy += rng.uniform(-15, 15, xy.shape)
    index = np.arange(side * side).reshape(side, side)
    pairs = np.r_[np.column_stack([index[:, :-1].ravel(), index[:, 1:].ravel()]),
                  np.column_stack([index[:-1, :].ravel(), index[1:, :].ravel()])]
    pairs = pairs[rng.choice(len(pairs), GENERATED_EDGES, replace=False)]
    middle = (xy[pairs[:, 0]] + xy[pairs[:, 1]]) / 2 + rng.uniform(-5, 5, (len(pairs), 2))
    coords = np.stack([xy[pairs[:, 0]], middle, xy[pairs[:, 1]]], 1).reshape(-1, 2)
    lines = shapely.linestrings(coords, indices=np.repeat(np.arange(len(pairs)), 3))
    start = time.perf_counter()
    noded = node_ways(Ways(lines, np.zeros(len(lines), int), np.arange(len(lines))))
    graph = WalkGraph.from_noded(noded, 4547)
    print(f"generated: {graph.n_nodes} nodes, {graph.n_edges} edges, noded in "
          f"{time.perf_counter() - start:.2f} s")
    extent = xy.max(axis=0)
    corner = rng.uniform(0, extent - GRID_SIDE)
    return graph, {"spread": {k: rng.uniform(0, extent, (k, 2)) for k in TARGETS},
                   "in one grid": {k: corner + rng.uniform(0, GRID_SIDE, (k, 2))
                                   for k in TARGETS}}


def ours(graph: WalkGraph, points: np.ndarray):
    stops = snap(graph, points, max_snap_m=1e9)
    return distance_matrix(stops), stops


class NetworkxPeer:
    name = "networkx"

    def __init__(self, graph: WalkGraph) -> None:
        import networkx as nx

        self.nx = nx
        self.g = nx.Graph()
        for u, v, w in zip(graph.source.tolist(), graph.target.tolist(), graph.length.tolist()):
            if u != v and (not self.g.has_edge(u, v) or self.g[u][v]["weight"] > w):
                self.g.add_edge(u, v, weight=w)
        self.graph = graph

    def matrix(self, stops) -> np.ndarray:
        graph, k = self.graph, len(stops)
        ends = np.column_stack([graph.source[stops.edge], graph.target[stops.edge]])
        partial = np.column_stack([stops.offset, graph.length[stops.edge] - stops.offset])
        reach = {int(n): self.nx.single_source_dijkstra_path_length(self.g, int(n))
                 for n in np.unique(ends)}
        out = np.full((k, k), np.inf)
        for a, b in itertools.product(range(k), repeat=2):
            best = (abs(stops.offset[a] - stops.offset[b]) if stops.edge[a] == stops.edge[b]
                    else np.inf)
            for i, j in itertools.product(range(2), repeat=2):
                d = reach[int(ends[a, i])].get(int(ends[b, j]))
                if d is not None:
                    best = min(best, partial[a, i] + d + partial[b, j])
            out[a, b] = best
        return out


class PgRoutingPeer:
    name = "pgr_withPointsCostMatrix"

    def __init__(self, graph: WalkGraph, url: str) -> None:
        from sqlalchemy import create_engine, text

        from gridmap.db import normalise_url

        self.text = text
        self.engine = create_engine(normalise_url(url))
        with self.engine.begin() as conn:
            conn.execute(text("create extension if not exists pgrouting"))
            conn.execute(text("drop table if exists bench_walk_edge"))
            conn.execute(text("create table bench_walk_edge (id bigint primary key, "
                              "source bigint, target bigint, cost float8)"))
            conn.execute(text("""insert into bench_walk_edge
                select * from unnest(cast(:id as bigint[]), cast(:s as bigint[]),
                                     cast(:t as bigint[]), cast(:c as float8[]))"""),
                         {"id": list(range(1, graph.n_edges + 1)),
                          "s": (graph.source + 1).tolist(), "t": (graph.target + 1).tolist(),
                          "c": graph.length.tolist()})
        self.graph = graph

    def matrix(self, stops) -> np.ndarray:
        k = len(stops)
        # pgRouting returns nothing for a point at fraction 0 or 1 (a stop snapped to a
        # node): move it off the node by a nanometre's worth.
        fraction = np.clip(stops.offset / self.graph.length[stops.edge], 1e-10, 1 - 1e-10)
        values = ", ".join(f"({i + 1}, {int(e) + 1}, {float(f)!r}::float8, 'b'::char)"
                           for i, (e, f) in enumerate(zip(stops.edge, fraction)))
        points = f"select * from (values {values}) as p(pid, edge_id, fraction, side)"
        with self.engine.connect() as conn:
            rows = conn.execute(self.text("""
                select start_vid, end_vid, agg_cost from pgr_withPointsCostMatrix(
                  'select id, source, target, cost, cost as reverse_cost from bench_walk_edge',
                  :points, cast(:pids as bigint[]), directed => false)"""),
                {"points": points, "pids": [-(i + 1) for i in range(k)]}).all()
        out = np.full((k, k), np.inf)
        np.fill_diagonal(out, 0.0)
        for s, t, cost in rows:
            out[-s - 1, -t - 1] = cost
        return out

    def close(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.text("drop table if exists bench_walk_edge"))
        self.engine.dispose()


def interleaved(ours_fn, peer_fn, repeat: int):
    """Times of both after one untimed warm-up each, runs interleaved (A B B A …) so that
    noise from a busy machine hits both; returns both time lists and both last results."""
    results = [ours_fn(), peer_fn()]
    times: list[list[float]] = [[], []]
    for run in range(repeat):
        for side in ((0, 1) if run % 2 == 0 else (1, 0)):
            start = time.perf_counter()
            results[side] = (ours_fn, peer_fn)[side]()
            times[side].append(time.perf_counter() - start)
    return times[0], times[1], results[0], results[1]


def bench_network(label: str, graph: WalkGraph, stop_sets: dict[int, np.ndarray], peers,
                  repeat: int, targets: dict[int, float]) -> list[Figure]:
    figures = []
    for k, points in stop_sets.items():
        _, stops = ours(graph, points)
        start = time.perf_counter()
        legs = tour_paths(stops, [*range(k), 0])
        print(f"{label}, {k} stops: path geometry of a {k}-leg tour (stops in drawn order) "
              f"{time.perf_counter() - start:.3f} s, {sum(leg.length for leg in legs) / 1000:.1f} km",
              flush=True)
        for peer in peers:
            times, peer_times, (matrix, _), theirs = interleaved(
                lambda: ours(graph, points), lambda: peer.matrix(stops), repeat)
            finite = np.isfinite(matrix)
            assert np.array_equal(finite, np.isfinite(theirs)), f"{peer.name}: reachability"
            worst = float(np.abs(matrix[finite] - theirs[finite]).max())
            assert worst < 1e-3, f"{peer.name} differs by {worst} m"
            target, median = targets[k], spread(times)[0]
            figures.append(Figure(f"{label}: matrix, {k} stops", "s", spread(times),
                                  peer.name, spread(peer_times), f"≤ {target} s",
                                  median <= target))
            print(f"{label}, {k} stops: gridmap {median:.4f} s, {peer.name} "
                  f"{spread(peer_times)[0]:.4f} s (same matrix, worst difference {worst:.1e} m;"
                  f" load average {os.getloadavg()[0]:.1f})", flush=True)
    return figures


def with_peers(graph: WalkGraph, url: str, run, *, networkx: bool = True) -> None:
    peers: list = [NetworkxPeer(graph)] if networkx else []
    try:
        peers.append(PgRoutingPeer(graph, url))
    except Exception as exc:  # noqa: BLE001 — a missing peer is reported, not fatal
        print(f"bench: pgRouting peer skipped: {str(exc).splitlines()[0]}", file=sys.stderr)
    try:
        run(peers)
    finally:
        for peer in peers:
            getattr(peer, "close", lambda: None)()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="Also write the figures here (bench/run.py).")
    args = parser.parse_args(argv)
    url = os.environ.get("BENCH_DATABASE_URL",
                         "postgresql://postgres@127.0.0.1:5432/gridmap_bench")
    if not HELSINKI.exists():
        print(f"bench: {HELSINKI} is missing", file=sys.stderr)
        return 1
    figures = []
    graph, stops = helsinki(args.seed)
    with_peers(graph, url, lambda peers: figures.extend(bench_network(
        "Helsinki", graph, stops, peers, args.repeat, TARGETS)))
    graph, sets = generated(args.seed)
    for where, stops in sets.items():
        with_peers(graph, url, lambda peers: figures.extend(bench_network(
            f"generated 50,000 edges, stops {where}", graph, stops, peers,
            max(1, args.repeat // 2), {k: GENERATED_TARGETS[where] for k in stops})),
            networkx=False)
    if args.json:
        write_figures(args.json, figures)
    return 0 if all(f.met for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
