"""Benchmark: gridmap's partitioner beside spopt MaxPHeuristic and GerryChain, same units.

Instances (seeded): Kotka's real buildings (../shared/data/kotka, households derived as the
demo derives them, streets from its drive network, the community = the buildings' hull); a
generated community of ~450 buildings / ~5,000 households; a generated street of ~50,000
households in 10 communities, each partitioned inside its own boundary.

The peers get gridmap's own tiles and adjacency (Voronoi cells of buildings in road blocks),
restricted to the largest connected piece of residential tiles, and are timed from that graph;
gridmap is timed from the raw community (tiles included). Measures per instance: share of
residential grids within [250, 500], grids in more than one piece, Polsby–Popper mean and
minimum, share of the boundary between grids on roads, seconds, peak Python memory
(tracemalloc). A peer that will not install or is too slow for an instance is said so.
"""
from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import shapely

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from common import Figure, write_figures  # noqa: E402

from gridmap.partition import CommunityInput, partition_community  # noqa: E402
from gridmap.partition.community import connected_pieces, grid_shape, grid_count  # noqa: E402
from gridmap.partition.bisect import Bounds  # noqa: E402
from gridmap.partition.plan import polsby_popper_of, street_share  # noqa: E402
from gridmap.partition.tiles import build_tiles  # noqa: E402

KOTKA = HERE.parent.parent / "shared" / "data" / "kotka" / "kotka_test_derived.gpkg"
BOUNDS = Bounds(250, 500)
EPSG = 4545
MAXP_STREET = False  # MaxP takes ~30 s per community: not run on the 10-community street


def generated_community(seed: int, n: int = 450, households: int = 5000, *, origin=(0.0, 0.0),
                        boundary=None, code="gen") -> CommunityInput:
    rng = np.random.default_rng(seed)
    x0, y0 = origin
    if boundary is None:
        boundary = shapely.box(x0, y0, x0 + 1400, y0 + 1100)
    minx, miny, maxx, maxy = boundary.bounds
    pts = []
    while len(pts) < n:
        cand = rng.uniform([minx, miny], [maxx, maxy], size=(n, 2))
        keep = shapely.contains_xy(shapely.buffer(boundary, -8), cand[:, 0], cand[:, 1])
        pts += cand[keep].tolist()
    xy = np.array(pts[:n])
    roads = [shapely.LineString([(x, miny - 20), (x + rng.uniform(-40, 40), maxy + 20)])
             for x in np.arange(minx + 230, maxx - 100, 230) + rng.uniform(-30, 30)]
    roads += [shapely.LineString([(minx - 20, y), (maxx + 20, y + rng.uniform(-40, 40))])
              for y in np.arange(miny + 200, maxy - 100, 200) + rng.uniform(-30, 30)]
    road_zone = shapely.buffer(shapely.union_all(roads), 6)
    feet = shapely.difference(shapely.buffer(shapely.points(xy), rng.uniform(5, 9, n),
                                             cap_style="square"), road_zone)
    feet = np.array([max(shapely.get_parts(f), key=lambda p: p.area) if not f.is_empty
                     else shapely.buffer(shapely.points(p), 1) for f, p in zip(feet, xy)],
                    dtype=object)
    unit = rng.random(n) < 0.01
    share = rng.gamma(2.0, 1.0, n)
    share[unit] = 0
    hh = np.floor(share / share.sum() * households).astype(int)
    hh[~unit] = np.maximum(hh[~unit], 1)
    return CommunityInput(code=code, boundary=boundary, footprints=feet, households=hh,
                          unit=unit, labels=np.array([f"{code}:{i}" for i in range(n)], object),
                          roads=np.array(roads, dtype=object))


