"""The dbt project on Apache Spark beside DuckDB, on the same ingested world.

    .venv/bin/python bench/spark_build.py --lake /tmp/powertrace-bench/sf0.01 [--scale 0.01] [--record]

Needs the `spark` extra and Java 17 (docs/spark.md). Generates the world when the lake has no
landing, runs `powertrace run` (DuckDB, through Dagster) when nothing is published yet, then
`powertrace spark-build`, each timed as its own process; compares the two engines' alerts in
(model_id, primary_key, severity, rule_branch). With --record, writes "dbt on Apache Spark".
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.results import record  # noqa: E402
from orchestration.evaluate import ALERT_IDENTITY  # noqa: E402



def timed(*command: str) -> float:
    started = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    import polars as pl

    lake = args.lake.resolve()
    powertrace = str(Path(sys.executable).with_name("powertrace"))
    if not (lake / "landing").is_dir():
        subprocess.run([powertrace, "--lake", str(lake), "generate", "--scale", str(args.scale), "--seed",
                        str(args.seed), "--no-progress"], check=True, stdout=subprocess.DEVNULL)
    duckdb_run = None
    if not (lake / "published" / "alerts").is_dir():
        duckdb_run = timed(powertrace, "--lake", str(lake), "run")
    spark = timed(powertrace, "--lake", str(lake), "spark-build")
    on_spark = pl.read_parquet(lake / "spark" / "alerts.parquet").select(ALERT_IDENTITY).sort(ALERT_IDENTITY)
    on_duckdb = pl.read_delta(str(lake / "published" / "alerts")).select(ALERT_IDENTITY).sort(ALERT_IDENTITY)
    branches = on_duckdb.select("model_id", "rule_branch").unique().height
    lines = [f"powertrace spark-build (bronze snapshots, Spark session, dbt build, alerts): {spark:7.1f} s",
             "powertrace run on DuckDB (ingest to publication, Dagster):                  "
             + (f"{duckdb_run:7.1f} s" if duckdb_run is not None else "   (published before)"),
             f"alerts: Spark {on_spark.height:,}, DuckDB {on_duckdb.height:,}; equal in {', '.join(ALERT_IDENTITY)}: "
             f"{on_spark.equals(on_duckdb)}; rule branches with alerts: {branches}"]
    print("\n".join(lines))
    if args.record:
        record("dbt on Apache Spark", f"SF {args.scale:g}, seed {args.seed}; Spark local[2] in the dbt process",
               lines, command="python bench/spark_build.py --lake <dir> --record")
    if not on_spark.equals(on_duckdb):
        raise SystemExit("the Spark build's alerts differ from DuckDB's")


if __name__ == "__main__":
    main()
