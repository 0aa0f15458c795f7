"""``--standard``: a standard exchange delivery onboards with zero hand edits."""
from __future__ import annotations

import datetime as dt

import pytest

from orchestration.contracts import load_contract
from orchestration.onboarding.infer import OnboardError, standard_contract
from onboarding_samples import ids, write_csv

PAYMENT_COLUMNS = ["payment_id", "village_code", "payee_id", "payee_type", "payee_name", "category", "purpose",
                   "amount", "pay_date", "vproject_id"]


@pytest.fixture
def standard_batch(batch):
    people = ids(5)
    write_csv(batch / "village_payment.csv", PAYMENT_COLUMNS,
              [[f"P{i}", "330102001001", people[i], "person", "张三", "work_subsidy", "消防演练务工", f"{120 + i}.50",
                f"2026-09-{10 + i}", ""] for i in range(5)])
    write_csv(batch / "person.csv", ["id_number", "name", "gender", "birth_date", "household_id",
                                     "relation_to_head", "region_code", "village_code"],
              [[people[i], "张三", "M", "1990-01-01", f"330102H{i:08d}", "head", "330102", "330102001001"]
               for i in range(5)])
    return batch


def test_standard_delivery_maps_one_to_one_with_documented_defaults(standard_batch, tmp_path):
    draft = standard_contract(standard_batch, "std_exchange_330000")
    text = draft.to_yaml()
    assert "REVIEW" not in text
    path = tmp_path / "std_exchange_330000.yml"
    path.write_text(text, encoding="utf-8")
    contract = load_contract(path)  # exactly what the registry will read: zero edits
    assert (contract.kind, contract.department, contract.level, contract.region_code) == \
        ("standard_exchange", "待定", "province", "330000")
    assert (contract.delivery.format, contract.delivery.encoding, contract.delivery.delimiter) == ("csv", "utf-8", ",")
    assert contract.delivery.mode == "increment"
    assert set(contract.tables) == {"village_payment", "person"}
    payment = contract.tables["village_payment"]
    assert payment.file_pattern == "village_payment*.csv"
    assert payment.mappings[0].from_batch == dt.date(2000, 1, 1)  # canonical names apply to all history
    assert {h: r.column for h, r in payment.mappings[0].columns.items()} == {c: c for c in PAYMENT_COLUMNS}
    assert all(r.date_style is None and r.unit is None and r.codes is None
               for r in payment.mappings[0].columns.values())
    assert payment.primary_key == ["payment_id"] and payment.not_after_batch == ["pay_date"]
    assert set(payment.personal_data) == {"payee_id", "payee_name"}
    assert contract.tables["person"].required == ["id_number"]


def test_options_override_the_defaults(standard_batch):
    draft = standard_contract(standard_batch, "std_exchange_330100", kind="village_finance_std",
                              department="杭州市农业农村局", level="city", region="330100", mode="snapshot")
    c = draft.contract
    assert (c["kind"], c["department"], c["level"], c["region_code"], c["delivery"]["mode"]) == \
        ("village_finance_std", "杭州市农业农村局", "city", "330100", "snapshot")


def test_a_file_not_named_after_an_entity_is_refused(batch):
    write_csv(batch / "payments.csv", ["payment_id"], [["P1"]])
    with pytest.raises(OnboardError, match=r"payments\.csv.*not a canonical entity.*village_payment"):
        standard_contract(batch, "std_exchange_330000")


def test_a_header_that_is_not_canonical_is_refused(batch):
    write_csv(batch / "death.csv", ["id_number", "death_date", "备注"], [["x", "2026-01-01", ""]])
    with pytest.raises(OnboardError, match=r"death\.csv.*备注"):
        standard_contract(batch, "std_exchange_330000")


def test_a_gbk_file_is_not_standard(batch):
    write_csv(batch / "death.csv", ["id_number", "death_date", "source_ref"], [["x", "2026-01-01", "死亡证明"]],
              encoding="gbk")
    with pytest.raises(OnboardError, match="UTF-8"):
        standard_contract(batch, "std_exchange_330000")
