"""A broken contract fails at load with a message naming the file, the field and the rule."""
from __future__ import annotations

import datetime as dt
import time

import pytest

import yaml

from orchestration.contracts import ContractError, load_registry, registry


def read_doc(path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def write_doc(path, doc: dict) -> None:
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def native_of(mapping: dict, column: str) -> str:
    """The native header a mapping version maps onto canonical ``column``."""
    return next(native for native, rule in mapping["columns"].items() if rule["column"] == column)


def payment_table(doc: dict) -> dict:
    return doc["tables"]["village_payment"]


def unknown_entity(doc):
    payment_table(doc)["entity"] = "payments"


def unknown_column(doc):
    payment_table(doc)["mappings"][0]["columns"]["SKZH"] = {"column": "bank_account"}


def duplicate_target(doc):
    payment_table(doc)["mappings"][0]["columns"]["ZFBH2"] = {"column": "payment_id"}


def key_not_mapped(doc):
    mapping = payment_table(doc)["mappings"][0]
    del mapping["columns"][native_of(mapping, "payment_id")]


def bad_date_style(doc):
    mapping = payment_table(doc)["mappings"][0]
    mapping["columns"][native_of(mapping, "pay_date")]["date_style"] = "dotted"


def escaping_pattern(doc):
    payment_table(doc)["file_pattern"] = "../zfmx*.xlsx"


def wrong_system_id(doc):
    doc["system_id"] = "village_finance_330300"


def versions_out_of_order(doc):
    first, second = payment_table(doc)["mappings"]
    payment_table(doc)["mappings"] = [second, first]


def bad_level(doc):
    doc["level"] = "county"


def extra_column_is_mapped(doc):
    mapping = payment_table(doc)["mappings"][0]
    payment_table(doc)["extra_columns"] = [native_of(mapping, "amount")]


def excel_serial_in_parquet(doc):
    doc["delivery"] = {"format": "parquet", "mode": "increment"}


def overlapping_patterns(doc):
    payment_table(doc)["file_pattern"] = "*.xlsx"


def unknown_field(doc):
    payment_table(doc)["primary_keys"] = ["payment_id"]


# breakage -> (field named in the message, words of the rule)
CASES = {
    unknown_entity: ("tables.village_payment.entity", "unknown canonical entity"),
    unknown_column: ("columns.SKZH", "is not a column of village_payment"),
    duplicate_target: ("columns.ZFBH2", "already mapped"),
    key_not_mapped: ("tables.village_payment.mappings", "primary key column(s) ['payment_id'] are not mapped"),
    bad_date_style: ("date_style", "'iso', 'slash', 'compact' or 'excel_serial'"),
    escaping_pattern: ("tables.village_payment.file_pattern", "no '/', '\\' or '..'"),
    wrong_system_id: ("system_id", "must equal the file name"),
    versions_out_of_order: ("tables.village_payment.mappings", "ascending order"),
    bad_level: ("level", "'province', 'city' or 'hospital'"),
    extra_column_is_mapped: ("tables.village_payment.extra_columns", "mapped native headers"),
    excel_serial_in_parquet: ("mappings", "excel_serial is only for csv and xlsx"),
    overlapping_patterns: ("file_pattern", "also matches the files of table"),
    unknown_field: ("tables.village_payment.primary_keys", "Extra inputs are not permitted"),
}


@pytest.mark.parametrize("breakage", CASES, ids=[f.__name__ for f in CASES])
def test_a_broken_contract_names_file_field_and_rule(sample_path, breakage):
    path = sample_path
    doc = read_doc(path)
    breakage(doc)
    write_doc(path, doc)
    field, rule = CASES[breakage]
    with pytest.raises(ContractError) as err:
        load_registry()
    message = str(err.value)
    assert str(path) in message and field in message and rule in message, message


def test_invalid_yaml_names_the_file(sample_path):
    path = sample_path
    path.write_text("system_id: [village_finance_330200\n", encoding="utf-8")
    with pytest.raises(ContractError, match="not valid YAML") as err:
        load_registry()
    assert str(path) in str(err.value)


def test_all_errors_are_reported_at_once(sources_copy):
    other = sources_copy / "province/pension/pension_330000.yml"
    other.parent.mkdir(parents=True)
    other.write_text("- not a mapping\n", encoding="utf-8")
    path = sources_copy / "city/village_finance/village_finance_330200.yml"
    doc = read_doc(path)
    bad_level(doc)
    write_doc(path, doc)
    with pytest.raises(ContractError) as err:
        load_registry()
    assert str(other) in str(err.value) and str(path) in str(err.value)


def test_the_private_registry_is_the_one_loaded(sources_copy):
    assert list(registry()) == ["village_finance_330200"]
    assert registry()["village_finance_330200"].tables["village_payment"].mapping_for(dt.date(2026, 10, 15)).from_batch \
        == dt.date(2026, 10, 15)


def test_the_example_of_docs_contracts_md_is_valid(tmp_path):
    from orchestration.contracts import load_contract
    from orchestration.settings import PROJECT_DIR

    text = (PROJECT_DIR / "docs" / "contracts.md").read_text(encoding="utf-8")
    example = next(block for block in text.split("```yaml\n")[1:] if block.startswith("system_id:"))
    path = tmp_path / "social_assistance_331200.yml"
    path.write_text(example.split("```")[0], encoding="utf-8")
    assert load_contract(path).tables["subsidy_payment"].extra_columns == ["备注"]


def test_a_parsed_contract_is_kept_until_its_file_changes(sources_copy, sample_path, tmp_path, monkeypatch):
    """The registry's parsed YAML is kept between loads (orchestration/file_cache.py): a load
    parses only what changed, and an edited contract is parsed and validated again."""
    from orchestration import contracts, file_cache

    monkeypatch.setattr(file_cache, "SETTLED_NS", 0)
    monkeypatch.setenv("POWERTRACE_STATE", str(tmp_path / "state"))
    first = load_registry(sources_copy)
    parses = []
    parse = contracts._read_doc
    monkeypatch.setattr(contracts, "_read_doc", lambda path: parses.append(path) or parse(path))
    assert load_registry(sources_copy) == first and parses == []
    time.sleep(0.05)  # past the file system's clock tick
    doc = read_doc(sample_path)
    unknown_entity(doc)
    write_doc(sample_path, doc)
    with pytest.raises(ContractError, match="payments"):
        load_registry(sources_copy)
    assert parses == [sample_path]
