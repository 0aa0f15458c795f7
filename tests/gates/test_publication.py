"""Write-audit-publish on the built SF 0.01 world: a failed gate holds back exactly the models
that read the failed table (their alerts stay, stale since their last good run), the others
publish; the next good data publishes all; a raw id number planted in the alerts holds back the
whole publication; readers never see a partial table; a rollback restores an earlier run's
tables exactly; nothing is published without this run's gates.

The bad batches are applied to the warehouse as the rows they would leave in silver (and gold),
which keeps this at one dbt build; tests/silver cover how a delivery's invalid ids become
``id_number_valid = false``."""
from __future__ import annotations

import shutil
import threading

import duckdb
import polars as pl
import pytest
from deltalake import DeltaTable

from orchestration.gates.runner import run_gates
from orchestration.publish.core import PublicationError, publish_gated
from orchestration.publish.history import history, rollback, versions_after
from orchestration.publish.plan import CONSUMER_TABLES
from orchestration.settings import Zones

pytestmark = pytest.mark.slow


def quiet(_: str) -> None:
    pass


def gate_and_publish(zones: Zones, run_id: str):
    run_gates(zones, run_id, log=quiet)
    return publish_gated(zones, run_id, log=quiet)


def lower_attendance_id_validity(zones: Zones) -> None:
    """What a site-attendance delivery with a third of its id numbers broken leaves in silver."""
    with duckdb.connect(str(zones.warehouse)) as con:
        con.execute("update silver.site_attendance set id_number_valid = false where hash(attendance_key) % 3 = 0")


def published(zones: Zones, table: str, version: int | None = None) -> pl.DataFrame:
    frame = pl.from_arrow(DeltaTable(str(zones.published / table), version=version).to_pyarrow_table())
    return frame.sort(frame.columns[0], *frame.columns[1:3]) if frame.height else frame


@pytest.fixture(scope="module")
def runs(built_world, tmp_path_factory):
    """Three publications: A good, B after a bad attendance batch, C after the corrected one."""
    zones = Zones(tmp_path_factory.mktemp("wap") / "lake")
    shutil.copytree(built_world.lake, zones.root, ignore=shutil.ignore_patterns("service", "published", "restricted"))
    good_warehouse = zones.root.parent / "good.duckdb"
    shutil.copy(zones.warehouse, good_warehouse)
    out = {"zones": zones, "A": gate_and_publish(zones, "run-A")}
    out["alerts_A"] = published(zones, "alerts")
    lower_attendance_id_validity(zones)
    reads: list[tuple[int, int, int]] = []
    errors: list[Exception] = []
    stop = threading.Event()

    def reader():  # reads published/alerts in a loop while run B publishes
        while not stop.is_set():
            try:
                table = DeltaTable(str(zones.published / "alerts"))
                reads.append((table.version(), table.to_pyarrow_table().num_rows, len(table.file_uris())))
            except Exception as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        out["B"] = gate_and_publish(zones, "run-B")
    finally:
        stop.set()
        thread.join()
    out["reads"], out["read_errors"] = reads, errors
    out["alerts_B"] = published(zones, "alerts")
    shutil.copy(good_warehouse, zones.warehouse)
    out["C"] = gate_and_publish(zones, "run-C")
    with duckdb.connect(str(zones.warehouse)) as con:  # a raw id number leaks into one alert's evidence
        con.execute("update gold.alerts set evidence = evidence || ' 33012019630404004X' "
                    "where alert_id = (select min(alert_id) from gold.alerts)")
    out["D"] = gate_and_publish(zones, "run-D")
    return out


def test_a_good_run_publishes_every_consumer_table(runs):
    zones, a = runs["zones"], runs["A"]
    assert a.plan.failed_tables == set() and set(a.versions) == set(CONSUMER_TABLES)
    assert all(v is not None for v in a.versions.values())
    alerts = runs["alerts_A"]
    assert alerts.height > 100 and not alerts["stale"].any()
    red = published(zones, "alerts_red", a.versions["alerts_red"])
    assert red.height == alerts.filter(pl.col("severity") == "red").height
    yellow = sum(published(zones, t, v).height for t, v in a.versions.items() if t.startswith("alerts_yellow_"))
    assert yellow == alerts.filter(pl.col("severity") == "yellow").height
    for table, version in a.versions.items():  # one run id on every commit
        history_ = DeltaTable(str(zones.published / table)).history()
        assert next(h for h in history_ if h["version"] == version)["powertrace.run_id"] == "run-A"


