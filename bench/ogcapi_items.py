"""Benchmark: OGC API – Features items pages of 1,000 buildings under 20 concurrent clients on
loopback, ``gridmap serve`` beside pygeoapi serving the same table with its PostgreSQL
provider.

Both servers run under gunicorn with the same number of sync workers and read the same
200,000-building district (the export benchmark's, loaded through ``gridmap import`` when
missing). Each request asks for ``limit=1000`` inside one of 40 seeded bboxes, each holding
more than 1,000 buildings, so every answer is a full page of 1,000 features (checked on both
servers before timing). 20 client threads, each with its own keep-alive connection, request
pages back to back for a round's time, and finish the request under way; a request's time is
its round trip with the whole body read, the throughput the pages over the time until the
last answer. Rounds (15 s each; ``$BENCH_OGCAPI_SECONDS``) are interleaved (gridmap, pygeoapi,
pygeoapi, gridmap…). Figures: p50 and p95
latency and throughput (pages per second), then p50/p95 of one client alone (a third of a
round each). Targets: p95 ≤ 100 ms and ≥ 3× pygeoapi's throughput (at 20 clients).

pygeoapi is installed for the benchmark only, in a virtual environment of its own
(``var/bench-pygeoapi``, made by ``make bench``): it pins its own Flask and SQLAlchemy, and it
is never a dependency of gridmap.
"""
from __future__ import annotations

import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import export_buildings as exports  # noqa: E402 — the district and its 200,000 buildings
from common import Figure, building_arguments, finish, spread  # noqa: E402

REPO = HERE.parent
PYGEOAPI_VENV = REPO / "var" / "bench-pygeoapi"
CLIENTS = 20
PAGE = 1000
WORKERS = 4
P95_TARGET_MS = 100.0
THROUGHPUT_TARGET = 3.0
#: pygeoapi 0.21 turns a CRS84 bbox into EPSG:4490 latitude first and builds the envelope
#: from it in x = longitude order, so it finds nothing; asked with bbox-crs EPSG:4490 it takes
#: the numbers as they are (lon, lat: not the standard's order) and finds the same rows.
PEER_BBOX_CRS = "http://www.opengis.net/def/crs/EPSG/0/4490"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process on loopback, waited for until ``probe`` answers 200."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int,
                 probe: str) -> None:
        self.name, self.port = name, port
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.time() + 60
        while True:
            try:
                status, _ = _get(port, probe)
                if status == 200:
                    return
            except OSError:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")[-1500:] \
                    if self.proc.poll() is not None else "no answer in 60 s"
                self.close()
                raise exports.imports.BenchError(f"{name} did not start: {err}")
            time.sleep(0.5)

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)


def _get(port: int, path: str, conn: http.client.HTTPConnection | None = None):
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Accept": "application/geo+json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()


def _bboxes(url: str, count: int, seed: int) -> list[tuple[float, float, float, float]]:
    """``count`` seeded bboxes inside the district, each holding more than :data:`PAGE`
    buildings."""
    import random

    import psycopg

    rng = random.Random(seed)
    with psycopg.connect(exports.imports._dsn(url)) as conn:
        x0, y0, x1, y1 = conn.execute(
            "select ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) from "
            "(select ST_Extent(footprint) e from building) s").fetchone()
        boxes = []
        side = 0.12
        while len(boxes) < count:
            w, h = (x1 - x0) * side, (y1 - y0) * side
            bx, by = x0 + rng.random() * (x1 - x0 - w), y0 + rng.random() * (y1 - y0 - h)
            box = (bx, by, bx + w, by + h)
            inside = conn.execute(
                "select count(*) from building where "
                "ST_Intersects(footprint, ST_MakeEnvelope(%s, %s, %s, %s, 4490))", box
            ).fetchone()[0]
            if inside > PAGE:
                boxes.append(box)
    return boxes


def _paths(prefix: str, boxes, extra: dict[str, str]) -> list[str]:
    return [f"{prefix}?" + urlencode({"limit": PAGE, "bbox": ",".join(f"{v:.6f}" for v in b),
                                      **extra}) for b in boxes]


