"""Benchmark: one z14 buildings tile (the district's densest) of a generated district of
200,000 buildings, fetched by 50 concurrent clients over HTTP from ``gridmap serve``:
p50/p95 latency uncached (a server started with ``GRIDMAP_TILE_CACHE=false``, so every
request renders) and cached (the shared tile cache), then the same with one client alone (what
one user panning waits; the targets are at 50 clients), beside the peer: the same tile as plain
``ST_AsMVT`` over PostgreSQL connections (50 of them, no HTTP, no cache, no scope, no
compression; the same columns), the query a pg_tileserv-style server runs (pg_tileserv and
Martin are not in Debian).

Targets (issue 9): p95 ≤ 50 ms uncached and ≤ 5 ms cached. The buildings are the export
benchmark's (``$BENCH_DATABASE_URL``, loaded through ``gridmap import`` when missing).
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import export_buildings  # noqa: E402  (starts the launchers before the large imports)

import os  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import psycopg  # noqa: E402
import requests  # noqa: E402

import import_buildings as imports  # noqa: E402
from common import Figure, building_arguments, spread, write_figures  # noqa: E402
from login import _free_port  # noqa: E402

CLIENTS = 50
WORKERS = 2  # gridmap serve's default
TARGETS = {"uncached": 50.0, "cached": 5.0}  # p95, ms
PEER = "plain ST_AsMVT over 50 psycopg connections"
PEER_SQL = """
    select ST_AsMVT(q, 'buildings', 4096, 'geom') from (
        select ST_AsMVTGeom(ST_Transform(t.footprint, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s),
                            4096, 64, true) as geom,
               t.id, t.name, t.use, t.households, t.floors,
               (select g.code from grid g where g.id = t.grid_id) as grid_code
        from building t
        where t.footprint && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s,
                                                          margin => 64.0 / 4096), 4490)) q
    where q.geom is not null
"""
DENSEST = """
    select x, y, count(*) from (
        select floor((ST_X(c) + 20037508.342789244) / s)::int as x,
               floor((20037508.342789244 - ST_Y(c)) / s)::int as y
        from (select ST_Centroid(footprint_3857) c, 40075016.68557849 / 2 ^ 14 as s
              from building) b) t
    group by x, y order by count(*) desc limit 1
