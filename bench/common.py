"""What every benchmark reports: figures beside their peer, measured in the same run."""
from __future__ import annotations

import argparse
import json
import os
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Figure:
    """One measured figure (median, min, max) beside the same figure for its peer.

    ``ratio`` is gridmap ÷ peer of the medians; ``target`` says what it must be, ``met``
    whether it is.
    """

    name: str
    unit: str
    ours: tuple[float, float, float]
    peer_name: str
    peer: tuple[float, float, float]
    target: str
    met: bool

    @property
    def ratio(self) -> float:
        return self.ours[0] / self.peer[0] if self.peer[0] else float("inf")


def spread(values: list[float]) -> tuple[float, float, float]:
    """Median, min and max."""
    return statistics.median(values), min(values), max(values)


def write_figures(path: Path, figures: list[Figure]) -> None:
    path.write_text(json.dumps([asdict(f) for f in figures]), encoding="utf-8")


def finish(path: Path | None, figures: list[Figure], load: float, note: str = "") -> int:
    """Print the load average the benchmark ran under (before and now) and write the figures
    for bench/run.py when ``path`` is given; the exit status (0)."""
    print(f"  load average {load:.2f} before, {os.getloadavg()[0]:.2f} after on "
          f"{os.cpu_count()} CPUs{note}")
    if path:
        write_figures(path, figures)
    return 0


def read_figures(path: Path) -> list[Figure]:
    return [Figure(**{**f, "ours": tuple(f["ours"]), "peer": tuple(f["peer"])})
            for f in json.loads(path.read_text(encoding="utf-8"))]


def fmt(values: tuple[float, float, float]) -> str:
    med, lo, hi = values
    if lo == hi:
        return f"{med:.3g}"
    return f"{med:.3g} ({lo:.3g}–{hi:.3g})"


def building_arguments(description: str, count: int,
                       argv: list[str] | None) -> tuple[argparse.Namespace, str]:
    """The options of the building benchmarks (count, seed, repeat, json) and the bench
    database URL (``$BENCH_DATABASE_URL``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--count", type=int, default=count)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="Also write the figures here (bench/run.py).")
    url = os.environ.get("BENCH_DATABASE_URL",
                         "postgresql://postgres@127.0.0.1:5432/gridmap_bench")
    return parser.parse_args(argv), url