def test_low_identifier_validity_holds_back_exactly_the_models_reading_that_table(runs):
    b = runs["B"]
    assert b.plan.failed_tables == {"site_attendance"}
    assert set(b.plan.held_models) == {"SM05"}   # technical lead absence is the one model reading attendance
    before, after = runs["alerts_A"], runs["alerts_B"]
    stale = after.filter(pl.col("stale"))
    assert set(stale["model_id"]) == {"SM05"} and stale["stale_as_of"].unique().to_list() == [b.as_of]
    assert stale.drop("stale", "stale_as_of").equals(
        before.filter(pl.col("model_id") == "SM05").drop("stale", "stale_as_of"))
    others = after.filter(pl.col("model_id") != "SM05")
    assert not others["stale"].any() and others.height == before.filter(pl.col("model_id") != "SM05").height
    assert b.versions["ineligible_payees"] is not None  # the payee index does not read attendance


def test_coverage_tells_no_data_from_no_alerts(runs):
    zones, b = runs["zones"], runs["B"]
    coverage = published(zones, "coverage", b.versions["coverage"])
    sm05 = coverage.filter(pl.col("model_id") == "SM05")
    assert sm05.height > 50 and not sm05["gates_green"].any() and not sm05["published"].any()
    assert sm05["missing"].str.contains("site_attendance: gate failed").all()
    assert coverage.filter(pl.col("model_id") != "SM05")["gates_green"].all()
    assert coverage["inputs_present"].any()


def test_the_next_good_data_publishes_every_model_again(runs):
    zones, c = runs["zones"], runs["C"]
    assert c.plan.failed_tables == set() and not c.plan.held_models
    alerts = published(zones, "alerts", c.versions["alerts"])
    assert not alerts["stale"].any()
    assert alerts.drop("stale", "stale_as_of").equals(runs["alerts_A"].drop("stale", "stale_as_of"))


def test_a_leaked_id_number_in_the_alerts_holds_back_the_whole_publication(runs):
    zones, c, d = runs["zones"], runs["C"], runs["D"]
    assert d.plan.failed_tables == {"alerts"} and d.plan.hold_all
    assert all(v is None for v in d.versions.values())
    for table, version in c.versions.items():  # consumers stay on run C
        assert DeltaTable(str(zones.published / table)).version() == version


def test_a_reader_during_publication_never_sees_a_partial_table(runs):
    zones, reads = runs["zones"], runs["reads"]
    assert runs["read_errors"] == [] and len(reads) >= 2
    assert {v for v, _, _ in reads} <= {runs["A"].versions["alerts"], runs["B"].versions["alerts"]}
    for version, rows, files in reads:  # every read is one whole committed version
        committed = DeltaTable(str(zones.published / "alerts"), version=version)
        assert (rows, files) == (committed.to_pyarrow_table().num_rows, len(committed.file_uris()))


def test_history_lists_publications_and_rollback_restores_a_run_exactly(runs):
    zones = runs["zones"]
    assert history(zones)["run_id"].to_list()[:4] == ["run-D", "run-C", "run-B", "run-A"]
    restored = rollback(zones, "run-B", log=quiet)
    for table, version in versions_after(zones, "run-B").items():
        assert published(zones, table).equals(published(zones, table, version)), table
    assert set(restored) == set(CONSUMER_TABLES)
    assert history(zones).row(0, named=True)["restored_run"] == "run-B"
    with pytest.raises(PublicationError, match="no publication with run id"):
        rollback(zones, "no-such-run", log=quiet)


def test_nothing_is_published_without_the_run_s_gates(runs):
    with pytest.raises(PublicationError, match="no gate results for run run-Z"):
        publish_gated(runs["zones"], "run-Z", log=quiet)
