"""The instance `powertrace run` writes: Dagster's SQLite storage with the kept-connection event
log (orchestration/event_log.py), readable by any other process on the same folder (the webserver,
`bench/end_to_end.py`), and its dagster.yaml kept up to date without overwriting an operator's."""
from __future__ import annotations

import dagster as dg
import pytest

from orchestration.event_log import KeptConnectionSqliteEventLogStorage
from orchestration.run_cli import dagster_instance


@dg.asset
def counted():
    return 1


@dg.asset_check(asset=counted)
def counted_is_one():
    return dg.AssetCheckResult(passed=True)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    return tmp_path / "dagster"


def test_the_instance_keeps_its_event_log_connections(home):
    instance = dagster_instance()
    assert isinstance(instance.event_log_storage, KeptConnectionSqliteEventLogStorage)
    assert "orchestration.event_log" in (home / "dagster.yaml").read_text()


def test_events_stored_by_a_run_are_read_by_another_process_view(home):
    writer = dagster_instance()
    for _ in range(3):
        assert dg.materialize([counted, counted_is_one], instance=writer).success

    # A second instance on the same folder, as the webserver or the benchmark opens it.
    with dg.DagsterInstance.from_config(str(home)) as reader:
        runs = reader.get_runs()
        assert len(runs) == 3
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        latest = reader.get_latest_materialization_event(dg.AssetKey("counted"))
        assert latest is not None and latest.run_id == runs[0].run_id
        checks = reader.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey("counted"), "counted_is_one"), limit=10)
        assert len(checks) == 3
        logs = reader.all_logs(runs[-1].run_id)
        assert any(e.dagster_event and e.dagster_event.event_type == dg.DagsterEventType.RUN_SUCCESS for e in logs)
    writer.dispose()


def test_an_older_yaml_of_ours_is_replaced_and_an_operators_own_is_kept(home):
    home.mkdir(parents=True)
    config = home / "dagster.yaml"
    first_line = "# Written by `powertrace run`. One DuckDB writer at a time: every pool (dbt's duckdb_writer\n"
    config.write_text(first_line + "telemetry:\n  enabled: false\n")
    dagster_instance()
    assert "KeptConnectionSqliteStorage" in config.read_text()

    own = "# my instance\ntelemetry:\n  enabled: false\n"
    config.write_text(own)
    dagster_instance()
    assert config.read_text() == own


def test_a_present_table_is_asked_for_once_a_missing_one_every_time(home, monkeypatch):
    """Dagster asks whether a table exists before storing each asset and check event; the kept
    storage asks SQLite once per present table, and again each time for a missing one."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    instance = dagster_instance()
    storage = instance.event_log_storage
    asked: list[str] = []
    dagsters = SqliteEventLogStorage.has_table
    monkeypatch.setattr(SqliteEventLogStorage, "has_table", lambda self, name: asked.append(name) or dagsters(self, name))
    assert dg.materialize([counted, counted_is_one], instance=instance).success
    assert asked.count("asset_check_executions") <= 1
    assert [storage.has_table("no_such_table") for _ in range(2)] == [False, False]
    assert asked.count("no_such_table") == 2
    instance.dispose()
