"""The dbt project on Apache Spark (`powertrace spark-build`, docs/spark.md) against its DuckDB build.

On the SF 0.01 `built_world`, the Spark build's alerts equal the DuckDB build's in (model_id,
primary_key, severity, rule_branch), every rule branch fires on Spark, persons get the same
person_ref, and the identity macros' Spark SQL agrees with orchestration.identity. Minutes: run by
`make test-spark`, outside the default run.
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import polars as pl
import pytest

from orchestration.evaluate import ALERT_IDENTITY

pytestmark = [pytest.mark.spark, pytest.mark.slow]

if shutil.which("java") is None:
    pytest.skip("Spark needs a Java runtime (17 or later) on PATH", allow_module_level=True)
pytest.importorskip("pyspark", reason="the Spark packages (the `spark` extra) are in .venv-spark: run `make test-spark`")
pytest.importorskip("dbt.adapters.spark", reason="dbt-spark (the `spark` extra) is in .venv-spark: run `make test-spark`")

CASES = Path(__file__).resolve().parent.parent / "cases"


@pytest.fixture(scope="module")
def spark_built(built_world, tmp_path_factory):
    from orchestration.spark_build import spark_build

    assert not built_world.failed, f"the DuckDB build failed: {built_world.failed}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POWERTRACE_PSEUDONYM_KEY", built_world.key)
        mp.setenv("POWERTRACE_LAKE", str(built_world.lake))
        build = spark_build(built_world.lake, dbt_dir=built_world.dbt_dir,
                            dbt_state=tmp_path_factory.mktemp("spark_dbt"))
    print(f"spark build at SF 0.01: {build.seconds}")
    return build


def branches(alerts: pl.DataFrame) -> set[tuple[str, str]]:
    """(model_id, branch) of every fired branch (rule_branch is comma-joined)."""
    return {(row["model_id"], branch) for row in alerts.select("model_id", "rule_branch").unique().iter_rows(named=True)
            for branch in row["rule_branch"].split(",")}


def test_spark_alerts_equal_duckdb_alerts(built_world, spark_built):
    spark = pl.read_parquet(spark_built.alerts).select(ALERT_IDENTITY)
    duck = pl.DataFrame(built_world.query(f"select {', '.join(ALERT_IDENTITY)} from gold.alerts"))
    assert spark.height == spark_built.alert_rows > 0
    only_spark = spark.join(duck, on=ALERT_IDENTITY, how="anti").sort(ALERT_IDENTITY)
    only_duck = duck.join(spark, on=ALERT_IDENTITY, how="anti").sort(ALERT_IDENTITY)
    assert only_spark.is_empty() and only_duck.is_empty(), (
        f"{only_spark.height} alerts only on Spark, e.g. {only_spark.head(5).rows()}; "
        f"{only_duck.height} only on DuckDB, e.g. {only_duck.head(5).rows()}")
    assert spark.height == duck.height, "one alert per (model_id, primary_key) on both engines"


def test_every_rule_branch_fires_on_spark(built_world, spark_built):
    on_spark = branches(pl.read_parquet(spark_built.alerts))
    on_duckdb = branches(pl.DataFrame(built_world.query("select model_id, rule_branch from gold.alerts")))
    in_truth = branches(pl.read_parquet(built_world.lake / "truth" / "alerts.parquet"))
    assert on_duckdb and in_truth
    assert not (on_duckdb | in_truth) - on_spark, f"branches without an alert on Spark: {sorted((on_duckdb | in_truth) - on_spark)}"


def test_spark_person_refs_equal_duckdb_person_refs(built_world, spark_built):
    """The HMAC of the Spark session variables gives every person the ref DuckDB gives them."""
    table = built_world.lake / "spark" / "warehouse" / "silver.db" / "person"
    spark_refs = set(pl.read_parquet(table / "*.parquet")["person_ref"].drop_nulls())
    duck_refs = {r["person_ref"] for r in built_world.query("select person_ref from silver.person where person_ref is not null")}
    assert spark_refs and spark_refs == duck_refs


def test_identity_macros_on_spark_agree_with_python(built_world, spark_built):
    """The Spark SQL of the identity macros (macros/identity, engine spark) over the shared case
    tables gives what orchestration.identity and orchestration.pseudonym give."""
    from orchestration import identity
    from orchestration.dbt_macros import render_macros
    from orchestration.pseudonym import person_ref
    from orchestration.spark_build import open_session

    macros = render_macros(["identity", "engine"], engine="spark")
    raws = [row["raw"] for name in ("id_number_cases.csv", "credit_code_cases.csv", "phone_cases.csv")
            for row in csv.DictReader(open(CASES / name, newline="", encoding="utf-8"))]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POWERTRACE_LAKE", str(built_world.lake))
        spark = open_session(built_world.dbt_dir, built_world.key)
    try:
        id_norm = macros.normalise_id_number("v")
        code_norm = macros.normalise_credit_code("v")
        rows = spark.sql(
            f"select v, {id_norm} as i, {macros.id_number_is_valid(id_norm)} as iv, {code_norm} as c, "
            f"{macros.credit_code_is_valid(code_norm)} as cv, {macros.normalise_phone('v')} as p, "
            f"{macros.person_ref(id_norm)} as ref from values {', '.join(['(?)'] * len(raws))} as t(v)",
            args=raws).collect()
    finally:
        spark.stop()
    got = {r["v"]: (r["i"], r["iv"], r["c"], r["cv"], r["p"], r["ref"]) for r in rows}
    expected = {}
    for raw in raws:
        i, c = identity.normalise_id_number(raw), identity.normalise_credit_code(raw)
        expected[raw] = (i, identity.id_number_is_valid(i), c, identity.credit_code_is_valid(c),
                         identity.normalise_phone(raw), person_ref(i, built_world.key) if i else None)
    assert got == expected
