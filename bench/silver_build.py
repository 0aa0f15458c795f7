"""Silver build time: the full build of staging + silver over a world, and the build of the one
day that follows (the incremental path), with the share the day costs.

    .venv/bin/python bench/silver_build.py --scale 1 --lake /tmp/powertrace-bench-sf1 [--record]

Generates the world at that scale when the lake has no landing yet (SF 1: check `df` first), then:
1. ingests every batch but the last day's into a fresh bronze (not timed);
2. full build: `dbt run --select staging silver --full-refresh` (timed);
3. ingests the last day (not timed), and builds again without --full-refresh (timed): incremental
   entities read only what bronze committed since step 2; registries and relation rebuild.
Prints both times, the ratio (target: the day under 10% of the full build) and the slowest
models of each build from dbt's run_results.json; with --record, updates bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.results import record  # noqa: E402
from orchestration.contracts import registry  # noqa: E402
from orchestration.dbt_sources import write_sources  # noqa: E402
from orchestration.settings import DBT_PROJECT_DIR, Zones  # noqa: E402

SELECT = ["staging", "silver"]  # the silver build; restricted.person_identity is timed by the full pipeline


def prepare_world(lake: Path, scale: float, seed: int) -> None:
    """Generate the world if the lake has none; start from an empty bronze and warehouse."""
    from orchestration.world.generate import generate

    zones = Zones(lake)
    if not zones.landing.exists():
        print(f"generating the world at SF {scale} into {lake} ...", flush=True)
        generate(lake, scale, seed, progress=False)
    for zone in (zones.bronze, zones.quarantine, zones.ledger):
        shutil.rmtree(zone, ignore_errors=True)
    for path in lake.glob("warehouse.duckdb*"):
        path.unlink()


def landed_dates(lake: Path, system_id: str) -> list:
    import datetime as dt

    folder = Zones(lake).landing / system_id
    return sorted(dt.date.fromisoformat(p.name) for p in folder.iterdir() if p.is_dir()) if folder.exists() else []


def ingest(lake: Path, *, last_day: bool) -> None:
    """Every batch before the world's last day, or only the last day's batches."""
    from orchestration.ingest.system import ingest_system

    contracts = registry()
    last = max(d for c in contracts for d in landed_dates(lake, c))
    for contract in contracts.values():
        dates = [d for d in landed_dates(lake, contract.system_id) if (d == last) == last_day]
        if dates:
            ingest_system(contract, lake, batch_dates=dates, as_of=last)


def dbt_run(lake: Path, work: Path, *extra: str) -> tuple[float, list[tuple[str, float]]]:
    """One `dbt run` of staging + silver; wall seconds and per-model seconds."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    os.environ["POWERTRACE_LAKE"] = str(lake)
    started = time.perf_counter()
    result = dbtRunner().invoke(["run", "--select", *SELECT, *extra, "--project-dir", str(work / "dbt_project"),
                                 "--profiles-dir", str(work / "dbt_project"), "--target-path", str(work / "target"),
                                 "--log-path", str(work / "logs"), "--quiet"])
    elapsed = time.perf_counter() - started
    DuckDBConnectionManager.close_all_connections()
    if not result.success:
        raise SystemExit(f"dbt run failed: {result.exception or [r.node.name for r in result.result if r.status != 'success']}")
    timings = json.loads((work / "target" / "run_results.json").read_text())["results"]
    per_model = sorted(((r["unique_id"].split(".")[-1], r["execution_time"]) for r in timings), key=lambda t: -t[1])
    return elapsed, per_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--record", action="store_true", help="write the figures into bench/RESULTS.md")
    args = parser.parse_args()
    lake = args.lake.resolve()
    work = lake.parent / f"{lake.name}-silver-bench"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(DBT_PROJECT_DIR, work / "dbt_project",
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "sources", "generated"))
    write_sources(work / "dbt_project", registry())

    prepare_world(lake, args.scale, args.seed)
    ingest(lake, last_day=False)
    full, full_models = dbt_run(lake, work, "--full-refresh")
    ingest(lake, last_day=True)
    day, day_models = dbt_run(lake, work)

    lines = [f"full build (staging + silver, --full-refresh):             {full:8.1f} s",
             f"one-day increment after it:                                {day:8.1f} s",
             f"increment / full build:                                    {day / full:8.1%}   (target < 10%)",
             "", "slowest models, full build:"]
    lines += [f"  {name:<32} {seconds:7.1f} s" for name, seconds in full_models[:8]]
    lines += ["slowest models, one-day increment:"]
    lines += [f"  {name:<32} {seconds:7.1f} s" for name, seconds in day_models[:8]]
    print("\n".join(lines))
    if args.record:
        record("Silver build and one-day increment", f"SF {args.scale}, seed {args.seed}", lines,
               command=f"python bench/silver_build.py --scale {args.scale} --seed {args.seed} --lake <dir> --record")


if __name__ == "__main__":
    main()
