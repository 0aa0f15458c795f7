"""``powertrace spark-build``: the dbt project built on Apache Spark (dbt-spark, session method).

The second target of the dbt profile (``dbt_project/profiles.yml``, target ``spark``; docs/spark.md)
runs the same staging, silver, restricted and gold models on Spark in local mode, inside this
process. One build:

1. writes the current snapshot of every registered bronze Delta table as Parquet under
   ``<lake>/spark/bronze/<system_id>/<table>/`` (Spark here has no Delta reader), the location of
   the dbt source on the spark target (``orchestration.dbt_sources.SPARK_BRONZE_LOCATION``);
2. opens the Spark session with the profile's ``server_side_parameters`` and declares the session
   variables ``powertrace_hmac_ipad`` / ``powertrace_hmac_opad`` (the pads of the pseudonym key,
   as ``orchestration.dbt_session`` sets them for DuckDB), from parameter markers, so the key is
   in no SQL text; dbt-spark's session method then finds this session and runs in it;
3. runs ``dbt run-operation register_bronze_snapshots`` (the sources as session tables over the
   snapshots) and ``dbt build --target spark`` (unit tests excluded: they judge the rules, on
   DuckDB) into a fresh warehouse ``<lake>/spark/warehouse`` (the catalog lives in the session,
   so every build is a full build);
4. writes ``gold.alerts`` to ``<lake>/spark/alerts.parquet``.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import click

from orchestration.dbt_sources import SPARK_BRONZE_SUBDIR
from orchestration.settings import DBT_PROJECT_DIR, Zones, state_dir

SPARK_TARGET = "spark"


@dataclass
class SparkBuild:
    lake: Path
    alerts: Path                                  # <lake>/spark/alerts.parquet
    alert_rows: int
    seconds: dict[str, float] = field(default_factory=dict)   # phase -> wall-clock seconds


def spark_dir(lake: Path) -> Path:
    return Path(lake) / "spark"


def export_bronze(lake: Path, registry) -> int:
    """Write each registered bronze table's current Delta snapshot as one Parquet file; returns
    the number of tables written. Earlier snapshots are replaced."""
    import pyarrow.parquet as pq
    from deltalake import DeltaTable

    from orchestration.ingest.delta import exists as delta_exists

    zones = Zones(lake)
    written = 0
    for contract in registry.values():
        for table in contract.tables:
            source = zones.bronze_table(contract.system_id, table)
            if not delta_exists(source):
                raise click.ClickException(f"bronze table {source} does not exist: ingest the lake first "
                                           "(`powertrace ingest` or `powertrace run`)")
            target = Path(lake) / SPARK_BRONZE_SUBDIR / contract.system_id / table
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            pq.write_table(DeltaTable(str(source)).to_pyarrow_table(), target / "snapshot.parquet")
            written += 1
    return written


def session_parameters(dbt_dir: Path) -> dict[str, str]:
    """The spark target's ``server_side_parameters`` from the project's profiles.yml, with its
    ``env_var()`` calls rendered (the lake must be in POWERTRACE_LAKE)."""
    import jinja2
    import yaml

    def env_var(name: str, default: str | None = None) -> str:
        value = os.environ.get(name, default)
        if value is None:
            raise click.ClickException(f"{dbt_dir / 'profiles.yml'}: env var {name} is not set")
        return value

    profile = yaml.safe_load((Path(dbt_dir) / "profiles.yml").read_text(encoding="utf-8"))
    output = profile["powertrace"]["outputs"][SPARK_TARGET]
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return {str(k): env.from_string(str(v)).render(env_var=env_var)
            for k, v in output.get("server_side_parameters", {}).items()}


def open_session(dbt_dir: Path, key: str):
    """The Spark session dbt-spark will run in: the profile's parameters, and the pads of the
    pseudonym key as session variables (values bound as parameters, never written into SQL)."""
    from pyspark.sql import SparkSession

    from orchestration.dbt_session import hmac_pads

    builder = SparkSession.builder
    for name, value in session_parameters(dbt_dir).items():
        builder = builder.config(name, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")  # Spark's warnings about a local run are noise here
    for name, pad in zip(("powertrace_hmac_ipad", "powertrace_hmac_opad"), hmac_pads(key)):
        spark.sql(f"declare or replace variable {name} binary")
        spark.sql(f"set var {name} = unhex(:pad)", args={"pad": pad.hex()})
    return spark


def spark_build(lake: Path, dbt_dir: Path = DBT_PROJECT_DIR, dbt_state: Path | None = None,
                echo=print) -> SparkBuild:
    """Export bronze, build the project on Spark, write the alerts (see the module docstring).
    ``dbt_dir`` must hold the generated sources (``powertrace prepare``)."""
    import pyarrow.parquet as pq

    from orchestration.contracts import registry
    from orchestration.pseudonym import pseudonym_key

    if shutil.which("java") is None:
        raise click.ClickException("spark-build needs a Java runtime (17 or later) on PATH")
    lake = Path(lake).resolve()
    os.environ["POWERTRACE_LAKE"] = str(lake)  # profiles.yml reads it
    dbt_state = Path(dbt_state or state_dir() / "dbt" / SPARK_TARGET)
    seconds: dict[str, float] = {}

    started = time.monotonic()
    tables = export_bronze(lake, registry())
    seconds["bronze_export"] = time.monotonic() - started
    echo(f"spark-build: {tables} bronze tables exported as Parquet ({seconds['bronze_export']:.1f} s)")

    started = time.monotonic()
    warehouse = spark_dir(lake) / "warehouse"
    shutil.rmtree(warehouse, ignore_errors=True)  # the catalog is the session's: start empty
    spark = open_session(dbt_dir, pseudonym_key())
    seconds["session_start"] = time.monotonic() - started
    try:
        dbt_args = ["--target", SPARK_TARGET, "--project-dir", str(dbt_dir), "--profiles-dir", str(dbt_dir),
                    "--target-path", str(dbt_state / "target"), "--log-path", str(dbt_state / "logs"), "--quiet"]
        started = time.monotonic()
        _dbt("run-operation register_bronze_snapshots", ["run-operation", "register_bronze_snapshots", *dbt_args])
        seconds["register_sources"] = time.monotonic() - started
        started = time.monotonic()
        _dbt("build", ["build", "--exclude-resource-type", "unit_test", *dbt_args])
        seconds["dbt_build"] = time.monotonic() - started
        echo(f"spark-build: dbt build --target spark passed ({seconds['dbt_build']:.1f} s)")

        started = time.monotonic()
        alerts = spark.table("gold.alerts").toArrow()
        path = spark_dir(lake) / "alerts.parquet"
        pq.write_table(alerts, path)
        seconds["alerts_export"] = time.monotonic() - started
    finally:
        spark.stop()
    echo(f"spark-build: {alerts.num_rows} alerts written to {path}; "
         + ", ".join(f"{phase} {s:.1f} s" for phase, s in seconds.items()))
    return SparkBuild(lake, path, alerts.num_rows, seconds)


def _dbt(what: str, args: list[str]) -> None:
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(args)
    failed = [f"{r.node.unique_id}: {r.message}" for r in (result.result or []) if getattr(r, "node", None)
              and r.status not in ("success", "pass", "warn")]
    if not result.success or failed:
        raise click.ClickException(f"dbt {what} on Spark failed: "
                                   + "; ".join([str(result.exception or "")] + failed).strip("; "))


@click.command("spark-build")
@click.pass_context
def spark_build_command(ctx: click.Context) -> None:
    """Build silver and gold on Apache Spark from Parquet snapshots of bronze (docs/spark.md)."""
    from orchestration.run_cli import prepare_project

    prepare_project(echo=click.echo)  # the generated dbt sources
    spark_build(ctx.obj["lake"], echo=click.echo)
