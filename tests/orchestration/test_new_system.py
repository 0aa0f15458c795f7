"""A 154th system: one YAML file (drafted by `powertrace onboard --standard`), no Python change;
it appears in the asset graph and its deliveries are ingested through Dagster."""
from __future__ import annotations

import shutil

import dagster as dg
import polars as pl
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.settings import SOURCES_DIR

SYSTEM = "village_finance_extra_330100"
HEADER = "payment_id,village_code,payee_id,payee_type,payee_name,category,purpose,amount,pay_date,vproject_id"
ROWS = [
    "P1,330102001001,330102198001010018,person,张三,work_subsidy,消防演练务工,300.00,2026-10-01,",
    "P2,330102001001,91330102000000001X,company,某某公司,materials,水泥,12000.50,2026-10-01,V1",
    "P3,330102001001,330102198001010018,person,张三,welfare,,-5.00,2026-10-01,",  # negative: quarantined
]


def test_onboarded_system_appears_in_graph_and_ingests(tmp_path, monkeypatch):
    sources = tmp_path / "sources"
    shutil.copytree(SOURCES_DIR, sources)
    lake = tmp_path / "lake"
    monkeypatch.setenv("POWERTRACE_SOURCES", str(sources))
    monkeypatch.setenv("POWERTRACE_LAKE", str(lake))
    sample = tmp_path / "sample"
    sample.mkdir()
    (sample / "village_payment.csv").write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")

    result = CliRunner().invoke(main, ["onboard", str(sample), "--system-id", SYSTEM, "--standard",
                                       "--kind", "village_finance", "--level", "city", "--region", "330100"])
    assert result.exit_code == 0, result.output
    assert (sources / "city" / "village_finance" / f"{SYSTEM}.yml").exists()

    from orchestration.assets.bronze import LEDGER_CHECK, bronze_assets, bronze_key
    from orchestration.contracts import load_registry

    registry = load_registry(sources)
    assert len(registry) == 154
    assets = bronze_assets(registry)
    key = bronze_key(SYSTEM, "village_payment")
    kind_asset = next(a for a in assets if key in a.keys)
    assert kind_asset.group_names_by_key[key] == "bronze_village_finance"

    batch = lake / "landing" / SYSTEM / "2026-10-01"
    batch.mkdir(parents=True)
    shutil.copy(sample / "village_payment.csv", batch / "village_payment.csv")
    run = dg.materialize([kind_asset], selection=[key], instance=dg.DagsterInstance.ephemeral())
    assert run.success
    checks = [e for e in run.get_asset_check_evaluations() if e.asset_check_key.name == LEDGER_CHECK]
    assert [c.passed for c in checks] == [True]

    bronze = pl.read_delta(str(lake / "bronze" / SYSTEM / "village_payment"))
    assert sorted(bronze["payment_id"].to_list()) == ["P1", "P2"]
    quarantine = pl.read_delta(str(lake / "quarantine")).filter(pl.col("system_id") == SYSTEM)
    assert quarantine["rule"].to_list() == ["negative_amount"]