"""


class Server:
    """``gridmap serve`` on the bench database, with extra environment."""

    def __init__(self, url: str, **env: str) -> None:
        self.base = f"http://127.0.0.1:{_free_port()}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gridmap.cli", "serve", "--port", self.base.rsplit(":", 1)[1],
             "--workers", str(WORKERS)], env={**os.environ, "DATABASE_URL": url, **env},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while True:
            try:
                if requests.get(self.base + "/api/health", timeout=10).ok:
                    return
            except requests.RequestException:  # not listening yet, or too busy to answer
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                self.close()
                raise imports.BenchError("gridmap serve did not start")
            time.sleep(0.3)

    def close(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=15)


def _concurrently(one, rounds: int, clients: int) -> tuple[list[float], float]:
    """``one(client index)`` ``rounds`` times in each of ``clients`` threads, started
    together: every latency (ms) and the wall time (s)."""
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)
    failures: list[str] = []

    def client(i: int) -> None:
        mine = []
        barrier.wait()
        for _ in range(rounds):
            start = time.perf_counter()
            problem = one(i)
            mine.append((time.perf_counter() - start) * 1000)
            if problem:
                failures.append(problem)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    if failures:
        raise imports.BenchError(f"{len(failures)} failed requests: {failures[0]}")
    return latencies, time.perf_counter() - start


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _http(base: str, path: str, key: str, rounds: int, expect: str,
          clients: int) -> tuple[list[float], float]:
    sessions = [requests.Session() for _ in range(clients)]
    for s in sessions:
        s.headers["X-API-Key"] = key

    def one(i: int) -> str | None:
        answer = sessions[i].get(base + path, timeout=120)
        if answer.status_code != 200 or not answer.content:
            return f"{answer.status_code} {answer.text[:200]}"
        if answer.headers.get("X-Tile-Cache") != expect:
            return f"X-Tile-Cache {answer.headers.get('X-Tile-Cache')}, expected {expect}"
        return None
    return _concurrently(one, rounds, clients)


def _peer(url: str, tile: dict[str, int], rounds: int,
          clients: int) -> tuple[list[float], float]:
    connections = [psycopg.connect(imports._dsn(url), autocommit=True) for _ in range(clients)]
    try:
        def one(i: int) -> str | None:
            body = connections[i].execute(PEER_SQL, tile).fetchone()[0]
            return None if body else "empty tile"
        return _concurrently(one, rounds, clients)
    finally:
        for c in connections:
            c.close()


def main(argv: list[str] | None = None) -> int:
    args, url = building_arguments(__doc__.splitlines()[0], 200_000, argv)
    try:
        return _bench(args, url)
    except (imports.BenchError, psycopg.OperationalError) as exc:
        print(f"bench: tiles: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    finally:
        export_buildings.LAUNCHER.close()
        imports.LAUNCHER.close()


def _key(url: str) -> str:
    from gridmap.auth import issue_key
    from gridmap.db import session_scope

    with session_scope(url) as session:
        return issue_key(session, "bench tiles", ["buildings"]).secret


def _bench(args, url: str) -> int:
    env = {**os.environ, "DATABASE_URL": url}
    export_buildings._ensure_buildings(url, args.count, args.seed, env)
    with psycopg.connect(imports._dsn(url), autocommit=True) as conn:
        x, y, count = conn.execute(DENSEST).fetchone()
        conn.execute("delete from tile_cache")
    tile = {"z": 14, "x": x, "y": y}
    path = f"/tiles/buildings/14/{x}/{y}.mvt"
    print(f"  tile {path}: {count:,} buildings; {CLIENTS} clients; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
    key = _key(url)
    # requests per client: at 50 clients, and one client alone (what one user panning sees)
    rounds = {("uncached", CLIENTS): 4, ("cached", CLIENTS): 40, ("uncached", 1): 30,
              ("cached", 1): 200}
    runs: dict[tuple[str, int], list[tuple[float, float, float]]] = {}
    for rep in range(args.repeat):
        for kind, env_extra in (("uncached", {"GRIDMAP_TILE_CACHE": "false"}),
                                ("cached", {})):
            server = Server(url, **env_extra)
            try:
                # warm up: the workers' first request, and the cache filled
                for _ in range(WORKERS * 2):
                    requests.get(server.base + path, headers={"X-API-Key": key}, timeout=120)
                for clients in (CLIENTS, 1):
                    times, wall = _http(server.base, path, key, rounds[kind, clients],
                                        "off" if kind == "uncached" else "hit", clients)
                    runs.setdefault((kind, clients), []).append(
                        (_p(times, 50), _p(times, 95), len(times) / wall))
            finally:
                server.close()
        for clients in (CLIENTS, 1):
            times, wall = _peer(url, tile, rounds["uncached", clients], clients)
            runs.setdefault(("peer", clients), []).append(
                (_p(times, 50), _p(times, 95), len(times) / wall))
        for (kind, clients), values in runs.items():
            p50, p95, rate = values[-1]
            print(f"  run {rep + 1} {kind:<9} {clients:>2} client{'s' if clients > 1 else ' '} "
                  f"p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  {rate:8.0f} tiles/s", flush=True)
    figures = []
    for clients in (CLIENTS, 1):
        peer_runs = runs["peer", clients]
        peer = {q: spread([r[i] for r in peer_runs]) for i, q in ((0, "p50"), (1, "p95"))}
        for kind in ("uncached", "cached"):
            for i, q in ((0, "p50"), (1, "p95")):
                ours = spread([r[i] for r in runs[kind, clients]])
                # the issue's targets are at 50 clients; one client's figures are context
                aimed = q == "p95" and clients == CLIENTS
                target = f"p95 <= {TARGETS[kind]:g} ms" if aimed else "-"
                met = ours[0] <= TARGETS[kind] if aimed else True
                figures.append(Figure(f"z14 buildings tile {kind}, {clients} client"
                                      f"{'s' if clients > 1 else ''}, {q}", "ms",
                                      ours, PEER, peer[q], target, met))
            figures.append(Figure(f"z14 buildings tile {kind}, {clients} client"
                                  f"{'s' if clients > 1 else ''}, throughput", "tiles/s",
                                  spread([r[2] for r in runs[kind, clients]]), PEER,
                                  spread([r[2] for r in peer_runs]), "-", True))
    print(f"  load average {os.getloadavg()[0]:.2f} after")
    if args.json:
        write_figures(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