def _check(server: Server, paths: list[str]) -> None:
    """Every path answers a full page of 1,000 features."""
    import json

    for path in paths:
        status, body = _get(server.port, path)
        if status != 200:
            raise exports.imports.BenchError(f"{server.name} {path}: {status} {body[:300]!r}")
        returned = len(json.loads(body)["features"])
        if returned != PAGE:
            raise exports.imports.BenchError(f"{server.name} {path}: {returned} features")


def _load(server: Server, paths: list[str], seconds: float,
          clients: int = CLIENTS) -> tuple[list[float], float]:
    """Latencies (ms) of ``clients`` threads requesting ``paths`` for ``seconds``, and the
    pages per second."""
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []
    start = time.perf_counter() + 0.2
    stop = start + seconds

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        mine, i = [], n
        while time.perf_counter() < start:
            time.sleep(0.001)
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            try:
                status, _ = _get(server.port, paths[i % len(paths)], conn)
            except (OSError, http.client.HTTPException) as exc:
                errors.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
                continue
            if status != 200:
                errors.append(str(status))
            mine.append((time.perf_counter() - t0) * 1000)
            i += clients
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # until the last answer arrived: a slow server's last requests end well after ``stop``
    elapsed = time.perf_counter() - start
    if errors:
        raise exports.imports.BenchError(f"{server.name}: {len(errors)} failed requests, "
                                         f"e.g. {errors[0]}")
    return latencies, len(latencies) / elapsed


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def _pygeoapi(url: str, folder: Path, port: int) -> Server:
    """pygeoapi (its own venv) on ``port`` with the building table as a collection."""
    from sqlalchemy.engine import make_url

    db = make_url(url)
    python = PYGEOAPI_VENV / "bin" / "python"
    if not python.exists():
        raise exports.imports.BenchError(f"no {python}: `make bench` installs pygeoapi there")
    config = folder / "pygeoapi.yml"
    config.write_text(f"""
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  languages: [en-US]
  limits: {{default_items: {PAGE}, max_items: 10000}}
  map: {{url: "https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png", attribution: OSM}}
logging: {{level: ERROR}}
metadata:
  identification: {{title: bench, description: bench, keywords: [bench], terms_of_service: none,
                    url: http://127.0.0.1}}
  license: {{name: none, url: http://127.0.0.1}}
  provider: {{name: bench, url: http://127.0.0.1}}
  contact: {{name: bench}}
resources:
  buildings:
    type: collection
    title: buildings
    description: buildings
    keywords: [buildings]
    links: []
    extents:
      spatial: {{bbox: [-180, -90, 180, 90], crs: http://www.opengis.net/def/crs/OGC/1.3/CRS84}}
    providers:
      - type: feature
        name: PostgreSQL
        data:
          host: {db.host or '127.0.0.1'}
          port: {db.port or 5432}
          dbname: {db.database}
          user: {db.username or 'postgres'}
          password: "{db.password or ''}"
          search_path: [public]
        id_field: id
        table: building
        geom_field: footprint
        # gridmap's fields of a building (its grid code aside, a join pygeoapi cannot make);
        # without the list pygeoapi also sends the stored Web Mercator footprint, and fails
        # on it (a second geometry column it cannot serialise), and the stored GeoJSON
        properties: [name, use, households, floors, grid_id]
        storage_crs: http://www.opengis.net/def/crs/EPSG/0/4490
        crs: [http://www.opengis.net/def/crs/OGC/1.3/CRS84,
              http://www.opengis.net/def/crs/EPSG/0/4490]
""", encoding="utf-8")
    openapi = folder / "openapi.yml"
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    made = subprocess.run([str(PYGEOAPI_VENV / "bin" / "pygeoapi"), "openapi", "generate",
                           str(config), "--output-file", str(openapi)], env=env,
                          capture_output=True, text=True)
    if made.returncode:
        raise exports.imports.BenchError(f"pygeoapi openapi generate: {made.stderr[-800:]}")
    return Server("pygeoapi", [str(python), "-m", "gunicorn", "--workers", str(WORKERS),
                               "--bind", f"127.0.0.1:{port}", "pygeoapi.flask_app:APP"],
                  env, port, "/collections/buildings?f=json")


