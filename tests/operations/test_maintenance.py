"""Delta maintenance: published tables keep every version the last N publications refer to (a
rollback within N still loads) while older files go; other zones keep a fixed retention;
compaction keeps the data; a dry run changes nothing.

Days of operation are simulated by ageing commits: the ``deletionTimestamp`` of the files a
commit removed and the ``published_at`` of the fake publications log are set to days ago."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from click.testing import CliRunner
from deltalake import DeltaTable, write_deltalake

from orchestration.maintenance import maintain, maintain_command
from orchestration.publish.core import commit_table
from orchestration.publish.history import LOG_SCHEMA, rollback
from orchestration.settings import Zones

NOW = dt.datetime.now(dt.timezone.utc)
RUNS = 8
# coverage is held back by runs 5 and 6: a rollback to them needs its version 4, written by run 4
COVERAGE_WRITTEN_BY = (0, 1, 2, 3, 4, 7)


def published_at(run: int) -> dt.datetime:
    return NOW - dt.timedelta(days=RUNS - run)


def age_commit(table: Path, version: int, when: dt.datetime) -> None:
    """Pretend commit ``version`` of ``table`` happened at ``when``."""
    millis = int(when.timestamp() * 1000)
    commit = table / "_delta_log" / f"{version:020d}.json"
    actions = [json.loads(line) for line in commit.read_text().splitlines() if line.strip()]
    for action in actions:
        if "remove" in action:
            action["remove"]["deletionTimestamp"] = millis
        if "commitInfo" in action:
            action["commitInfo"]["timestamp"] = millis
    commit.write_text("".join(json.dumps(a) + "\n" for a in actions))


def files_of(table: Path, version: int) -> set[Path]:
    return {Path(uri.removeprefix("file://")) for uri in DeltaTable(str(table), version=version).file_uris()}


def run_values(table: Path, version: int | None = None) -> list[int]:
    return sorted(pl.from_arrow(DeltaTable(str(table), version=version).to_pyarrow_table())["run"].to_list())


@pytest.fixture
def published_lake(tmp_path) -> Zones:
    """Eight daily publications of ``alerts`` and ``coverage`` (held back by runs 5 and 6), with their log."""
    zones = Zones(tmp_path / "lake")
    log_rows = []
    for run in range(RUNS):
        run_id = f"run-{run}"
        versions = {"alerts": commit_table(zones.published / "alerts", pa.table({"run": [run] * 3}), run_id),
                    "coverage": None}
        if run in COVERAGE_WRITTEN_BY:
            versions["coverage"] = commit_table(zones.published / "coverage", pa.table({"run": [run]}), run_id)
        for table, version in versions.items():
            if version is not None:
                age_commit(zones.published / table, version, published_at(run) - dt.timedelta(minutes=1))
            log_rows.append({"run_id": run_id, "published_at": published_at(run), "kind": "run",
                             "as_of_date": published_at(run).date(), "table_name": table, "delta_version": version,
                             "rows": None, "stale_models": "[]", "gates": "{}", "data_versions": "{}",
                             "restored_run": None})
    write_deltalake(str(zones.publications), pl.DataFrame(log_rows, schema=LOG_SCHEMA).to_arrow())
    return zones


def test_published_tables_keep_the_last_n_publications(published_lake):
    zones = published_lake
    alerts, coverage = zones.published / "alerts", zones.published / "coverage"
    old_files = {*(f for v in range(4) for f in files_of(alerts, v)),
                 *(f for v in range(4) for f in files_of(coverage, v))}
    assert all(f.exists() for f in old_files)

    report = maintain(zones, keep=3)

    assert not report.errors, report.errors
    assert report.published.publications == 3
    assert report.published.oldest == published_at(5)
    assert report.published.hours == 3 * 24 + 2          # 72 h and a part, rounded up, plus an hour of slack
    assert report.published.versions == {"alerts": (5, 6, 7), "coverage": (4, 5)}
    for run in (5, 6, 7):                                # rollback targets within N still load
        assert run_values(alerts, run) == [run] * 3
    assert run_values(coverage, 4) == [4] and run_values(coverage, 5) == [7]
    assert not any(f.exists() for f in old_files)         # versions 0-3 are gone
    assert sum(t.vacuumed for t in report.tables if t.zone == "published") == len(old_files)

    rollback(zones, "run-5", log=lambda _msg: None)      # run 5: alerts of run 5, coverage held at run 4
    assert run_values(alerts) == [5] * 3
    assert run_values(coverage) == [4]


def test_log_retention_is_raised_to_cover_an_old_publication(tmp_path):
    zones = Zones(tmp_path / "lake")
    commit_table(zones.published / "alerts", pa.table({"run": [1]}), "run-1")
    forty_days_ago = NOW - dt.timedelta(days=40)
    write_deltalake(str(zones.publications), pl.DataFrame([{
        "run_id": "run-1", "published_at": forty_days_ago, "kind": "run", "as_of_date": forty_days_ago.date(),
        "table_name": "alerts", "delta_version": 0}], schema=LOG_SCHEMA).to_arrow())

    def published_outcome():
        report = maintain(zones, keep=30)
        assert report.published.hours > 40 * 24
        return next(t for t in report.tables if t.zone == "published")

    assert published_outcome().log_retention == "interval 60 days"
    properties = DeltaTable(str(zones.published / "alerts")).metadata().configuration
    assert properties["delta.logRetentionDuration"] == "interval 60 days"
    assert published_outcome().log_retention is None      # already long enough: no new commit


def bronze_with_history(zones: Zones) -> tuple[Path, dict[str, set[Path]]]:
    """A bronze table overwritten 10 days ago and 1 day ago, then appended to today."""
    table = zones.bronze_table("village_finance_330100", "village_payment")
    files = {}
    for version, (rows, when) in enumerate([("a", None), ("b", 10), ("c", 1)]):
        write_deltalake(str(table), pa.table({"row": [rows] * 2}), mode="overwrite")
        files[rows] = files_of(table, version)
        if when:
            age_commit(table, version, NOW - dt.timedelta(days=when))
    write_deltalake(str(table), pa.table({"row": ["d"]}), mode="append")
    return table, files


def test_other_zones_keep_a_fixed_retention_and_compaction_keeps_the_rows(tmp_path):
    zones = Zones(tmp_path / "lake")
    table, files = bronze_with_history(zones)
    before = sorted(pl.read_delta(str(table))["row"].to_list())

    report = maintain(zones, keep=30)

    assert report.published is None and not report.errors
    [outcome] = report.tables
    assert (outcome.zone, outcome.retention_hours, outcome.files) == ("bronze", 168, 2)
    assert (outcome.compacted_removed, outcome.compacted_added) == (2, 1)
    assert sorted(pl.read_delta(str(table))["row"].to_list()) == before == ["c", "c", "d"]
    assert len(DeltaTable(str(table)).file_uris()) == 1
    assert not any(f.exists() for f in files["a"])          # removed 10 days ago: beyond 7 days
    assert all(f.exists() for f in files["b"])              # removed 1 day ago: kept
    assert outcome.vacuumed == len(files["a"])


def test_dry_run_changes_nothing(tmp_path):
    zones = Zones(tmp_path / "lake")
    table, files = bronze_with_history(zones)
    version = DeltaTable(str(table)).version()

    result = CliRunner().invoke(maintain_command, ["--dry-run"], obj={"lake": zones.root})

    assert result.exit_code == 0, result.output
    assert "dry run" in result.output and "bronze" in result.output
    assert DeltaTable(str(table)).version() == version
    assert all(f.exists() for f in files["a"])


def test_keep_publications_setting_is_validated(tmp_path, monkeypatch):
    monkeypatch.setenv("POWERTRACE_KEEP_PUBLICATIONS", "thirty")
    result = CliRunner().invoke(maintain_command, [], obj={"lake": tmp_path / "lake"})
    assert result.exit_code != 0 and "POWERTRACE_KEEP_PUBLICATIONS='thirty'" in result.output
