"""Dispositions flow back on every run (orchestration/assets/feedback.py): the export asset writes
the alert service's pending dispositions into landing before the disposition_feedback_330000
bronze asset ingests them, and the next dbt build counts them in the scorecard.

The end-to-end tests work on a copy of the built world (ingested and built by dbt once per
session): publish its alerts, record dispositions through the API with the service's clock on the
world's last day, run the export and the feedback system's ingestion through Dagster (the job
selects the bronze asset and its upstream, so the dependency is what brings the export in), then
dbt over the disposition entity and what reads it.
"""
import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from fastapi.testclient import TestClient

from orchestration.assets.bronze import bronze_assets, bronze_key
from orchestration.assets.feedback import (DISPOSITION_FEEDBACK_KEY, FEEDBACK_SYSTEM_ID, LANDING_UPSTREAMS,
                                           disposition_feedback_export, feedback_batch_date)
from orchestration.contracts import registry
from orchestration.service import tables
from orchestration.service.access import create_token
from orchestration.service.api import Service, create_app
from orchestration.service.publication import PublishedLake
from orchestration.service.store import CHINA, Store, disposition_events
from orchestration.warehouse import read_relation

FEEDBACK_BRONZE = bronze_key(FEEDBACK_SYSTEM_ID, "disposition")
WORLD_LAST_DAY = dt.date(2026, 10, 31)


def export_and_ingest(lake: Path, monkeypatch) -> dict:
    """One pipeline run's first steps: the feedback system's bronze asset and its upstream (the
    export, brought in by the dependency). Returns the export's materialisation metadata."""
    monkeypatch.setenv("POWERTRACE_LAKE", str(lake))
    monkeypatch.delenv("POWERTRACE_SERVICE_DB", raising=False)
    result = dg.materialize([*bronze_assets(), disposition_feedback_export],
                            selection=dg.AssetSelection.assets(FEEDBACK_BRONZE).upstream(),
                            instance=dg.DagsterInstance.ephemeral())
    materialised = {e.asset_key: e.event_specific_data.materialization
                    for e in result.get_asset_materialization_events()}
    assert set(materialised) == {DISPOSITION_FEEDBACK_KEY, FEEDBACK_BRONZE}
    return {k: v.value for k, v in materialised[DISPOSITION_FEEDBACK_KEY].metadata.items()}


# --------------------------------------------------------------------------- without the built world
def test_bronze_of_the_feedback_system_depends_on_the_export():
    defs = dg.Definitions(assets=[*bronze_assets(), disposition_feedback_export])
    graph = defs.resolve_asset_graph()
    assert graph.get(FEEDBACK_BRONZE).parent_keys == {DISPOSITION_FEEDBACK_KEY}
    assert graph.get(DISPOSITION_FEEDBACK_KEY).group_name == "feedback"
    others = [k for k in graph.get_all_asset_keys() if k.path[0] == "bronze" and k != FEEDBACK_BRONZE]
    assert others and all(not graph.get(k).parent_keys for k in others)
    assert set(LANDING_UPSTREAMS) <= set(registry())


def test_without_a_store_the_export_does_nothing_and_says_so(tmp_path, monkeypatch):
    lake = tmp_path / "lake"
    (lake / "landing" / "village_finance_330100" / "2026-10-31").mkdir(parents=True)
    (lake / "landing" / "village_finance_330100" / "2026-10-31" / "zfmx.csv").write_text("x\n")
    metadata = export_and_ingest(lake, monkeypatch)
    assert metadata["exported"] is False and "no alert service store" in metadata["reason"]
    assert not (lake / "service").exists(), "the export must not create a store"
    assert not (lake / "landing" / FEEDBACK_SYSTEM_ID).exists()


def test_batch_date_is_the_latest_delivery_of_the_other_systems(tmp_path):
    landing = tmp_path / "landing"
    for system, day, delivered in (("village_finance_330100", "2026-10-30", True),
                                   ("household_registry_330000", "2026-10-31", True),
                                   ("household_registry_330000", "2026-11-05", False),   # empty folder
                                   (FEEDBACK_SYSTEM_ID, "2026-11-27", True),              # a hand-made export
                                   ("not_registered_330000", "2026-12-01", True)):
        folder = landing / system / day
        folder.mkdir(parents=True)
        if delivered:
            (folder / "file.csv").write_text("x\n")
    assert feedback_batch_date(tmp_path, registry()) == dt.date(2026, 10, 31)
    assert feedback_batch_date(tmp_path / "empty", registry()) is None


