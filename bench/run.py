"""Run every benchmark in bench/ (``make bench``)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = ["assign_points.py"]


def main() -> int:
    status = 0
    for name in BENCHMARKS:
        print(f"== {name}", flush=True)
        status |= subprocess.call([sys.executable, str(Path(__file__).parent / name)])
    return status


if __name__ == "__main__":
    sys.exit(main())
