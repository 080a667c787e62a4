"""Run every benchmark in bench/ (``make bench``) and print one table: each figure beside its
peer measured in the same run, their ratio, the target and whether it is met."""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import fmt, read_figures  # noqa: E402

BENCHMARKS = ["assign_points.py", "import_buildings.py", "export_buildings.py", "tiles.py",
              "login.py", "mqtt_ingest.py", "ogcapi_items.py", "partition.py",
              "periodic_plan.py", "route_order.py", "walk_matrix.py"]


def main(argv: list[str] | None = None) -> int:
    names = argv if argv else BENCHMARKS
    status, figures = 0, []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            out = Path(tmp) / f"{name}.json"
            print(f"== {name}", flush=True)
            code = subprocess.call([sys.executable, str(HERE / name), "--json", str(out)])
            status |= code
            if out.exists():
                figures += read_figures(out)
            else:
                print(f"bench: {name} gave no figures (exit {code})", file=sys.stderr)
    if not figures:
        return status or 1
    rows = [("figure", "unit", "gridmap: median (min–max)", "peer", "peer: median (min–max)",
             "gridmap/peer", "target", "met")]
    rows += [(f.name, f.unit, fmt(f.ours), f.peer_name, fmt(f.peer), f"{f.ratio:.2f}",
              f.target, "yes" if f.met else "NO") for f in figures]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print()
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
