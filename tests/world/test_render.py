"""Rendering rules on hand-made rows: batch dates, change rows, monthly snapshots, native values."""
from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from orchestration.contracts import Table
from orchestration.world.core import BACKFILL_DATE, WORLD_END
from orchestration.world.render import MONTHLY_DATES, file_name, native_frame, schedule, visible
from orchestration.world.scenarios._frames import frame

D = dt.date


def table(entity: str, columns: dict, **extra) -> Table:
    return Table.model_validate({"entity": entity, "file_pattern": "x*.csv", "primary_key": extra.pop("key"),
                                 "mappings": [{"from_batch": "2025-11-01", "columns": columns}], **extra})


MARRIAGE = table("marriage", {"HYBH": {"column": "marriage_id"}, "LHRQ": {"column": "dissolved_date"}},
                 key=["marriage_id"], not_after_batch=["registered_date"])


def test_event_rows_go_to_the_backfill_or_their_day_and_never_after_the_end():
    rows = frame("village_payment", [
        {"payment_id": "A", "pay_date": D(2026, 3, 1)}, {"payment_id": "B", "pay_date": D(2026, 10, 7)},
        {"payment_id": "C", "pay_date": D(2026, 11, 2)}, {"payment_id": "D", "pay_date": None}])
    t = table("village_payment", {"ZFBH": {"column": "payment_id"}}, key=["payment_id"])
    out = schedule(rows, "village_payment", t, "increment")
    assert dict(zip(out["payment_id"], out["_batch"])) == {"A": BACKFILL_DATE, "B": D(2026, 10, 7), "D": BACKFILL_DATE}


def test_a_dissolution_in_october_is_a_change_row():
    rows = frame("marriage", [
        {"marriage_id": "M1", "registered_date": D(2001, 5, 1), "dissolved_date": D(2026, 10, 12)},
        {"marriage_id": "M2", "registered_date": D(2001, 5, 1), "dissolved_date": D(2020, 1, 1)},
        {"marriage_id": "M3", "registered_date": D(2001, 5, 1), "dissolved_date": D(2027, 1, 1)}])
    out = schedule(rows, "marriage", MARRIAGE, "snapshot")
    got = [(r["marriage_id"], r["_batch"], r["dissolved_date"]) for r in out.iter_rows(named=True)]
    assert got == [("M1", BACKFILL_DATE, None), ("M2", BACKFILL_DATE, D(2020, 1, 1)), ("M3", BACKFILL_DATE, None),
                   ("M1", D(2026, 10, 12), D(2026, 10, 12))]
    final = visible(out, "snapshot").sort("marriage_id")
    assert final["dissolved_date"].to_list() == [D(2026, 10, 12), D(2020, 1, 1), None]


def test_a_company_deregistered_later_is_active_until_then():
    rows = frame("company", [{"credit_code": "C1", "established_date": D(2010, 1, 1), "status": "deregistered",
                              "deregistered_date": D(2026, 10, 20)}])
    t = table("company", {"DM": {"column": "credit_code"}}, key=["credit_code"])
    out = schedule(rows, "company", t, "snapshot")
    assert out["status"].to_list() == ["active", "deregistered"]
    assert out["_batch"].to_list() == [BACKFILL_DATE, D(2026, 10, 20)]


def test_monthly_snapshots_know_what_was_true_on_the_first():
    rows = frame("public_official", [
        {"id_number": "P1", "org_code": "O", "start_date": D(2020, 1, 1), "end_date": D(2026, 3, 15)},
        {"id_number": "P2", "org_code": "O", "start_date": D(2026, 10, 5)}])
    t = table("public_official", {"SFZ": {"column": "id_number"}, "DW": {"column": "org_code"},
                                  "KS": {"column": "start_date"}}, key=["id_number", "org_code", "start_date"])
    out = schedule(rows, "public_official", t, "monthly_snapshot")
    assert sorted(set(out["_batch"].to_list())) == MONTHLY_DATES
    march = out.filter(pl.col("_batch") == D(2026, 3, 1))
    assert march["end_date"].to_list() == [None]
    final = visible(out, "monthly_snapshot")
    assert final["id_number"].to_list() == ["P1"] and final["end_date"].to_list() == [D(2026, 3, 15)]
    assert MONTHLY_DATES[-1] <= WORLD_END


def test_native_values_follow_the_column_rules():
    rows = frame("village_payment", [{"payment_id": "Z1", "pay_date": D(2024, 3, 5), "amount": 1234.5,
                                      "category": "work_subsidy", "payee_id": "330102198001011234"}])
    t = table("village_payment", {
        "ZFBH": {"column": "payment_id"}, "RQ1": {"column": "pay_date", "date_style": "slash"},
        "JE": {"column": "amount", "unit": "fen"}, "LB": {"column": "category", "codes": {"01": "work_subsidy"}},
        "SKR": {"column": "payee_id"}}, key=["payment_id"], extra_columns=["CZYXM"])
    csv_row = native_frame(rows, t, t.mappings[0], "csv", "s", np.random.default_rng(1)).row(0, named=True)
    assert {k: csv_row[k] for k in ("ZFBH", "RQ1", "JE", "LB")} == {"ZFBH": "Z1", "RQ1": "2024/3/5", "JE": "123450", "LB": "01"}
    assert list(csv_row) == ["ZFBH", "RQ1", "JE", "LB", "SKR", "CZYXM"] and csv_row["CZYXM"]
    typed = native_frame(rows, t, t.mappings[0], "xlsx", "s", np.random.default_rng(1)).row(0, named=True)
    assert typed["JE"] == 123450
    serial = table("village_payment", {"ZFBH": {"column": "payment_id"},
                                       "RQ": {"column": "pay_date", "date_style": "excel_serial"},
                                       "JE": {"column": "amount"}}, key=["payment_id"])
    row = native_frame(rows, serial, serial.mappings[0], "csv", "s", np.random.default_rng(1)).row(0, named=True)
    assert row["RQ"] == "45356" and row["JE"] == "1234.50"


def test_file_names_from_patterns():
    assert file_name("zfmx*.csv") == "zfmx.csv"
    assert file_name("zfmx*.xlsx", 2) == "zfmx-2.xlsx"
    assert file_name("payments.jsonl", 1) == "payments-1.jsonl"
