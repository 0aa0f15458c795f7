"""The gold layer through dbt on a hand-made bronze zone: a scaffolded model end to end, and the
alerts lifecycle across daily increments (idempotence, resolution, increment equals rebuild).

The world: tender projects of one city. `powertrace new-model SM11 --domain bidding --mode live`
scaffolds a stub rule (a project whose budget reaches example_min_amount = 1,000,000 alerts).
Day 1 delivers projects A and B (both alert); day 2 re-delivers B below the threshold (it no
longer alerts) and delivers C (a new alert).
"""
from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from dbt_bronze_fixture import bronze_frame, write_bronze
from orchestration.contracts import registry
from orchestration.evaluate import evaluate, manifest_model_ids
from orchestration.scaffold import scaffold

SYSTEM = "public_resource_trading_330100"
DAY1, DAY2 = dt.date(2026, 10, 1), dt.date(2026, 10, 2)
pytestmark = pytest.mark.slow  # four dbt invocations of the whole project (minutes on two cores)

CONTRACT_COLUMNS = ("alert_id", "model_id", "model_version", "rule_branch", "severity", "region_code",
                    "primary_key", "amount", "event_date", "evidence")


def project(project_id: str, budget: int) -> dict:
    return {"project_id": project_id, "name": "道路改造工程", "owner_code": "113301020000000001", "owner_type": "org",
            "region_code": "330102", "category": "works", "method": "open", "budget": Decimal(budget),
            "publish_date": dt.date(2026, 8, 1), "bid_deadline": dt.date(2026, 8, 22), "award_date": dt.date(2026, 9, 1)}


DAY1_ROWS = [project("A", 2_000_000), project("B", 2_000_000), project("SMALL", 900_000)]
DAY2_ROWS = [project("B", 500_000), project("C", 3_000_000)]


def bronze(lake, days: list[tuple[dt.date, list[dict]]]) -> None:
    """Every bronze table (empty but this one); each batch ingested the night after its date, as
    ingestion would stamp it (incremental silver models pick up rows ingested since their last build)."""
    write_bronze(lake, registry(), {})
    frames = [bronze_frame(SYSTEM, "tender_project", rows, day).with_columns(
                  _ingested_at=pl.lit(dt.datetime(day.year, day.month, day.day, 23, tzinfo=dt.timezone.utc)))
              for day, rows in days]
    pl.concat(frames).write_delta(str(lake / "bronze" / SYSTEM / "tender_project"), mode="overwrite")


def sm11_alerts(lake) -> dict[str, dict]:
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        cur = con.execute("select * from gold.alerts where model_id = 'SM11'")
        names = [d[0] for d in cur.description]
        return {row[names.index("primary_key")]: dict(zip(names, row)) for row in cur.fetchall()}


@pytest.fixture(scope="module")
def runs(project_copy, tmp_path_factory):
    """Alerts after day 1, after day 2 (incremental), after day 2 again, and a full rebuild of day 2."""
    written = scaffold("SM11", "bidding", "stub", mode="live", author="gold tests", dbt_dir=project_copy.dir)
    project_copy.prepare()
    lake = tmp_path_factory.mktemp("lake")
    bronze(lake, [(DAY1, DAY1_ROWS)])
    outcome = {"written": written, "build_failed": project_copy.dbt(lake, "build")}
    outcome["day1"] = sm11_alerts(lake)
    bronze(lake, [(DAY1, DAY1_ROWS), (DAY2, DAY2_ROWS)])
    outcome["day2_failed"] = project_copy.dbt(lake, "run")
    outcome["day2"] = sm11_alerts(lake)
    outcome["rerun_failed"] = project_copy.dbt(lake, "run")
    outcome["rerun"] = sm11_alerts(lake)
    rebuilt = tmp_path_factory.mktemp("rebuilt")
    shutil.copytree(lake / "bronze", rebuilt / "bronze")
    outcome["rebuild_failed"] = project_copy.dbt(rebuilt, "build")  # seeds too: a fresh warehouse
    outcome["rebuild"] = sm11_alerts(rebuilt)
    outcome["lake"] = lake
    return outcome


def test_scaffold_builds_and_its_unit_test_passes(runs):
    sql, yml, seed = runs["written"]
    assert sql.name == "sm11_stub.sql" and sql.parent.name == "bidding" and yml.exists()
    assert "SM11,enabled,330000,1" in seed.read_text()
    assert runs["build_failed"] == []  # the build ran every unit test, SM11's stub included


def test_scaffolded_model_reaches_alerts_scorecard_and_evaluate(runs, project_copy):
    assert set(runs["day1"]) == {f"{SYSTEM}:A", f"{SYSTEM}:B"}
    with duckdb.connect(str(runs["lake"] / "warehouse.duckdb"), read_only=True) as con:
        scored = con.execute("select alerts from gold.scorecard where model_id = 'SM11' and rule_branch = '*'").fetchall()
    assert sum(n for (n,) in scored) == 3
    models = manifest_model_ids(project_copy.target / "manifest.json")
    assert "SM11" in models
    empty = pl.DataFrame(schema={"model_id": pl.Utf8, "rule_branch": pl.Utf8, "primary_key": pl.Utf8,
                                 "severity": pl.Utf8, "decoy": pl.Boolean, "note": pl.Utf8})
    assert "SM11" in evaluate(empty, empty, empty, models)["model_id"].to_list()


def test_first_run_opens_alerts_at_the_as_of_date(runs):
    a = runs["day1"][f"{SYSTEM}:A"]
    assert (a["status"], a["first_detected_as_of"], a["last_detected_as_of"], a["resolved_as_of"]) == \
        ("open", DAY1, DAY1, None)


def test_daily_increment_keeps_first_detection_and_resolves_vanished_alerts(runs):
    day2 = runs["day2"]
    assert set(day2) == {f"{SYSTEM}:A", f"{SYSTEM}:B", f"{SYSTEM}:C"}
    assert (day2[f"{SYSTEM}:A"]["first_detected_as_of"], day2[f"{SYSTEM}:A"]["last_detected_as_of"]) == (DAY1, DAY2)
    assert day2[f"{SYSTEM}:A"]["alert_id"] == runs["day1"][f"{SYSTEM}:A"]["alert_id"]
    assert (day2[f"{SYSTEM}:B"]["status"], day2[f"{SYSTEM}:B"]["resolved_as_of"]) == ("resolved", DAY2)
    assert (day2[f"{SYSTEM}:C"]["status"], day2[f"{SYSTEM}:C"]["first_detected_as_of"]) == ("open", DAY2)


def test_rerun_on_the_same_data_changes_nothing(runs):
    assert runs["rerun_failed"] == []
    assert runs["rerun"] == runs["day2"]


def test_increment_equals_full_rebuild(runs):
    """The open alerts after the increment are the rebuild's alerts, column for column of the
    contract (the rebuild cannot know earlier detections, nor alerts that vanished before)."""
    assert runs["day2_failed"] == [] and runs["rebuild_failed"] == []
    increment = {k: {c: v[c] for c in CONTRACT_COLUMNS} for k, v in runs["day2"].items() if v["status"] == "open"}
    rebuild = {k: {c: v[c] for c in CONTRACT_COLUMNS} for k, v in runs["rebuild"].items()}
    assert increment == rebuild
