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


def test_a_kinds_systems_are_ingested_two_at_a_time_and_reported_in_registry_order(landed, monkeypatch):
    """The bronze asset of a kind ingests its systems in threads (settings.ingest_threads): two
    are under way at once, every system's progress is logged, materializations come in registry
    order."""
    import threading

    import orchestration.ingest

    others = [CONTRACT.model_copy(update={"system_id": f"village_finance_3302{n:02d}"}) for n in (1, 2, 3)]
    for contract in others:
        folder = landed / "landing" / contract.system_id / DAYS[0].isoformat()
        folder.mkdir(parents=True)
        (folder / "zfmx.csv").write_text("ZFBH,JE\n1,1.00\n")
    real, together = orchestration.ingest.ingest_system, threading.Barrier(2, timeout=30)

    def ingest(contract, *args, **kwargs):
        if contract.system_id in (CONTRACT.system_id, others[0].system_id):
            together.wait()  # the first two systems must be under way at the same time
        return real(contract, *args, **kwargs)

    monkeypatch.setattr(orchestration.ingest, "ingest_system", ingest)
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([_bronze_kind("village_finance", [CONTRACT, *others])], instance=instance)
    assert result.success
    order = [CONTRACT.system_id, *(c.system_id for c in others)]
    assert [e.asset_key.path[1] for e in result.get_asset_materialization_events()] == order
    logged = [r.user_message for r in instance.all_logs(result.run_id) if "rows to bronze" in r.user_message]
    assert sorted(next(s for s in order if m.startswith(s)) for m in logged) == sorted(order)
    assert len(ingested(landed)) == len(DAYS)  # every ledger row reconciles


def test_a_runs_kinds_read_the_ledger_once_and_each_commits_its_own_systems(landed, monkeypatch):
    """The kinds' steps of one run share its SharedWrites: the ledger is read once for the run,
    and each step still commits its own systems' ledger rows when it ends (a later step's
    failure keeps an earlier kind's batches ingested)."""
    from orchestration.ingest import system as system_module

    other = CONTRACT.model_copy(update={"system_id": "village_cadre_roster_330100", "kind": "village_cadre_roster"})
    folder = landed / "landing" / other.system_id / DAYS[0].isoformat()
    folder.mkdir(parents=True)
    (folder / "zfmx.csv").write_text("ZFBH,JE\n1,1.00\n")
    reads, in_ledger_before = [], []
    read = system_module.ledger_fingerprints
    monkeypatch.setattr(system_module, "ledger_fingerprints", lambda *args: reads.append(args) or read(*args))
    real = system_module.ingest_system

    def ingest(contract, *args, **kwargs):
        ledger = landed / "ledger"
        in_ledger_before.append(set(pl.read_delta(str(ledger))["system_id"]) if ledger.exists() else set())
        in_ledger_before.append(contract.system_id)
        return real(contract, *args, **kwargs)

    import orchestration.ingest
    monkeypatch.setattr(orchestration.ingest, "ingest_system", ingest)
    result = dg.materialize([_bronze_kind("village_finance", [CONTRACT]),
                             _bronze_kind("village_cadre_roster", [other])], instance=dg.DagsterInstance.ephemeral())
    assert result.success
    assert len(reads) == 1
    [nothing, first, committed, second] = in_ledger_before   # the second kind starts after the first committed
    assert nothing == set() and committed == {first} and {first, second} == {SYSTEM, other.system_id}
    ledger = pl.read_delta(str(landed / "ledger"))
    assert sorted(set(ledger["system_id"])) == [other.system_id, SYSTEM] and ledger["reconciled"].all()


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_ingest_threads_must_be_a_positive_whole_number(value, monkeypatch):
    from orchestration.settings import ingest_threads

    monkeypatch.setenv("POWERTRACE_INGEST_THREADS", value)
    with pytest.raises(ValueError, match="POWERTRACE_INGEST_THREADS"):
        ingest_threads()
