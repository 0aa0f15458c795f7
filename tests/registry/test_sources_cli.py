"""`powertrace sources list` and `powertrace sources validate` through the real command group."""
from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from click.testing import CliRunner

from orchestration.cli import main


def run(*args: str, lake=None):
    lake_args = ["--lake", str(lake)] if lake else []
    return CliRunner().invoke(main, [*lake_args, "sources", *args], catch_exceptions=False)


@pytest.fixture
def lake(tmp_path):
    return tmp_path / "lake"


def write_ledger(lake, rows: list[tuple[str, dt.date]]) -> None:
    """A ledger holding only the columns `sources list` reads."""
    frame = pl.DataFrame({"system_id": [r[0] for r in rows], "batch_date": [r[1] for r in rows]},
                         schema={"system_id": pl.Utf8, "batch_date": pl.Date})
    frame.write_delta(str(lake / "ledger"))


def test_list_table_shows_every_system_aligned(lake):
    result = run("list", lake=lake)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["system_id", "kind", "level", "region", "format", "last_batch", "status"]
    rows = [line for line in lines[2:] if line.strip() and not line.endswith("systems")]
    assert len(rows) == 153
    status_at = lines[0].index("status")
    assert all(row[status_at:] == "never delivered" for row in rows)
    assert "153 systems" in result.output


def test_list_json_and_filters(lake):
    everything = json.loads(run("list", "--format", "json", lake=lake).output)
    assert len(everything) == 153
    assert set(everything[0]) == {"system_id", "kind", "level", "region", "format", "last_batch", "status"}
    hospitals = json.loads(run("list", "--format", "json", "--level", "hospital", lake=lake).output)
    assert len(hospitals) == 85 and {h["kind"] for h in hospitals} == {"hospital_his"}
    finance = json.loads(run("list", "--format", "json", "--kind", "village_finance", lake=lake).output)
    assert [f["region"] for f in finance] == [f"33{i:02d}00" for i in range(1, 12)]


def test_list_judges_freshness_against_the_lakes_as_of_date(lake):
    write_ledger(lake, [
        ("village_finance_330100", dt.date(2026, 10, 30)),
        ("village_finance_330100", dt.date(2026, 10, 31)),   # the as-of date: latest batch anywhere
        ("village_finance_330200", dt.date(2026, 10, 27)),   # increment, 1 day allowed
        ("vehicle_registry_330000", dt.date(2026, 10, 1)),   # monthly snapshot, 35 days allowed
        ("household_registry_330000", dt.date(2026, 10, 29)),  # snapshot, 2 days allowed
    ])
    rows = {r["system_id"]: r for r in json.loads(run("list", "--format", "json", lake=lake).output)}
    assert rows["village_finance_330100"]["last_batch"] == "2026-10-31"
    assert rows["village_finance_330100"]["status"] == "fresh"
    assert rows["village_finance_330200"]["status"] == "stale (4 days)"
    assert rows["vehicle_registry_330000"]["status"] == "fresh"
    assert rows["household_registry_330000"]["status"] == "fresh"
    assert (rows["pension_330000"]["last_batch"], rows["pension_330000"]["status"]) == ("-", "never delivered")


def test_validate_the_shipped_registry():
    result = run("validate")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "OK: 153 contracts valid"


def test_validate_reports_every_error_and_fails(sample_path, sources_copy):
    sample_path.write_text(sample_path.read_text(encoding="utf-8").replace("level: city", "level: county"),
                           encoding="utf-8")
    misplaced = sources_copy / "city" / "asset_trading" / "village_finance_330300.yml"
    misplaced.parent.mkdir(parents=True)
    misplaced.write_text(sample_path.read_text(encoding="utf-8")
                         .replace("village_finance_330200", "village_finance_330300")
                         .replace("level: county", "level: city"), encoding="utf-8")
    result = run("validate")
    assert result.exit_code == 1
    assert f"{sample_path}: field level: Input should be 'province', 'city' or 'hospital'" in result.output
    assert f"{misplaced}: field level/kind: the file must be at city/village_finance/village_finance_330300.yml" \
        in result.output
    assert "FAILED: 2 error(s) in 2 contract file(s)" in result.output


def test_validate_given_files_only(sample_path, tmp_path):
    draft = tmp_path / "village_finance_330200.yml"   # a draft outside the registry, e.g. from onboarding
    draft.write_text(sample_path.read_text(encoding="utf-8"), encoding="utf-8")
    assert run("validate", str(draft)).output.strip() == "OK: 1 contracts valid"
    renamed = tmp_path / "village_finance_999999.yml"
    draft.rename(renamed)
    result = run("validate", str(renamed))
    assert result.exit_code == 1 and "must equal the file name" in result.output
