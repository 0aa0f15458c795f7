"""Fixtures shared by every test area. Keep it minimal: area fixtures live in tests/<area>/conftest.py."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> Path:
    """A lake holding the synthetic world at SF 0.01, seed 7 (landing/ and truth/), built once
    per test session with the shipped registry, every scenario module and the default defects."""
    import os
    import shutil

    from orchestration.world.generate import generate

    lake = tmp_path_factory.mktemp("small_world")
    # POWERTRACE_TEST_WORLD: a folder holding that world already (landing/, truth/), copied instead
    # of generated; saves a minute per local session. CI leaves it unset.
    if os.environ.get("POWERTRACE_TEST_WORLD"):
        for zone in ("landing", "truth"):
            shutil.copytree(Path(os.environ["POWERTRACE_TEST_WORLD"]) / zone, lake / zone)
        return lake
    generate(lake, 0.01, 7, progress=False)
    return lake


# --------------------------------------------------------------------------- the real pipeline
# `built_world`: the small world ingested into bronze and built by dbt (staging → silver →
# restricted → gold), once per session, for the tests of every layer above bronze. It also runs
# the world's corrected re-delivery the way production meets it: the superseded original is
# ingested and built first, then the correction arrives, is ingested, and the full build
# follows (so the event entities are built incrementally over the original).

BUILT_WORLD_KEY = "test-key-for-the-built-world"


@dataclass
class BuiltWorld:
    lake: Path
    dbt_dir: Path                   # a copy of dbt_project with its generated sources
    target: Path                    # dbt's target/ of the build (manifest.json, run_results.json)
    key: str                        # POWERTRACE_PSEUDONYM_KEY of the build
    failed: list[str]               # dbt nodes that did not succeed (empty when the build passed)
    redelivery: dict | None         # {system_id, table, batch_date, rows_before: silver rows built from the original}

    def dbt(self, *args: str):
        """One more dbt invocation over this world (e.g. "compile", "--inline", sql)."""
        return run_dbt(self.target.parent, self.lake, self.dbt_dir, list(args))

    def query(self, sql: str) -> list[dict]:
        """Rows of a query over the warehouse (read-only)."""
        import duckdb

        with duckdb.connect(str(self.lake / "warehouse.duckdb"), read_only=True) as con:
            cur = con.execute(sql)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]


def run_dbt(world_root: Path, lake: Path, dbt_dir: Path, args: list[str]):
    """One dbt invocation over ``lake`` with the test key; returns dbt's result object."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POWERTRACE_LAKE", str(lake))
        mp.setenv("POWERTRACE_PSEUDONYM_KEY", BUILT_WORLD_KEY)
        result = dbtRunner().invoke([*args, "--project-dir", str(dbt_dir), "--profiles-dir", str(dbt_dir),
                                     "--target-path", str(world_root / "target"),
                                     "--log-path", str(world_root / "logs"), "--quiet"])
    # dbt-duckdb keeps the database open after a run: close it so readers (and the next run) can open it
    DuckDBConnectionManager.close_all_connections()
    return result


@pytest.fixture(scope="session")
def dbt_over_lake():
    """run_dbt, for tests that build a lake of their own."""
    return run_dbt


def write_silver(lake: Path, tables: dict[str, str], rows: dict[str, list[tuple]], ingested_at) -> None:
    """A warehouse whose silver tables are written by hand: ``tables`` maps a table to its column
    list (the last column ingested_at), ``rows`` to its rows without ingested_at, all stamped
    ``ingested_at``."""
    import duckdb

    lake.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(lake / "warehouse.duckdb")) as con:
        con.execute("create schema silver")
        for table, columns in tables.items():
            con.execute(f"create table silver.{table} ({columns})")
            for row in rows[table]:
                con.execute(f"insert into silver.{table} values ({', '.join('?' * (len(row) + 1))})",
                            [*row, ingested_at])


@pytest.fixture(scope="session")
def silver_by_hand():
    """write_silver, for tests that build models over silver tables they write themselves."""
    return write_silver


@pytest.fixture(scope="session")
def built_world(small_world, tmp_path_factory) -> BuiltWorld:
    import shutil

    import polars as pl

    from orchestration.contracts import registry
    from orchestration.dbt_sources import write_sources
    from orchestration.ingest.landing import latest_landed_date
    from orchestration.ingest.system import ingest_system
    from orchestration.settings import DBT_PROJECT_DIR

    root = tmp_path_factory.mktemp("built_world")
    lake, dbt_dir = root / "lake", root / "dbt_project"
    for zone in ("landing", "truth"):
        shutil.copytree(small_world / zone, lake / zone)
    shutil.copytree(DBT_PROJECT_DIR, dbt_dir,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "sources", "generated"))
    contracts = registry()
    write_sources(dbt_dir, contracts)

    manifest = pl.read_parquet(lake / "truth" / "manifest.parquet")
    superseded = manifest.filter(pl.col("superseded")).row(0, named=True) if manifest["superseded"].any() else None
    corrected = None
    if superseded:  # land the original first: the correction arrives after a build
        landed = lake / "landing" / superseded["system_id"] / str(superseded["batch_date"]) / superseded["file_name"]
        corrected = landed.read_bytes()
        landed.write_bytes((lake / superseded["path"]).read_bytes())

    as_of = latest_landed_date(lake)
    for contract in contracts.values():
        ingest_system(contract, lake, as_of=as_of)

    redelivery = None
    if superseded:
        sid = superseded["system_id"]
        table = next(t for t, spec in contracts[sid].tables.items()
                     if Path(superseded["file_name"]).match(spec.file_pattern))
        entity = contracts[sid].tables[table].entity
        first = run_dbt(root, lake, dbt_dir, ["run", "--select", f"+{entity}"])
        assert first.success, f"dbt run of {entity} over the superseded original failed: {first.exception}"
        rows_before = BuiltWorld(lake, dbt_dir, root / "target", BUILT_WORLD_KEY, [], None).query(
            f"select * from silver.{entity} where system_id = '{sid}' and batch_date = '{superseded['batch_date']}'")
        landed.write_bytes(corrected)
        ingest_system(contracts[sid], lake, as_of=as_of)
        redelivery = {"system_id": sid, "table": table, "entity": entity, "batch_date": superseded["batch_date"],
                      "rows_before": rows_before}

    result = run_dbt(root, lake, dbt_dir, ["build"])
    failed = [r.node.unique_id for r in (result.result or []) if r.status not in ("success", "pass", "warn")]
    if result.exception:
        failed.append(f"dbt: {result.exception}")
    return BuiltWorld(lake, dbt_dir, root / "target", BUILT_WORLD_KEY, failed, redelivery)