def generated_street(seed: int) -> list[CommunityInput]:
    rng = np.random.default_rng(seed)
    extent = shapely.box(0, 0, 5600, 2200)
    seeds = shapely.multipoints(np.column_stack([np.repeat(np.arange(5) * 1120 + 560, 2),
                                                 np.tile([550, 1650], 5)])
                                + rng.uniform(-150, 150, (10, 2)))
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(
        seeds, extend_to=extent)), extent)
    return [generated_community(seed + i, n=int(450 * c.area / (1120 * 1100)),
                                households=int(5000 * c.area / (1120 * 1100)), boundary=c,
                                code=f"street{i}") for i, c in enumerate(cells)]


def kotka_community() -> CommunityInput | None:
    if not KOTKA.exists():
        return None
    import geopandas as gpd

    from gridmap.ingest.households import derive_households
    from gridmap.partition.load import is_unit

    buildings = gpd.read_file(KOTKA, layer="buildings")
    roads = gpd.read_file(KOTKA, layer="drive_edges").to_crs(3067)
    metric = buildings.geometry.to_crs(3067)
    derived = derive_households(buildings, metric)
    feet = shapely.make_valid(metric.values)
    boundary = shapely.buffer(shapely.convex_hull(shapely.union_all(feet)), 25)
    return CommunityInput(code="kotka", boundary=boundary, footprints=np.asarray(feet, object),
                          households=derived["households"].to_numpy(),
                          unit=is_unit(derived["use"].to_numpy(object),
                                       derived["households"].to_numpy(),
                                       shapely.area(feet)),
                          labels=buildings["id"].astype(str).to_numpy(object),
                          roads=np.asarray(roads.geometry.values, object))


def _measure(geoms, households, cut_share) -> dict:
    geoms = np.asarray(geoms, dtype=object)
    pp = polsby_popper_of(geoms)
    households = np.asarray(households)
    return {"in_bounds": float(np.mean((households >= BOUNDS.low) & (households <= BOUNDS.high))),
            "pieces": int(np.sum(shapely.get_num_geometries(geoms) > 1)),
            "pp_mean": float(pp.mean()), "pp_min": float(pp.min()), "street": cut_share}


def run_gridmap(communities) -> dict:
    # Timed without tracemalloc (it slows Python several times); memory in a second run.
    started = time.perf_counter()
    plans = [partition_community(c, epsg=EPSG) for c in communities]
    seconds = time.perf_counter() - started
    tracemalloc.start()
    for c in communities:
        partition_community(c, epsg=EPSG)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    res = [g for p in plans for g in p.residential]
    out = _measure([g.geometry for g in res], [g.households for g in res],
                   float(np.mean([p.street_share for p in plans])))
    return {**out, "seconds": seconds, "memory": peak}


def _peer_graph(c: CommunityInput):
    graph = build_tiles(c.boundary, c.footprints, c.households, c.unit, c.roads)
    pieces = connected_pieces(graph, np.nonzero(~graph.unit)[0])
    nodes = max(pieces, key=lambda p: graph.households[p].sum())
    return graph, nodes


def _peer_measure(graph, nodes, labels_local, seconds, peak) -> dict:
    labels = np.full(graph.size, -1, dtype=np.int64)
    labels[nodes] = labels_local
    groups = np.unique(labels_local)
    geoms = [grid_shape(graph.geoms[labels == g]) for g in groups]
    hh = [int(graph.households[labels == g].sum()) for g in groups]
    tile_grid = np.where(labels >= 0, labels, -1 - np.arange(graph.size))
    inside = (labels[graph.u] >= 0) & (labels[graph.v] >= 0)
    share = street_share(tile_grid, graph.u[inside], graph.v[inside], graph.length[inside],
                         graph.road[inside])
    return {**_measure(geoms, hh, share), "seconds": seconds, "memory": peak}


