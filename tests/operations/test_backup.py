"""Backup and restore of the alert service's database and the Dagster instance: dispositions
written through the service's store (its connection still open, in WAL mode) and a Dagster run
record come back after they were changed or deleted; a non-empty target needs --force; a damaged
backup is refused."""
from __future__ import annotations

import json

import dagster as dg
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from orchestration.backup import MANIFEST, backup_command, restore_command
from orchestration.service import dispositions
from orchestration.service.access import create_token
from orchestration.service.store import Store, disposition_events, disposition_state

ALERTS = [{"alert_id": f"alert-{n}", "model_id": "SM03", "model_version": "1", "region_code": "330106"}
          for n in range(3)]


@pytest.fixture
def lake(tmp_path, monkeypatch):
    monkeypatch.delenv("POWERTRACE_SERVICE_DB", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    return tmp_path / "lake"


def invoke(command, lake, *args):
    return CliRunner().invoke(command, list(args), obj={"lake": lake})


def saved_dispositions(store: Store) -> tuple[dict, list[dict]]:
    states = {a: vars(s) for a, s in dispositions.states(store).items()}
    return states, [e for a in ALERTS for e in dispositions.history(store, a["alert_id"])]


@dg.asset
def probe() -> int:
    return 1


def test_dispositions_come_back_after_a_restore(lake, tmp_path):
    store = Store.for_lake(lake)
    principal = create_token(store, name="xihu-jw", role="inspection", region_code="330106").principal
    for alert, actions in zip(ALERTS, (["verify"], ["verify", "confirm"], ["verify", "confirm", "rectify"])):
        for action in actions:
            dispositions.record(store, principal, alert, action)
    backed_up = saved_dispositions(store)
    assert (lake / "service" / "service.sqlite-wal").exists()    # the backup reads a live WAL database

    result = invoke(backup_command, lake, "--to", str(tmp_path / "backup"))
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "backup" / MANIFEST).read_text())
    assert "service/service.sqlite" in manifest["files"] and manifest["created_at"]
    assert all(len(f["sha256"]) == 64 for f in manifest["files"].values())

    dispositions.record(store, principal, ALERTS[0], "dismiss", reason="同名不同人")
    with store.write() as conn:
        conn.execute(sa.delete(disposition_state).where(disposition_state.c.alert_id == "alert-1"))
        conn.execute(sa.delete(disposition_events).where(disposition_events.c.alert_id == "alert-1"))
    assert saved_dispositions(store) != backed_up
    store.close()

    refused = invoke(restore_command, lake, "--from", str(tmp_path / "backup"))
    assert refused.exit_code != 0 and "--force" in refused.output and "service.sqlite" in refused.output

    result = invoke(restore_command, lake, "--from", str(tmp_path / "backup"), "--force")
    assert result.exit_code == 0, result.output
    restored = Store.for_lake(lake)
    assert saved_dispositions(restored) == backed_up
    restored.close()
    kept_aside = list((lake / "service").glob("service.sqlite.before-restore-*"))
    assert kept_aside, "the overwritten database is kept beside the restored one"


def test_a_dagster_run_record_comes_back_after_a_restore(lake, tmp_path):
    with dg.DagsterInstance.get() as instance:
        run_id = dg.materialize([probe], instance=instance).run_id
        result = invoke(backup_command, lake, "--to", str(tmp_path / "backup"))
        assert result.exit_code == 0, result.output
        instance.delete_run(run_id)
        assert instance.get_run_by_id(run_id) is None

    result = invoke(restore_command, lake, "--from", str(tmp_path / "backup"), "--force")
    assert result.exit_code == 0, result.output
    with dg.DagsterInstance.get() as instance:
        run = instance.get_run_by_id(run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        assert instance.get_latest_materialization_event(dg.AssetKey("probe")).run_id == run_id


def test_backup_target_must_be_empty_and_a_damaged_backup_is_refused(lake, tmp_path):
    Store.for_lake(lake).close()
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "something").write_text("x")
    result = invoke(backup_command, lake, "--to", str(occupied))
    assert result.exit_code != 0 and "not an empty folder" in result.output

    assert invoke(backup_command, lake, "--to", str(tmp_path / "backup")).exit_code == 0
    with (tmp_path / "backup" / "service" / "service.sqlite").open("ab") as f:
        f.write(b"\0")
    result = invoke(restore_command, lake, "--from", str(tmp_path / "backup"), "--force")
    assert result.exit_code != 0 and "service.sqlite: sha256 differs" in result.output


def test_restore_onto_an_empty_machine_needs_no_force(lake, tmp_path):
    store = Store.for_lake(lake)
    create_token(store, name="xihu-jw", role="inspection", region_code="330106")
    store.close()
    assert invoke(backup_command, lake, "--to", str(tmp_path / "backup")).exit_code == 0

    other_lake = tmp_path / "new_machine" / "lake"
    result = invoke(restore_command, other_lake, "--from", str(tmp_path / "backup"))
    assert result.exit_code == 0, result.output
    with Store.for_lake(other_lake).read() as conn:
        assert conn.execute(sa.text("select name from tokens")).scalars().all() == ["xihu-jw"]
