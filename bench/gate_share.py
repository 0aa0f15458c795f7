"""Gate time as a share of the whole pipeline run (ingest to publication, same run).

    .venv/bin/python bench/gate_share.py --scale 1 --lake /tmp/powertrace-bench-gates-sf1 [--record]

Generates the world at that scale when the lake has no landing yet (SF 1: check `df` first),
runs `powertrace run` on a fresh lake state (a private Dagster instance under the lake), then
reads the run's step timings from that instance: the `quality_gates` step against the run's wall
time (target: under 25%). With --record, updates bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.results import record  # noqa: E402

DATA_ZONES = ("bronze", "quarantine", "ledger", "warehouse.duckdb", "gates", "published", "publications", "restricted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--lake", type=Path, default=Path("/tmp/powertrace-bench-gates"))
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    lake = args.lake.resolve()
    powertrace = str(Path(sys.executable).with_name("powertrace"))
    if not (lake / "landing").is_dir():
        print(f"generating the world at scale {args.scale} into {lake}", flush=True)
        subprocess.run([powertrace, "--lake", str(lake), "generate", "--scale", str(args.scale),
                        "--seed", str(args.seed)], check=True)
    for zone in DATA_ZONES:  # every run starts from landing: a full build
        path = lake / zone
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    home = lake.parent / f"{lake.name}-dagster"
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    started = time.monotonic()
    subprocess.run([powertrace, "--lake", str(lake), "run"], check=True, env=env)
    wall = time.monotonic() - started

    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_runs(limit=1)[0]
        steps = {s.step_key: s.end_time - s.start_time for s in instance.get_run_step_stats(run.run_id)
                 if s.end_time and s.start_time}
        stats = instance.get_run_stats(run.run_id)
    run_time = stats.end_time - stats.start_time
    gates = steps.get("quality_gates", 0.0)
    lines = [f"run (Dagster, ingest to publication): {run_time:8.1f} s   (command wall time {wall:.1f} s)",
             f"quality_gates step:                  {gates:8.1f} s   share {gates / run_time:6.1%}   (target < 25%)",
             "slowest steps:"]
    lines += [f"  {k:<40} {v:8.1f} s" for k, v in sorted(steps.items(), key=lambda kv: -kv[1])[:6]]
    print("\n".join(lines))
    if args.record:
        record("Gate share of the pipeline run", f"SF {args.scale}, seed {args.seed}, full build from landing",
               lines, command=f"bench/gate_share.py --scale {args.scale} --record")


if __name__ == "__main__":
    main()