def run_maxp(communities) -> dict:
    import geopandas as gpd
    from libpysal.weights import W
    from spopt.region import MaxPHeuristic

    results = []
    for c in communities:
        graph, nodes = _peer_graph(c)
        local = {int(n): i for i, n in enumerate(nodes)}
        neigh = {i: [] for i in range(len(nodes))}
        for a, b in zip(graph.u, graph.v):
            if a in local and b in local:
                neigh[local[a]].append(local[b])
                neigh[local[b]].append(local[a])
        frame = gpd.GeoDataFrame({"households": graph.households[nodes].astype(float),
                                  "x": graph.x[nodes], "y": graph.y[nodes]},
                                 geometry=list(graph.geoms[nodes]))
        def solve():
            model = MaxPHeuristic(frame, W(neigh, silence_warnings=True), ["x", "y"],
                                  "households", BOUNDS.low, top_n=2)
            model.solve()
            return np.asarray(model.labels_)

        labels, seconds, peak = _timed(solve)
        results.append(_peer_measure(graph, nodes, labels, seconds, peak))
    return _combine(results)


def run_gerrychain(communities, steps: int = 300) -> dict:
    import networkx as nx

    results = []
    for c in communities:
        graph, nodes = _peer_graph(c)
        g = nx.Graph()
        for i, n in enumerate(nodes):
            g.add_node(i, households=int(graph.households[n]))
        local = {int(n): i for i, n in enumerate(nodes)}
        g.add_edges_from((local[a], local[b]) for a, b in zip(graph.u, graph.v)
                         if a in local and b in local)
        total = int(graph.households[nodes].sum())
        k = grid_count(total, BOUNDS)

        def solve():
            return _gerrychain_plan(g, k, total, steps)

        labels, seconds, peak = _timed(solve)
        results.append(_peer_measure(graph, nodes, labels, seconds, peak))
    return _combine(results)


def _gerrychain_plan(g, k: int, total: int, steps: int) -> np.ndarray:
    from functools import partial

    from gerrychain import Graph, MarkovChain, Partition, accept, constraints, updaters
    from gerrychain.proposals import recom
    from gerrychain.tree import PopulationBalanceError, recursive_tree_part

    gg = Graph.from_networkx(g)
    target = total / k
    eps = min((BOUNDS.high - target) / target, (target - BOUNDS.low) / target)
    assignment = None
    for attempt in range(50):  # its last part may miss the balance: it is redrawn
        try:
            assignment = recursive_tree_part(gg, range(k), target, "households", eps,
                                             node_repeats=2, rng=attempt)
            break
        except PopulationBalanceError:
            continue
    if assignment is None:
        raise RuntimeError(f"recursive_tree_part found no {k}-part plan in 50 attempts")
    part = Partition(gg, assignment, {"households": updaters.Tally("households")})
    proposal = partial(recom, pop_col="households", pop_target=target, epsilon=eps,
                       node_repeats=2)
    chain = MarkovChain(proposal, [constraints.within_percent_of_ideal_population(
        part, eps, "households")], accept.always_accept, part, total_steps=steps, rng=0)
    for state in chain:
        part = state
    return np.array([part.assignment[i] for i in range(g.number_of_nodes())])


MEMORY_RUN_LIMIT_S = 30.0


def _timed(solve):
    """(result, seconds, peak MiB) of ``solve()``: timed without tracemalloc (it slows
    Python several times); the peak from a second run under it, when the first took less than
    :data:`MEMORY_RUN_LIMIT_S` (else NaN: not measured)."""
    started = time.perf_counter()
    result = solve()
    seconds = time.perf_counter() - started
    peak = float("nan")
    if seconds < MEMORY_RUN_LIMIT_S:
        tracemalloc.start()
        solve()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return result, seconds, peak


def _combine(results: list[dict]) -> dict:
    return {"in_bounds": float(np.mean([r["in_bounds"] for r in results])),
            "pieces": sum(r["pieces"] for r in results),
            "pp_mean": float(np.mean([r["pp_mean"] for r in results])),
            "pp_min": float(min(r["pp_min"] for r in results)),
            "street": float(np.mean([r["street"] for r in results])),
            "seconds": sum(r["seconds"] for r in results),
            "memory": max(r["memory"] for r in results)}


