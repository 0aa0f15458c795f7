"""orchestration.dbt_sources: the dbt sources and lists generated from the registry."""
from __future__ import annotations

import yaml

from orchestration.contracts import registry
from orchestration.dbt_sources import GENERATED_MACROS, SOURCES_SUBDIR, supervision_models, write_sources


def test_one_source_per_kind_one_table_per_system_table(tmp_path):
    reg = registry()
    written = write_sources(tmp_path, reg)
    kinds = {c.kind for c in reg.values()}
    assert {p.stem for p in written if p.suffix == ".yml"} == kinds
    doc = yaml.safe_load((tmp_path / SOURCES_SUBDIR / "village_finance.yml").read_text(encoding="utf-8"))
    (source,) = doc["sources"]
    assert source["name"] == "bronze_village_finance"
    # read through the catalog orchestration.dbt_session attaches for each bronze table
    assert source["config"]["meta"]["external_location"] == "query_table('bronze__{system_id}__{table}')"
    tables = {t["name"]: t for t in source["tables"]}
    expected = {f"{sid}__{t}" for sid, c in reg.items() if c.kind == "village_finance" for t in c.tables}
    assert set(tables) == expected
    payments = tables["village_finance_330100__village_payment"]
    assert payments["config"]["meta"] == {
        "system_id": "village_finance_330100", "kind": "village_finance", "level": "city",
        "entity": "village_payment", "table": "village_payment", "region_code": "330100",
        "delivery_mode": reg["village_finance_330100"].delivery.mode, "sensitive": False}
    personal = {c["name"] for c in payments["columns"] if c.get("config", {}).get("meta", {}).get("personal_data")}
    assert personal == set(reg["village_finance_330100"].tables["village_payment"].personal_data)
    assert {"_system_id", "_batch_date", "_source_row", "_ingested_at"} <= {c["name"] for c in payments["columns"]}


def test_generated_macros_list_every_table_and_model(tmp_path):
    (tmp_path / "models/gold/village").mkdir(parents=True)
    (tmp_path / "models/gold/village/sm03_ineligible_work_subsidy.sql").write_text("select 1")
    (tmp_path / "models/gold/alerts.sql").write_text("select 1")  # not a supervision model
    write_sources(tmp_path, registry())
    text = (tmp_path / GENERATED_MACROS).read_text(encoding="utf-8")
    assert "village_finance_331100__village_procurement" in text
    assert "hospital_his_085__prescription" in text
    assert supervision_models(tmp_path) == ["sm03_ineligible_work_subsidy"]
    assert '"sm03_ineligible_work_subsidy"' in text


def test_rewrite_is_stable_and_removes_kinds_that_left(tmp_path):
    reg = registry()
    write_sources(tmp_path, reg)
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / SOURCES_SUBDIR).glob("*.yml")}
    hand_written = tmp_path / SOURCES_SUBDIR / "my_notes.yml"
    hand_written.write_text("version: 2\n")
    fewer = {sid: c for sid, c in reg.items() if c.kind != "hospital_his"}
    write_sources(tmp_path, fewer)
    after = {p: p.stat().st_mtime_ns for p in (tmp_path / SOURCES_SUBDIR).glob("*.yml")}
    assert tmp_path / SOURCES_SUBDIR / "hospital_his.yml" not in after
    assert hand_written in after  # only generated files are removed
    unchanged = tmp_path / SOURCES_SUBDIR / "village_finance.yml"
    assert after[unchanged] == before[unchanged]  # unchanged content is not rewritten (dbt partial parse)
