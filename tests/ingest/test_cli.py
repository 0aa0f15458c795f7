"""powertrace ingest / quarantine list|show|replay, and replay after a contract fix."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from ingest_helpers import HEADER, SYSTEM, bronze, contract_doc, csv_text, land, payment_table, write_contract

from orchestration import contracts
from orchestration.cli import main
from orchestration.ingest import ingest_system, quarantine_frame, replay_quarantine

GOOD = "P1,330102001001,330102198001011234,张三,12345,20261001,务工补贴"
BAD_DATE = "P2,330102001001,330102198001011234,李四,100,2026-10-01,材料款"


@pytest.fixture
def registry_dir(tmp_path: Path, monkeypatch) -> Path:
    """A one-system registry in tmp_path, seen by ``registry()`` through POWERTRACE_SOURCES."""
    monkeypatch.setenv("POWERTRACE_SOURCES", str(tmp_path / "sources"))
    contracts._cached_registry.cache_clear()
    write_contract(tmp_path, contract_doc())
    yield tmp_path / "sources"
    contracts._cached_registry.cache_clear()


def run(lake: Path, *args: str) -> "click.testing.Result":  # noqa: F821
    return CliRunner().invoke(main, ["--lake", str(lake), *args], catch_exceptions=False)


def test_ingest_command_prints_a_summary_and_exits_0_when_reconciled(registry_dir, lake):
    land(lake, "zfmx.csv", csv_text(GOOD, BAD_DATE))
    result = run(lake, "ingest")
    assert result.exit_code == 0, result.output
    assert f"[1/1] {SYSTEM}: 1 batch(es), 1 file(s), 1 to bronze, 1 quarantined: ok" in result.output
    assert "reconciled" in result.output and "yes" in result.output
    again = run(lake, "ingest", "--system", SYSTEM)
    assert "Nothing new to ingest" in again.output


def test_ingest_command_exits_1_when_a_file_does_not_reconcile(registry_dir, lake):
    import hashlib

    import polars as pl
    path = land(lake, "zfmx.csv", csv_text(GOOD))
    (lake / "truth").mkdir()
    pl.DataFrame({"system_id": [SYSTEM], "batch_date": [path.parent.name], "file_name": ["zfmx.csv"],
                  "records": [4], "sha256": [hashlib.sha256(path.read_bytes()).hexdigest()]}).with_columns(
        pl.col("batch_date").str.to_date()).write_parquet(lake / "truth" / "manifest.parquet")
    result = CliRunner().invoke(main, ["--lake", str(lake), "ingest"])
    assert result.exit_code == 1
    assert "do not reconcile" in result.output and "records sent 4 != bronze 1 + quarantined 0" in result.output


def test_unknown_system_is_a_clear_error(registry_dir, lake):
    result = CliRunner().invoke(main, ["--lake", str(lake), "ingest", "--system", "nope_330100"])
    assert result.exit_code == 2 and "unknown system id(s) ['nope_330100']" in result.output


def test_quarantine_list_and_show(registry_dir, lake):
    land(lake, "zfmx.csv", csv_text(GOOD, BAD_DATE, "P3,short"))
    run(lake, "ingest")
    listed = run(lake, "quarantine", "list", "--system", SYSTEM)
    assert "unparsable_date" in listed.output and "field_count" in listed.output
    assert "2 row(s) in quarantine." in listed.output
    shown = run(lake, "quarantine", "show", "--rule", "unparsable_date")
    assert f"{SYSTEM} 2026-10-01/zfmx.csv:3 [unparsable_date] pay_date (ZFRQ): '2026-10-01'" in shown.output
    assert BAD_DATE in shown.output and "1 of 1 row(s) shown." in shown.output


def test_replay_after_a_contract_fix_moves_rows_to_bronze(registry_dir, tmp_path, lake):
    # The vendor renamed the amount header: the whole file is rejected until the contract follows.
    land(lake, "zfmx.csv", csv_text(GOOD, BAD_DATE.replace("2026-10-01", "20261001"),
                                    header=HEADER.replace("JE", "ZFJE")))
    run(lake, "ingest")
    assert bronze(lake).height == 0 and quarantine_frame(lake, SYSTEM)["rule"].unique().to_list() == ["missing_column"]

    doc = contract_doc()
    columns = payment_table(doc)["mappings"][0]["columns"]
    columns["ZFJE"] = columns.pop("JE")
    write_contract(tmp_path, doc)
    contracts._cached_registry.cache_clear()
    result = run(lake, "quarantine", "replay", "--system", SYSTEM)
    assert result.exit_code == 0, result.output
    assert "quarantined rows: 2 before, 0 after (2 released)" in result.output
    assert bronze(lake)["payment_id"].to_list() == ["P1", "P2"]
    assert quarantine_frame(lake, SYSTEM).height == 0


def test_replay_only_the_given_batch(tmp_path, lake):
    contract = write_contract(tmp_path, contract_doc())
    import datetime as dt
    other = dt.date(2026, 10, 2)
    land(lake, "zfmx.csv", csv_text(GOOD, "P3,short"))
    land(lake, "zfmx.csv", csv_text("P4,short"), day=other)
    ingest_system(contract, lake)
    replayed = replay_quarantine(contract, lake, [other])
    assert replayed.batches == [other] and replayed.quarantined_before == 1 and replayed.quarantined_after == 1
    assert replay_quarantine(contract, lake, [dt.date(2026, 10, 9)]).batches == []