PEER_LIMIT_S = 180


def _timeout(signum, frame):
    raise TimeoutError(f"no answer within {PEER_LIMIT_S} s")


def _safe(name, run, communities):
    import signal

    signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(PEER_LIMIT_S)
    try:
        return run(communities)
    except ImportError as exc:
        print(f"bench: peer {name} is not installed ({exc}); its figures are missing",
              file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 — a peer's failure is reported, not hidden
        print(f"bench: peer {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    finally:
        signal.alarm(0)
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--peers", choices=("all", "gerrychain", "none"), default="all",
                        help="which peers to run beside gridmap (MaxP takes minutes: "
                             "'gerrychain' or 'none' while iterating; the default for the "
                             "figures)")
    parser.add_argument("--only", action="append", metavar="INSTANCE",
                        choices=("kotka", "generated community", "generated street"),
                        help="run only this instance (repeatable)")
    args = parser.parse_args(argv)
    instances = {"generated community": [generated_community(args.seed)],
                 "generated street": generated_street(args.seed)}
    kotka = kotka_community()
    if kotka is None:
        print(f"bench: {KOTKA} is missing; the Kotka instance is skipped", file=sys.stderr)
    else:
        instances = {"kotka": [kotka], **instances}
    if args.only:
        instances = {k: v for k, v in instances.items() if k in args.only}
    figures = []
    time_targets = {"generated community": 0.5, "generated street": 10.0}
    for name, communities in instances.items():
        hh = sum(int(c.households.sum()) for c in communities)
        nb = sum(len(c.footprints) for c in communities)
        ours = run_gridmap(communities)
        maxp = (_safe("spopt MaxPHeuristic", run_maxp, communities)
                if args.peers == "all" and (name != "generated street" or MAXP_STREET)
                else None)
        if args.peers == "all" and name == "generated street" and not MAXP_STREET:
            print("bench: MaxP is not run on the street instance (~30 s per community, "
                  "10 communities)", file=sys.stderr)
        gerry = (_safe("GerryChain", run_gerrychain, communities)
                 if args.peers in ("all", "gerrychain") else None)
        print(f"{name}: {len(communities)} communities, {nb} buildings, {hh} households")
        for who, r in (("gridmap", ours), ("MaxP", maxp), ("GerryChain", gerry)):
            if r is not None:
                print(f"  {who:<11} in bounds {r['in_bounds']:.0%}  pieces {r['pieces']}  PP "
                      f"mean {r['pp_mean']:.3f} min {r['pp_min']:.3f}  street "
                      f"{r['street']:.0%}  {r['seconds']:.2f} s  {r['memory']:.0f} MiB")
        for peer_name, peer in (("MaxP", maxp), ("GerryChain", gerry)):
            if peer is None:
                continue
            factor = 1.25 if peer_name == "MaxP" else 1.4
            figures += [
                Figure(f"{name}: PP mean", "PP", (ours["pp_mean"],) * 3, peer_name,
                       (peer["pp_mean"],) * 3, f"≥ 0.55 and ≥ {factor}× peer",
                       ours["pp_mean"] >= 0.55 and ours["pp_mean"] >= factor * peer["pp_mean"]),
                Figure(f"{name}: street share", "share", (ours["street"],) * 3, peer_name,
                       (peer["street"],) * 3, "> peer", ours["street"] > peer["street"]),
                Figure(f"{name}: in bounds", "share", (ours["in_bounds"],) * 3, peer_name,
                       (peer["in_bounds"],) * 3, "100%, 0 in pieces",
                       ours["in_bounds"] == 1.0 and ours["pieces"] == 0),
                Figure(f"{name}: seconds", "s", (ours["seconds"],) * 3, peer_name,
                       (peer["seconds"],) * 3,
                       f"≤ {time_targets[name]} s" if name in time_targets else "—",
                       ours["seconds"] <= time_targets.get(name, float("inf")))]
    if args.json:
        write_figures(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
