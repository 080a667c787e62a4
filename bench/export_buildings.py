"""Benchmark: export 200,000 buildings (one generated district, see buildings_data.py) to
GeoPackage and to Shapefile with ``gridmap export``, beside ``geopandas.read_postgis`` +
``GeoDataFrame.to_file(engine="pyogrio")`` of the same rows (same columns, the grid code
included, same order).

gridmap streams: binary COPY decoded into Arrow batches (ADBC) hands PostGIS's WKB to GDAL a
batch at a time; the peer holds every row as a shapely geometry in a GeoDataFrame first. Each
command is its own process (wall time and peak RSS from ``wait4``, through launcher.py),
interleaved (gridmap, peer, peer, gridmap…). The Shapefile is gridmap's whole product, the
zip (deflated) with the field mapping; the peer writes the bare .shp/.shx/.dbf/.prj/.cpg.

The database is ``$BENCH_DATABASE_URL`` (default ``…/gridmap_bench``), shared with the import
benchmark: the district and its buildings are loaded through ``gridmap import`` when missing
(the import benchmark truncates them, so run this one after it or let it load them again).
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

PEER_SQL = ("select t.footprint as geom, t.id, t.name, t.use, t.households, t.floors, "
            "t.grid_id, (select g.code from grid g where g.id = t.grid_id) as grid_code "
            "from building t where t.district_code = %(district)s order by t.id")


def peer(url: str, district: str, path: str) -> None:
    """The peer, in a process of its own: read every row, then write the file."""
    import geopandas as gpd
    from sqlalchemy import create_engine

    from gridmap.db import normalise_url

    engine = create_engine(normalise_url(url))
    frame = gpd.read_postgis(PEER_SQL, engine, geom_col="geom", params={"district": district})
    frame.to_file(path, engine="pyogrio", **({"encoding": "UTF-8"} if path.endswith(".shp")
                                             else {}))
    print(len(frame))


if __name__ == "__main__" and sys.argv[1:2] == ["--peer"]:
    peer(*sys.argv[2:5])
    sys.exit(0)

from launcher import Launcher  # noqa: E402

LAUNCHER = Launcher()  # before the large imports below: see launcher.py

import os  # noqa: E402
import tempfile  # noqa: E402

import psycopg  # noqa: E402

import buildings_data  # noqa: E402
import import_buildings as imports  # noqa: E402 — its district set-up and import fields
from common import Figure, building_arguments, finish, spread  # noqa: E402

GRIDMAP = [sys.executable, "-m", "gridmap.cli"]
TIME_TARGET = 0.5  # gridmap's time at most half the peer's (≥ 2× faster)


def _run(cmd: list[str], env: dict[str, str]) -> dict:
    result = LAUNCHER.run(cmd, env)
    if result["returncode"]:
        last = (result["stderr"] or result["stdout"]).strip().splitlines()[-1:] or ["no output"]
        raise imports.BenchError(f"{' '.join(cmd[:4])} … exited {result['returncode']}: "
                                 f"{last[0]}")
    return result


def _ensure_buildings(url: str, count: int, seed: int, env: dict[str, str]) -> None:
    """The import benchmark's 170,000 buildings through ``gridmap import``, topped up to
    ``count`` with copies of the first ones (source ``bench-copy``): the generated district
    has lots for 189,740 buildings only."""
    _run(GRIDMAP + ["db", "upgrade"], env)
    if imports._count(url, "building") == count:
        return
    generated = min(count, imports.IMPORT_COUNT)
    paths = buildings_data.write(generated, seed)
    imports._setup(url, paths, env)
    print(f"  loading {count:,} buildings (once)", flush=True)
    imports._fresh(url, "gridmap")
    _run(GRIDMAP + ["import", str(paths["buildings"]), "--layer", "buildings", "--district",
                    buildings_data.DISTRICT]
         + [a for f in imports.FIELDS for a in ("--field", f)], env)
    with psycopg.connect(imports._dsn(url), autocommit=True) as conn:
        conn.execute(
            "insert into building (district_code, source, source_id, name, use, households, "
            "floors, address, grid_id, footprint) select district_code, 'bench-copy', "
            "source_id, name, use, households, floors, address, grid_id, footprint "
            "from building order by id limit %s", (count - generated,))
        conn.execute("vacuum analyze building")


def main(argv: list[str] | None = None) -> int:
    args, url = building_arguments(__doc__.splitlines()[0], 200_000, argv)
    try:
        return _bench(args, url)
    except (imports.BenchError, psycopg.OperationalError) as exc:
        print(f"bench: export_buildings: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    finally:
        LAUNCHER.close()
        imports.LAUNCHER.close()


def _bench(args, url: str) -> int:
    env = {**os.environ, "DATABASE_URL": url}
    _ensure_buildings(url, args.count, args.seed, env)
    district = buildings_data.DISTRICT
    figures = []
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, ours_name, peer_name in (("gpkg", "out.gpkg", "peer.gpkg"),
                                          ("shp", "out.zip", "peer.shp")):
            commands = {
                "gridmap": GRIDMAP + ["export", "buildings", "--district", district,
                                      "--format", fmt, "-o", f"{tmp}/{ours_name}",
                                      "--overwrite"],
                "peer": [sys.executable, __file__, "--peer", url, district,
                         f"{tmp}/{peer_name}"],
            }
            runs: dict[str, list[tuple[float, float]]] = {"gridmap": [], "peer": []}
            for rep in range(args.repeat):
                for name in (("gridmap", "peer") if rep % 2 == 0 else ("peer", "gridmap")):
                    for leftover in Path(tmp).glob("peer.*"):
                        leftover.unlink()
                    result = _run(commands[name], env)
                    runs[name].append((result["seconds"], result["peak_bytes"] / 2**20))
                    print(f"  {fmt} run {rep + 1} {name:<8}{result['seconds']:8.2f} s "
                          f"{result['peak_bytes'] / 2**20:8.0f} MiB", flush=True)
            times = {n: spread([r[0] for r in rs]) for n, rs in runs.items()}
            peaks = {n: spread([r[1] for r in rs]) for n, rs in runs.items()}
            ratio = times["gridmap"][0] / times["peer"][0]
            label = {"gpkg": "GeoPackage", "shp": "Shapefile"}[fmt]
            peer_label = "read_postgis + to_file(pyogrio)"
            figures += [
                Figure(f"export {args.count // 1000}k buildings to {label}", "s",
                       times["gridmap"], peer_label, times["peer"],
                       f"<= {TIME_TARGET:g} (≥ 2× faster)", ratio <= TIME_TARGET),
                Figure("  its peak memory (RSS)", "MiB", peaks["gridmap"], peer_label,
                       peaks["peer"], "below the peer's", peaks["gridmap"][2] < peaks["peer"][1]),
            ]
            print(f"  {label}: gridmap {times['gridmap'][0]:.2f} s, peer {times['peer'][0]:.2f} "
                  f"s (ratio {ratio:.2f}); peak RSS gridmap {peaks['gridmap'][2]:.0f} MiB, "
                  f"peer {peaks['peer'][1]:.0f} MiB", flush=True)
    return finish(args.json, figures, load)


if __name__ == "__main__":
    sys.exit(main())
