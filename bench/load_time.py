"""Code-location load time against the bare import floor, measured in the same run.

    .venv/bin/python bench/load_time.py [--repeat 5] [--record]

Floor: a fresh interpreter running `import dagster, dagster_dbt`. Load: a fresh interpreter
importing orchestration.definitions (all 153 systems, every dbt model and check, the suites) and
resolving its asset graph, as `dagster dev` does. Both are the median of --repeat fresh processes,
interleaved so machine load hits both alike. Target: load within 1.5x the floor (the prepared
manifest is read, never parsed; no data, no Great Expectations at load).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.results import record  # noqa: E402

FLOOR = "import dagster, dagster_dbt"
LOAD = "from orchestration.definitions import defs; defs.resolve_asset_graph()"


def timed(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-W", "ignore", "-c", code], check=True, cwd=PROJECT)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    subprocess.run([str(Path(sys.executable).with_name("powertrace")), "prepare"], check=True, cwd=PROJECT)
    floors, loads = [], []
    for _ in range(args.repeat):
        floors.append(timed(FLOOR))
        loads.append(timed(LOAD))
    floor, load = statistics.median(floors), statistics.median(loads)
    lines = [f"bare import floor (import dagster, dagster_dbt): {floor:5.2f} s  (median of {args.repeat})",
             f"code location load + asset graph:               {load:5.2f} s  (median of {args.repeat})",
             f"ratio:                                          {load / floor:5.2f}   (target <= 1.5)"]
    print("\n".join(lines))
    if args.record:
        record("Code location load time", "153 systems, all dbt models, checks and suites",
               lines, command="bench/load_time.py --record")


if __name__ == "__main__":
    main()