def main(argv: list[str] | None = None) -> int:
    args, url = building_arguments(__doc__.splitlines()[0], 200_000, argv)
    seconds = float(os.environ.get("BENCH_OGCAPI_SECONDS", "15"))
    try:
        return _bench(args, url, seconds)
    except exports.imports.BenchError as exc:
        print(f"bench: ogcapi_items: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    finally:
        exports.LAUNCHER.close()
        exports.imports.LAUNCHER.close()


def _bench(args, url: str, seconds: float) -> int:
    env = {**os.environ, "DATABASE_URL": url,
           "GRIDMAP_OGCAPI_PUBLIC_COLLECTIONS": "buildings"}
    exports._ensure_buildings(url, args.count, args.seed, env)
    boxes = _bboxes(url, 40, args.seed)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        servers: dict[str, Server] = {}
        try:
            # one by one inside the try: a peer that fails to start stops the other too
            servers["gridmap"] = Server("gridmap", [sys.executable, "-m", "gridmap.cli",
                                                    "serve", "--port", str(port), "--workers",
                                                    str(WORKERS)],
                                        env, port, "/ogcapi/collections/buildings")
            servers["pygeoapi"] = _pygeoapi(url, Path(tmp), _free_port())
            paths = {"gridmap": _paths("/ogcapi/collections/buildings/items", boxes, {}),
                     "pygeoapi": _paths("/collections/buildings/items", boxes,
                                        {"f": "json", "bbox-crs": PEER_BBOX_CRS})}
            for name, server in servers.items():
                _check(server, paths[name])
            runs: dict[str, list[tuple[float, float, float]]] = {"gridmap": [], "pygeoapi": []}
            for rep in range(args.repeat):
                for name in (("gridmap", "pygeoapi") if rep % 2 == 0
                             else ("pygeoapi", "gridmap")):
                    latencies, rate = _load(servers[name], paths[name], seconds)
                    runs[name].append((_p(latencies, 50), _p(latencies, 95), rate))
                    print(f"  run {rep + 1} {name:<9} p50 {runs[name][-1][0]:7.1f} ms  "
                          f"p95 {runs[name][-1][1]:7.1f} ms  {rate:7.1f} pages/s", flush=True)
            # one client alone: what one agency's client waits for a page
            alone: dict[str, tuple[float, float]] = {}
            for name in ("gridmap", "pygeoapi"):
                latencies, _ = _load(servers[name], paths[name], seconds / 3, clients=1)
                alone[name] = (_p(latencies, 50), _p(latencies, 95))
                print(f"  one client {name:<9} p50 {alone[name][0]:7.1f} ms  "
                      f"p95 {alone[name][1]:7.1f} ms", flush=True)
        finally:
            for server in servers.values():
                server.close()
    p50 = {n: spread([r[0] for r in rs]) for n, rs in runs.items()}
    p95 = {n: spread([r[1] for r in rs]) for n, rs in runs.items()}
    rate = {n: spread([r[2] for r in rs]) for n, rs in runs.items()}
    peer = "pygeoapi (PostgreSQL provider)"
    label = f"items page of {PAGE:,} buildings, {CLIENTS} clients"
    figures = [
        Figure(f"{label}: p50", "ms", p50["gridmap"], peer, p50["pygeoapi"], "(information)",
               True),
        Figure(f"{label}: p95", "ms", p95["gridmap"], peer, p95["pygeoapi"],
               f"p95 <= {P95_TARGET_MS:g} ms", p95["gridmap"][0] <= P95_TARGET_MS),
        Figure(f"{label}: throughput", "pages/s", rate["gridmap"], peer, rate["pygeoapi"],
               f">= {THROUGHPUT_TARGET:g}", rate["gridmap"][0] >= THROUGHPUT_TARGET
               * rate["pygeoapi"][0]),
        *(Figure(f"items page of {PAGE:,} buildings, one client: {q}", "ms",
                 (alone["gridmap"][i],) * 3, peer, (alone["pygeoapi"][i],) * 3,
                 "(information)", True) for i, q in ((0, "p50"), (1, "p95"))),
    ]
    return finish(args.json, figures, load, f"; {WORKERS} gunicorn workers each")


if __name__ == "__main__":
    sys.exit(main())
