"""Daily operation: the daily schedule, the batch-range run tag the bronze assets honour (a
backfill re-ingests exactly its range, in one run), ``powertrace backfill`` launching one run, and
the retry policy of ingestion."""
from __future__ import annotations

import datetime as dt

import dagster as dg
import polars as pl
import pytest
from click.testing import CliRunner

from orchestration.assets.bronze import INGEST_RETRY, _bronze_kind
from orchestration.automation.schedules import (BATCH_DATES_TAG, backfill, daily_schedule, parse_batch_range,
                                                requested_batch_dates)
from orchestration.contracts import Contract

SYSTEM = "village_finance_330100"
DAYS = [dt.date(2026, 10, d) for d in (1, 2, 3, 4)]
CONTRACT = Contract.model_validate({
    "system_id": SYSTEM, "name": "杭州市农村集体三资管理平台", "kind": "village_finance",
    "department": "杭州市农业农村局", "level": "city", "region_code": "330100",
    "delivery": {"format": "csv", "mode": "increment"},
    "tables": {"village_payment": {
        "entity": "village_payment", "file_pattern": "zfmx*.csv", "primary_key": ["payment_id"],
        "mappings": [{"from_batch": "2025-11-01", "columns": {
            "ZFBH": {"column": "payment_id"}, "JE": {"column": "amount"}}}]}},
})


@dg.asset
def probe() -> None:
    pass


def test_daily_schedule_is_stopped_in_shanghai_time_and_reads_its_cron(monkeypatch):
    job = dg.define_asset_job("main_job", selection=dg.AssetSelection.all())
    monkeypatch.delenv("POWERTRACE_DAILY_CRON", raising=False)
    schedule = daily_schedule(job)
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 * * *", "Asia/Shanghai")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert schedule.job_name == "main_job"
    dg.Definitions.validate_loadable(dg.Definitions(assets=[probe], jobs=[job], schedules=[schedule]))

    monkeypatch.setenv("POWERTRACE_DAILY_CRON", "30 2 * * *")
    assert daily_schedule(job).cron_schedule == "30 2 * * *"
    monkeypatch.setenv("POWERTRACE_DAILY_CRON", "every morning")
    with pytest.raises(ValueError, match="POWERTRACE_DAILY_CRON='every morning'"):
        daily_schedule(job)


def test_batch_range_tag():
    assert parse_batch_range("2026-10-01..2026-10-05") == (dt.date(2026, 10, 1), dt.date(2026, 10, 5))
    assert parse_batch_range("2026-10-03") == (dt.date(2026, 10, 3), dt.date(2026, 10, 3))
    for bad in ("2026-10-05..2026-10-01", "yesterday", "2026-10-01..2026-13-01"):
        with pytest.raises(ValueError, match=BATCH_DATES_TAG):
            parse_batch_range(bad)


def land(lake, day: dt.date, rows: int) -> None:
    folder = lake / "landing" / SYSTEM / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["ZFBH,JE", *(f"{day:%m%d}-{n},{n}.00" for n in range(rows))]
    (folder / "zfmx.csv").write_text("\n".join(lines) + "\n")


def ingested(lake) -> dict[str, dt.datetime]:
    ledger = pl.read_delta(str(lake / "ledger"))
    assert ledger["reconciled"].all()
    return {str(d): t for d, t in ledger.select("batch_date", "ingested_at").iter_rows()}


@pytest.fixture
def landed(tmp_path, monkeypatch):
    lake = tmp_path / "lake"
    for n, day in enumerate(DAYS):
        land(lake, day, rows=n + 1)
    monkeypatch.setenv("POWERTRACE_LAKE", str(lake))
    return lake


def materialize(tags: dict[str, str] | None = None) -> dict:
    result = dg.materialize([_bronze_kind("village_finance", [CONTRACT])], tags=tags,
                            instance=dg.DagsterInstance.ephemeral())
    assert result.success
    [event] = result.get_asset_materialization_events()
    return event.materialization.metadata


def test_bronze_assets_reingest_exactly_the_tagged_range(landed):
    first = materialize()                                     # no tag: every new batch
    assert first["batches_ingested"].value == [d.isoformat() for d in DAYS]
    before = ingested(landed)

    assert materialize()["batches_ingested"].value == []     # nothing new, nothing re-ingested

    backfilled = materialize({BATCH_DATES_TAG: "2026-10-02..2026-10-03"})
    assert backfilled["batches_ingested"].value == ["2026-10-02", "2026-10-03"]
    after = ingested(landed)
    assert [day for day in before if after[day] != before[day]] == ["2026-10-02", "2026-10-03"]
    assert pl.read_delta(str(landed / "bronze" / SYSTEM / "village_payment")).height == 1 + 2 + 3 + 4


def test_requested_dates_are_the_landed_ones_in_range(landed):
    assert requested_batch_dates({}, landed, SYSTEM) is None
    tags = {BATCH_DATES_TAG: "2026-09-30..2026-10-02"}
    assert requested_batch_dates(tags, landed, SYSTEM) == DAYS[:2]
    assert requested_batch_dates(tags, landed, "village_finance_330200") == []


def test_ingestion_retries_a_transient_failure(landed, monkeypatch):
    import orchestration.assets.bronze
    import orchestration.ingest

    assert _bronze_kind("village_finance", [CONTRACT]).op.retry_policy == INGEST_RETRY
    real, calls = orchestration.ingest.ingest_system, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("landing/…/zfmx.csv: Stale file handle")
        return real(*args, **kwargs)

    monkeypatch.setattr(orchestration.ingest, "ingest_system", flaky)
    # the same policy without its delay, so the test does not wait
    monkeypatch.setattr(orchestration.assets.bronze, "INGEST_RETRY", dg.RetryPolicy(INGEST_RETRY.max_retries))
    assert materialize()["batches_ingested"].value == [d.isoformat() for d in DAYS]
    assert len(calls) == 2


def test_backfill_is_one_run_tagged_with_its_range(landed, monkeypatch):
    import orchestration.run_cli

    runs = []
    monkeypatch.setattr(orchestration.run_cli, "run_main_job", lambda zones, echo, tags: runs.append(tags) or True)
    result = CliRunner().invoke(backfill, ["--from", "2026-10-01", "--to", "2026-10-05"], obj={"lake": landed})
    assert result.exit_code == 0, result.output
    assert runs == [{BATCH_DATES_TAG: "2026-10-01..2026-10-05", "powertrace/trigger": "backfill"}]
    assert "4 landed batch(es) of 1 system(s)" in result.output

    result = CliRunner().invoke(backfill, ["--from", "2026-11-01", "--to", "2026-11-05"], obj={"lake": landed})
    assert result.exit_code != 0 and "nothing to backfill" in result.output
    result = CliRunner().invoke(backfill, ["--from", "2026-10-05", "--to", "2026-10-01"], obj={"lake": landed})
    assert result.exit_code != 0 and "before --from" in result.output
    assert len(runs) == 1
