"""Contract application: parse rules by type and style, header checks, row rules."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from orchestration.contracts import Delivery
from orchestration.ingest.apply import (HeaderRejected, apply_contract, parse_date, parse_decimal, parse_int,
                                        parse_timestamp)
from orchestration.ingest.readers import read_file
from ingest_helpers import DAY, contract_doc, csv_text, payment_table, write_contract


def parsed(expr_of, values: list[str | None]) -> list:
    return pl.DataFrame({"s": values}, schema={"s": pl.Utf8}).select(expr_of(pl.col("s")))["s"].to_list()


@pytest.mark.parametrize("style,values", [
    ("iso", ["2024-03-05", "2024-3-5", "2024-03-05 00:00:00", "2026-02-30", "2024/03/05", "x"]),
    ("slash", ["2024/3/5", "2024/03/05", "2024/3/5 8:01:02", "2026/2/30", "2024-03-05", "x"]),
    ("compact", ["20240305", "20240305", "20240305080102", "20260230", "2024035", "x"]),
    ("excel_serial", ["45356", "45356.0", "45356.75", "0", "-3", "x"]),
])
def test_date_styles(style, values):
    march5 = dt.date(2024, 3, 5)
    assert parsed(lambda s: parse_date(s, style), values) == [march5, march5, march5, None, None, None]


@pytest.mark.parametrize("style,text", [
    ("iso", "2024-03-05T08:01:02"), ("iso", "2024-03-05 08:01:02"), ("slash", "2024/3/5 8:01:02"),
    ("compact", "20240305080102"), ("excel_serial", "45356.33405093"),
])
def test_timestamp_styles(style, text):
    assert parsed(lambda s: parse_timestamp(s, style), [text]) == [dt.datetime(2024, 3, 5, 8, 1, 2)]


def test_timestamp_bare_date_is_midnight_and_fraction_is_kept():
    values = ["2024-03-05", "2024-03-05 08:01:02.5", "2024-03-05 25:00:00"]
    assert parsed(lambda s: parse_timestamp(s, "iso"), values) == [
        dt.datetime(2024, 3, 5), dt.datetime(2024, 3, 5, 8, 1, 2, 500000), None]


def test_amounts_in_yuan_and_fen_are_exact_decimals():
    assert parsed(lambda s: parse_decimal(s, "yuan"), ["12.5", "-3", "0.105", "abc"]) == [
        Decimal("12.50"), Decimal("-3.00"), Decimal("0.10"), None]
    assert parsed(lambda s: parse_decimal(s, "fen"), ["12345", "-5", "7", "12.5", "1e3"]) == [
        Decimal("123.45"), Decimal("-0.05"), Decimal("0.07"), None, None]
    assert parsed(parse_int, ["12", "+3", "-4", "1.5", ""]) == [12, 3, -4, None, None]


def apply_csv(tmp_path: Path, text: str, doc: dict | None = None, day: dt.date = DAY):
    contract = write_contract(tmp_path, doc or contract_doc())
    path = tmp_path / "zfmx.csv"
    path.write_text(text, encoding="utf-8")
    read = read_file(path, contract.delivery)
    return apply_contract(read, contract.tables["village_payment"], day, "zfmx.csv")


def test_mapping_codes_units_and_identifiers_kept_raw(tmp_path):
    out = apply_csv(tmp_path, csv_text("P1, 330102001001 , 33010219800101123x ,  张三 ,12345,20261001,务工补贴",
                                       "P2,330102001001,330102198001011234,李四,7,20260930,其他"))
    rows = out.bronze.sort("payment_id").to_dicts()
    assert rows[0]["village_code"] == "330102001001"              # trimmed
    assert rows[0]["payee_id"] == " 33010219800101123x "          # identifier: exactly as delivered
    assert rows[0]["payee_name"] == "张三"
    assert rows[0]["amount"] == Decimal("123.45") and rows[0]["pay_date"] == dt.date(2026, 10, 1)
    assert (rows[0]["category"], rows[1]["category"]) == ("work_subsidy", "其他")   # unmapped code kept
    assert rows[0]["purpose"] is None and rows[0]["_extra"] is None                # not mapped: null
    assert out.quarantined.height == 0
    assert list(out.bronze.columns[:10]) == ["payment_id", "village_code", "payee_id", "payee_type", "payee_name",
                                             "category", "purpose", "amount", "pay_date", "vproject_id"]


def test_row_rules_name_the_column_and_value(tmp_path):
    out = apply_csv(tmp_path, csv_text(
        "P1,330102001001,id,a,100,20261001,材料款",       # sound
        "P2,,id,a,100,20261001,材料款",                   # missing_required
        "P3,330102001001,id,a,100,20260230,材料款",       # impossible date
        "P4,330102001001,id,a,1x0,20261001,材料款",       # unparsable amount
        "P5,330102001001,id,a,-100,20261001,材料款",      # negative amount
        "P6,330102001001,id,a,100,20261002,材料款",       # after the batch date
        ",330102001001,id,a,-1,2026,材料款",              # several: first by precedence, all reasons
    ))
    got = {r: (rule, reason) for r, rule, reason in out.quarantined.rows()}
    assert [r for r in out.bronze["_source_row"]] == [2]
    assert got[3] == ("missing_required", "village_code (CBM): required value is missing")
    assert got[4] == ("unparsable_date", "pay_date (ZFRQ): '20260230' is not a valid compact date (YYYYMMDD)")
    assert got[5][0] == "unparsable_number" and "'1x0'" in got[5][1] and "fen" in got[5][1]
    assert got[6] == ("negative_amount", "amount (JE): '-100' is negative")
    assert got[7] == ("future_date", "pay_date (ZFRQ): '20261002' is after the batch date 2026-10-01")
    assert got[8][0] == "missing_required"
    assert "payment_id (ZFBH)" in got[8][1] and "'-1' is negative" in got[8][1] and "'2026'" in got[8][1]


def test_missing_required_header_rejects_the_file_and_suggests_the_rename(tmp_path):
    with pytest.raises(HeaderRejected) as err:
        apply_csv(tmp_path, csv_text("P1,1,2,3,4,20261001,x", header="ZFBH,CBM,SKRZJHM,SKRMC,JE_YUAN,ZFRQ,LB"))
    assert err.value.rule == "missing_column"
    assert "zfmx.csv" in err.value.reason and "'JE'" in err.value.reason and "renamed to 'JE_YUAN'?" in err.value.reason


def test_missing_optional_header_is_null_with_a_rename_warning_and_extra_columns_kept(tmp_path):
    doc = contract_doc()
    payment_table(doc)["extra_columns"] = ["CZY"]
    out = apply_csv(tmp_path, csv_text("P1,330102001001,id,张三,100,20261001,x,王五,备注",
                                       header="ZFBH,CBM,SKRZJHM,SKRMC_1,JE,ZFRQ,LB,CZY,BZ"), doc)
    assert out.bronze["payee_name"].to_list() == [None]
    assert out.bronze["_extra"].to_list() == ['{"SKRMC_1":"张三","CZY":"王五","BZ":"备注"}']
    assert any("'SKRMC' (→ payee_name) is missing" in w and "renamed to one of ['SKRMC_1', 'BZ']?" in w
               for w in out.warnings)
    assert any("unexpected header(s) ['SKRMC_1', 'BZ']" in w for w in out.warnings)   # CZY is declared


def test_mapping_version_by_batch_date(tmp_path):
    doc = contract_doc()
    later = {"from_batch": "2026-10-15", "columns": dict(payment_table(doc)["mappings"][0]["columns"])}
    later["columns"]["JE_NEW"] = {"column": "amount", "unit": "yuan"}
    del later["columns"]["JE"]
    payment_table(doc)["mappings"].append(later)
    old = apply_csv(tmp_path, csv_text("P1,330102001001,id,a,100,20261001,x"), doc, DAY)
    new = apply_csv(tmp_path, csv_text("P1,330102001001,id,a,100,20261015,x",
                                       header="ZFBH,CBM,SKRZJHM,SKRMC,JE_NEW,ZFRQ,LB"), doc, dt.date(2026, 10, 15))
    assert old.bronze["amount"].to_list() == [Decimal("1.00")]
    assert new.bronze["amount"].to_list() == [Decimal("100.00")]


def test_batch_before_every_mapping_version_is_rejected(tmp_path):
    with pytest.raises(HeaderRejected) as err:
        apply_csv(tmp_path, csv_text("P1,330102001001,id,a,100,20251001,x"), day=dt.date(2025, 10, 1))
    assert err.value.rule == "unreadable_file" and "no mapping version" in err.value.reason


def test_timestamps_ints_and_floats_by_canonical_type(tmp_path):
    doc = contract_doc(format="csv")
    doc["kind"], doc["system_id"] = "public_resource_trading", "public_resource_trading_330100"
    doc["tables"] = {"contract": {
        "entity": "contract", "file_pattern": "ht*.csv", "primary_key": ["contract_id"],
        "mappings": [{"from_batch": "2025-11-01", "columns": {
            "HTBH": {"column": "contract_id"}, "JE": {"column": "amount"},
            "QDRQ": {"column": "sign_date", "date_style": "slash"},
            "ZCTS": {"column": "required_onsite_days_per_month"}}}]}}
    contract = write_contract(tmp_path, doc)
    path = tmp_path / "ht.csv"
    path.write_text("HTBH,JE,QDRQ,ZCTS\nC1,1234.5,2026/9/30,20\nC2,1,2026/9/30,2.5\n", encoding="utf-8")
    out = apply_contract(read_file(path, Delivery(format="csv", mode="increment")), contract.tables["contract"],
                         DAY, "ht.csv")
    assert out.bronze.select("contract_id", "amount", "sign_date", "required_onsite_days_per_month").rows() == [
        ("C1", Decimal("1234.50"), dt.date(2026, 9, 30), 20)]
    assert out.quarantined.rows() == [(3, "unparsable_number",
                                       "required_onsite_days_per_month (ZCTS): '2.5' is not an integer")]
