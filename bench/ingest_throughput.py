"""Bronze ingestion throughput on the UTF-8 CSV deliveries, beside a bare DuckDB COPY of the same files.

    .venv/bin/python bench/ingest_throughput.py --scale 1 --lake /tmp/powertrace-bench-sf1

Generates the world at that scale when the lake has no landing yet, then, in one process:
1. bare DuckDB: for every UTF-8 CSV system table, COPY (read_csv of its files) TO Parquet;
2. powertrace: `ingest_system` of the same systems into a fresh bronze (contract applied, Delta,
   quarantine, ledger), without Dagster;
3. orchestration overhead: one Dagster run of those systems' bronze assets when nothing is
   pending, i.e. the fixed cost per run (reported on its own line).
Bare DuckDB reads neither GBK nor XLSX, so only UTF-8 CSV deliveries are compared.
Prints the figures and, with --record, updates bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # `bench.results` when run as a script

from orchestration.contracts import registry  # noqa: E402
from orchestration.settings import Zones  # noqa: E402


def utf8_csv_systems():
    return [c for c in registry().values()
            if c.delivery.format == "csv" and c.delivery.encoding in ("utf-8", "utf-8-sig")]


def table_files(zones: Zones, contract, table) -> list[Path]:
    root = zones.landing / contract.system_id
    return sorted(p for p in root.glob(f"*/{table.file_pattern}") if p.stat().st_size > 0)


def bare_duckdb(zones: Zones, contracts) -> tuple[int, float]:
    import duckdb

    out = Path(tempfile.mkdtemp(prefix="bench-duckdb-"))
    rows = 0
    started = time.perf_counter()
    con = duckdb.connect()
    for c in contracts:
        for name, table in c.tables.items():
            files = table_files(zones, c, table)
            if not files:
                continue
            listing = ", ".join(f"'{f}'" for f in files)
            target = out / f"{c.system_id}__{name}.parquet"
            con.execute(f"COPY (SELECT * FROM read_csv([{listing}], all_varchar=true, header=true, "
                        f"delim='{c.delivery.delimiter}', ignore_errors=true, union_by_name=true)) "
                        f"TO '{target}' (FORMAT parquet)")
            rows += con.execute(f"SELECT count(*) FROM '{target}'").fetchone()[0]
    elapsed = time.perf_counter() - started
    shutil.rmtree(out, ignore_errors=True)
    return rows, elapsed


def powertrace_ingest(zones: Zones, contracts) -> tuple[int, float]:
    from orchestration.ingest import ingest_system

    for zone in (zones.bronze, zones.quarantine, zones.ledger):
        shutil.rmtree(zone, ignore_errors=True)
    rows = 0
    started = time.perf_counter()
    for c in contracts:
        result = ingest_system(c, zones.root)
        rows += result.rows_bronze + result.rows_quarantined
    return rows, time.perf_counter() - started


def orchestration_overhead(zones: Zones, contracts) -> float:
    """Wall time of a Dagster run of the same bronze assets with nothing pending."""
    import os

    os.environ["POWERTRACE_LAKE"] = str(zones.root)
    import dagster as dg

    from orchestration.assets.bronze import bronze_assets, system_keys

    assets = bronze_assets({c.system_id: c for c in contracts})
    started = time.perf_counter()
    result = dg.materialize(assets, selection=[k for c in contracts for k in system_keys(c)],
                            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    elapsed = time.perf_counter() - started
    assert result.success, "no-op bronze run failed"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lake", default=f"/tmp/powertrace-bench-sf{{scale}}")
    parser.add_argument("--record", action="store_true", help="write the figures into bench/RESULTS.md")
    args = parser.parse_args()
    zones = Zones(args.lake.format(scale=args.scale))
    if not zones.landing.exists():
        from orchestration.world.generate import generate

        t = time.perf_counter()
        generate(zones.root, scale=args.scale, seed=args.seed, progress=True)
        print(f"generated SF {args.scale} in {time.perf_counter() - t:.1f} s")
    contracts = utf8_csv_systems()
    duck_rows, duck_s = bare_duckdb(zones, contracts)
    ours_rows, ours_s = powertrace_ingest(zones, contracts)
    overhead = orchestration_overhead(zones, contracts)
    duck_rate, ours_rate = duck_rows / duck_s, ours_rows / ours_s
    lines = [
        f"UTF-8 CSV systems: {len(contracts)}; rows: powertrace {ours_rows:,}, duckdb {duck_rows:,}",
        f"bare duckdb COPY to Parquet: {duck_s:.1f} s, {duck_rate:,.0f} rows/s",
        f"powertrace bronze ingest:    {ours_s:.1f} s, {ours_rate:,.0f} rows/s",
        f"ratio powertrace / duckdb:   {ours_rate / duck_rate:.2f} (target >= 0.5)",
        f"fixed orchestration overhead per run (Dagster, {len(contracts)} bronze assets, nothing pending): {overhead:.1f} s",
    ]
    print("\n".join(lines))
    if args.record:
        from bench.results import record

        record("Bronze ingestion throughput", f"SF {args.scale}, seed {args.seed}", lines,
               command=f"python bench/ingest_throughput.py --scale {args.scale} --record")


if __name__ == "__main__":
    main()