# --------------------------------------------------------------------------- on the built world
class Pipeline:
    """A copy of the built world with a published alerts table and an alert service store."""

    def __init__(self, built_world, root: Path, monkeypatch):
        self.lake = Path(shutil.copytree(built_world.lake, root / "lake", ignore=shutil.ignore_patterns("truth")))
        target = root / "dbt" / "target"  # its own dbt target: the shared world's run results stay as they are
        target.mkdir(parents=True)
        shutil.copy(built_world.target / "partial_parse.msgpack", target)
        self.world = dataclasses.replace(built_world, lake=self.lake, target=target)
        self.monkeypatch = monkeypatch
        tables.write_table(tables.published_path(self.lake, "alerts"),
                           read_relation(self.lake / "warehouse.duckdb", "gold.alerts"), tables.ALERTS)
        self.moment = dt.datetime.combine(WORLD_LAST_DAY, dt.time(10), CHINA)
        self.store = Store.for_lake(self.lake, clock=lambda: self.moment)
        token = create_token(self.store, name="province-jw", role="inspection", region_code="330000",
                             expires_days=None).token
        service = Service(PublishedLake(self.lake, reload_seconds=0), self.store, pseudonym_key=built_world.key)
        self.client = TestClient(create_app(service), headers={"Authorization": f"Bearer {token}"})

    def act(self, alert_id: str, action: str, **body) -> None:
        response = self.client.post(f"/alerts/{alert_id}/dispositions", json={"action": action, **body})
        assert response.status_code == 201, response.text

    def run(self) -> dict:
        """Export + ingest through Dagster, then dbt over the dispositions and what reads them."""
        metadata = export_and_ingest(self.lake, self.monkeypatch)
        result = self.world.dbt("build", "--select", "disposition+", "as_of_date")
        assert result.success, f"dbt build failed: {result.exception}"
        return metadata

    def scorecard(self, model_id: str) -> dict[str, dict]:
        """The whole-model rows ('*') of one model, by region."""
        rows = self.world.query(f"select region_code, confirmed, dismissed, verified_hit_rate from gold.scorecard "
                                f"where model_id = '{model_id}' and rule_branch = '*'")
        return {r.pop("region_code"): r for r in rows}

    def as_of(self) -> dt.date:
        return self.world.query("select as_of_date from gold.as_of_date")[0]["as_of_date"]

    def close(self) -> None:
        self.client.close()
        self.store.close()


@pytest.fixture
def pipeline(built_world, tmp_path, monkeypatch):
    assert not built_world.failed, built_world.failed[:5]
    pipeline = Pipeline(built_world, tmp_path, monkeypatch)
    yield pipeline
    pipeline.close()


def sm03_alerts(pipeline: Pipeline, n: int) -> list[dict]:
    rows = pipeline.world.query("select alert_id, region_code from gold.alerts where model_id = 'SM03' "
                                "order by region_code, alert_id")
    assert len(rows) >= n
    return rows[:n]


def quarantined_feedback(lake: Path) -> int:
    return pl.read_delta(str(lake / "quarantine")).filter(pl.col("system_id") == FEEDBACK_SYSTEM_ID).height


@pytest.mark.slow
def test_a_disposition_changes_the_scorecard_of_the_next_run(pipeline):
    confirmed, dismissed, later = sm03_alerts(pipeline, 3)
    before = pipeline.scorecard("SM03")
    assert all(r["confirmed"] == 0 and r["dismissed"] == 0 and r["verified_hit_rate"] is None
               for r in before.values())
    as_of = pipeline.as_of()
    assert as_of == WORLD_LAST_DAY

    for alert, verdict in ((confirmed, {"action": "confirm"}), (dismissed, {"action": "dismiss", "reason": "查无实据"})):
        pipeline.act(alert["alert_id"], "verify")
        pipeline.act(alert["alert_id"], **verdict)
    pipeline.moment = dt.datetime(2026, 11, 27, 9, tzinfo=CHINA)  # after every delivery of the world
    pipeline.act(later["alert_id"], "verify")

    metadata = pipeline.run()
    assert metadata["exported"] is True and metadata["batch_date"] == as_of.isoformat()
    assert metadata["events"] == 4 and metadata["events_waiting"] == 1

    after = pipeline.scorecard("SM03")
    expected: dict[str, dict] = {}
    for alert, status in ((confirmed, "confirmed"), (dismissed, "dismissed")):
        counts = expected.setdefault(alert["region_code"], {"confirmed": 0, "dismissed": 0})
        counts[status] += 1
    for region, counts in expected.items():
        rate = counts["confirmed"] / (counts["confirmed"] + counts["dismissed"])
        assert after[region] == {**counts, "verified_hit_rate": rate}, (region, after[region])
    assert sum(r["confirmed"] for r in after.values()) == 1 and sum(r["dismissed"] for r in after.values()) == 1
    # the batch date kept the run's as-of date on the world's data, and no feedback row was quarantined
    assert pipeline.as_of() == as_of
    assert quarantined_feedback(pipeline.lake) == 0


@pytest.mark.slow
def test_running_twice_loses_no_disposition(pipeline):
    first, second = sm03_alerts(pipeline, 2)
    pipeline.act(first["alert_id"], "verify")
    pipeline.act(first["alert_id"], "confirm")
    assert pipeline.run()["events"] == 2
    delivery = pipeline.lake / "landing" / FEEDBACK_SYSTEM_ID / WORLD_LAST_DAY.isoformat() / "disposition.csv"
    written = delivery.read_bytes()

    # the same run again: the same delivery, the same dispositions, nothing twice
    assert pipeline.run()["events"] == 2
    assert delivery.read_bytes() == written

    # new dispositions of the same day join the same batch: the re-delivered batch replaces the old one
    pipeline.moment += dt.timedelta(hours=5)
    pipeline.act(second["alert_id"], "verify")
    pipeline.act(second["alert_id"], "dismiss", reason="同名不同人")
    assert pipeline.run()["events"] == 4

    with pipeline.store.read() as conn:
        stored = {(r.alert_id, r.to_status) for r in conn.execute(disposition_events.select())}
    bronze = pl.read_delta(str(pipeline.lake / "bronze" / FEEDBACK_SYSTEM_ID / "disposition"))
    silver = pipeline.world.query("select alert_id, status from silver.disposition")
    assert bronze.height == 4 and set(bronze.select("alert_id", "status").iter_rows()) == stored
    assert len(silver) == 4 and {(r["alert_id"], r["status"]) for r in silver} == stored
    scored = pipeline.scorecard("SM03")
    assert sum(r["confirmed"] for r in scored.values()) == 1 and sum(r["dismissed"] for r in scored.values()) == 1
    assert quarantined_feedback(pipeline.lake) == 0
