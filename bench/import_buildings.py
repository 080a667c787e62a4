"""Benchmark: import ~170,000 buildings (a ~100 MB GeoJSON, seeded, see buildings_data.py)
with ``gridmap import`` — every check, the upsert and the assignment to grids — beside
``ogr2ogr -f PostgreSQL --config PG_USE_COPY YES`` loading the same file into a plain table.

Beside wall time, the CPU time of each: the client's own (``wait4``) and the database
server's (its backends, :mod:`server_cpu`). Their sum against the cores available in the
target time (``target × ogr2ogr's time × cores``) says whether a target can be met at all on
this machine, whatever the overlap of client and server.

Both run as subprocesses on a fresh table (gridmap: ``building`` truncated and grid totals
zeroed; ogr2ogr: its table dropped), after a CHECKPOINT, interleaved (gridmap, ogr2ogr,
ogr2ogr, gridmap, …) so that noise from the machine hits both. Wall time and peak RSS
(``wait4``) are each process's own; the database server's work is in the time, not in the
memory. The district (420111, its 9 streets, 144 communities and 9,216 grids) is imported once
through ``gridmap import`` and kept.

The database is ``$BENCH_DATABASE_URL`` (default ``…/gridmap_bench``): its buildings are
deleted at every run, so never point it at a database whose buildings matter.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from launcher import Launcher  # noqa: E402

LAUNCHER = Launcher()  # before the large imports below: see launcher.py

import os  # noqa: E402
import shutil  # noqa: E402

import psycopg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import buildings_data  # noqa: E402
from common import Figure, building_arguments, spread, write_figures  # noqa: E402
from server_cpu import ServerCpu  # noqa: E402

GRIDMAP = [sys.executable, "-m", "gridmap.cli"]
FIELDS = ["source_id=bldg_id", "name=name", "use=use", "floors=floors", "households=hh",
          "address=addr"]
OGR_TABLE = "bench_ogr_buildings"
IMPORT_COUNT = 170_000  # buildings imported (the export benchmark loads as many)
TIME_TARGET = 1.5       # gridmap's time at most this many times ogr2ogr's
MEMORY_TARGET = 0.5e9   # bytes of peak RSS


class BenchError(Exception):
    """What stops the benchmark, in one line."""


def _dsn(url: str) -> str:
    u = make_url(url)
    return " ".join(f"{k}={v}" for k, v in (("host", u.host), ("port", u.port),
                                             ("user", u.username), ("password", u.password),
                                             ("dbname", u.database)) if v)


def _run(cmd: list[str], env: dict[str, str]) -> dict:
    """Wall seconds, peak RSS (bytes), CPU seconds and stdout of one command (the launcher's
    answer); raise on failure."""
    result = LAUNCHER.run(cmd, env)
    if result["returncode"]:
        last = (result["stderr"] or result["stdout"]).strip().splitlines()[-1:] or ["no output"]
        raise BenchError(f"{' '.join(cmd[:4])} … exited {result['returncode']}: {last[0]}")
    return result


def _setup(url: str, paths: dict[str, Path], env: dict[str, str]) -> None:
    _run(GRIDMAP + ["db", "upgrade"], env)
    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        row = conn.execute("select name, (select count(*) from grid where district_code = "
                           "d.code) from district d where code = %s",
                           (buildings_data.DISTRICT,)).fetchone()
    expected = (buildings_data.STREETS * buildings_data.COMMUNITIES * buildings_data.GRIDS) ** 2
    if row == (buildings_data.DISTRICT_NAME, expected):
        return
    if row is not None:
        raise BenchError(f"the bench database {make_url(url).database} holds another district "
                         f"{buildings_data.DISTRICT} ({row[0]}, {row[1]} grids; the demo?); "
                         f"point BENCH_DATABASE_URL at a database of its own")
    print("  loading the district: 1 district, 9 streets, 144 communities, 9,216 grids "
          "(once)", flush=True)
    for layer in ("districts", "streets", "communities", "grids"):
        fields = ["code=code", "name=name"] + (["kind=kind"] if layer == "grids" else [])
        _run(GRIDMAP + ["import", str(paths[layer]), "--layer", layer]
             + [a for f in fields for a in ("--field", f)], env)


def _fresh(url: str, what: str) -> None:
    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        if what == "gridmap":
            conn.execute("truncate building")
            conn.execute("update grid set households = 0, building_count = 0 "
                         "where households <> 0 or building_count <> 0")
        else:
            conn.execute(f"drop table if exists {OGR_TABLE}")
        conn.execute("checkpoint")


def _count(url: str, table: str) -> int:
    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        return conn.execute(f"select count(*) from {table}").fetchone()[0]


def _seconds(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:6.2f} s"


def _cpu_work(runs) -> dict[str, tuple[float, float, float]] | None:
    """Client + server CPU seconds of each command, as :func:`spread` gives them (None: the
    server's CPU is not visible from here)."""
    if any(r[3] is None for rs in runs.values() for r in rs):
        return None
    return {n: spread([r[2] + r[3] for r in rs]) for n, rs in runs.items()}


def main(argv: list[str] | None = None) -> int:
    args, url = building_arguments(__doc__.splitlines()[0], IMPORT_COUNT, argv)
    try:
        return _bench(args, url)
    except (BenchError, psycopg.OperationalError) as exc:
        print(f"bench: import_buildings: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    finally:
        LAUNCHER.close()


def _bench(args, url: str) -> int:
    ogr2ogr = shutil.which("ogr2ogr")
    if ogr2ogr is None:
        raise BenchError("ogr2ogr not found; install GDAL's tools (apt-get install gdal-bin)")
    paths = buildings_data.write(args.count, args.seed)
    size = paths["buildings"].stat().st_size
    env = {**os.environ, "DATABASE_URL": url}
    _setup(url, paths, env)
    commands = {
        "gridmap": GRIDMAP + ["import", str(paths["buildings"]), "--layer", "buildings",
                              "--district", buildings_data.DISTRICT]
        + [a for f in FIELDS for a in ("--field", f)],
        "ogr2ogr": [ogr2ogr, "-f", "PostgreSQL", f"PG:{_dsn(url)}", str(paths["buildings"]),
                    "-nln", OGR_TABLE, "--config", "PG_USE_COPY", "YES"],
    }
    tables = {"gridmap": "building", "ogr2ogr": OGR_TABLE}
    runs: dict[str, list[tuple[float, float, float, float | None]]] = {"gridmap": [],
                                                                      "ogr2ogr": []}
    load = os.getloadavg()[0]
    for rep in range(args.repeat):
        for name in (("gridmap", "ogr2ogr") if rep % 2 == 0 else ("ogr2ogr", "gridmap")):
            _fresh(url, name)
            with ServerCpu(_dsn(url)) as server:
                result = _run(commands[name], env)
            if (loaded := _count(url, tables[name])) != args.count:
                raise BenchError(f"{name} loaded {loaded} rows, expected {args.count}")
            seconds, peak = result["seconds"], result["peak_bytes"]
            runs[name].append((seconds, peak, result["cpu_seconds"], server.seconds))
            print(f"  run {rep + 1} {name:<8}{seconds:8.2f} s {peak / 2**20:8.0f} MiB  CPU "
                  f"{result['cpu_seconds']:6.2f} s client + "
                  f"{_seconds(server.seconds)} server", flush=True)
    times = {n: spread([r[0] for r in rs]) for n, rs in runs.items()}
    peaks = {n: spread([r[1] / 2**20 for r in rs]) for n, rs in runs.items()}
    ratio = times["gridmap"][0] / times["ogr2ogr"][0]
    print(f"import {args.count:,} buildings ({size / 1e6:.0f} MB GeoJSON, seed {args.seed}; "
          f"{args.repeat} interleaved runs; load average {load:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after on {os.cpu_count()} CPUs)")
    for name in runs:
        t, p = times[name], peaks[name]
        print(f"  {name:<8} median {t[0]:6.2f} s ({t[1]:.2f}–{t[2]:.2f})  "
              f"{args.count / t[0]:>8,.0f} features/s  peak RSS {p[2]:6.0f} MiB")
    print(f"  ratio of medians gridmap/ogr2ogr: {ratio:.2f} (target <= {TIME_TARGET:g})")
    cpu = _cpu_work(runs)
    budget = TIME_TARGET * times["ogr2ogr"][0] * os.cpu_count()
    if cpu is not None:
        enough = cpu["gridmap"][0] <= budget
        print(f"  CPU work (client + server, median): gridmap {cpu['gridmap'][0]:.2f} s, "
              f"ogr2ogr {cpu['ogr2ogr'][0]:.2f} s; {os.cpu_count()} cores in "
              f"{TIME_TARGET:g} × ogr2ogr's time give {budget:.2f} s: "
              + ("enough, if client and server overlap well" if enough else
                 "less than gridmap's work, however well client and server overlap"))
    limit = MEMORY_TARGET / 2**20
    figures = [
        Figure("import 170k buildings (GeoJSON)", "s", times["gridmap"], "ogr2ogr PG_USE_COPY",
               times["ogr2ogr"], f"<= {TIME_TARGET:g}", ratio <= TIME_TARGET),
        Figure("  its peak memory (RSS)", "MiB", peaks["gridmap"], "ogr2ogr PG_USE_COPY",
               peaks["ogr2ogr"], f"gridmap < 0.5 GB ({limit:.0f} MiB)",
               peaks["gridmap"][2] < limit),
    ]
    if cpu is not None:
        figures.append(Figure("  its CPU work (client + server)", "s", cpu["gridmap"],
                              "ogr2ogr PG_USE_COPY", cpu["ogr2ogr"],
                              f"<= {budget:.1f} s ({os.cpu_count()} cores in the target time)",
                              cpu["gridmap"][0] <= budget))
    if args.json:
        write_figures(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
