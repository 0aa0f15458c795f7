"""ingest_system end to end: every landed row ends in bronze or quarantine, and the ledger adds up."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from deltalake import DeltaTable
from ingest_helpers import DAY, HEADER, SYSTEM, bronze, contract_doc, csv_text, land, payment_table, write_contract

from orchestration.ingest import (SharedWrites, freshness, ingest_system, ledger_frame, pending_batches,
                                  quarantine_frame)

ROWS = [  # payment_id, village_code, payee id, payee name, fen, pay date, category
    ["P1", "330102001001", "330102198001011234", "张三", "12345", "20261001", "务工补贴"],
    ["P2", "330102001002", "91330100MA2B3C4D5X", "某公司", "7", "20260930", "材料款"],
]
EXPECTED = [("P1", "330102001001", Decimal("123.45"), dt.date(2026, 10, 1), "work_subsidy"),
            ("P2", "330102001002", Decimal("0.07"), dt.date(2026, 9, 30), "materials")]


def ledger_row(lake: Path, file_name: str) -> dict:
    rows = ledger_frame(lake, SYSTEM).filter(pl.col("file_name") == file_name).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def quarantined(lake: Path) -> list[tuple]:
    return quarantine_frame(lake, SYSTEM).sort("file_name", "source_row").select(
        "file_name", "source_row", "rule").rows()


def assert_reconciled(lake: Path) -> None:
    ledger = ledger_frame(lake, SYSTEM)
    assert ledger.height and ledger["reconciled"].all(), ledger.to_dicts()
    assert (ledger["records_sent"] == ledger["rows_bronze"] + ledger["rows_quarantined"]).all()


# ----------------------------------------------------------------------------------- formats

def xlsx_bytes(header: list[str], rows: list[list]) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            sheet.write(r, c, int(v) if c == 4 else v)       # amounts as numbers, like a vendor would
    book.close()
    return buf.getvalue()


def parquet_bytes(header: list[str], rows: list[list]) -> bytes:
    buf = io.BytesIO()
    frame = pl.DataFrame({h: [row[i] for row in rows] for i, h in enumerate(header)})
    frame.with_columns(pl.col("JE").cast(pl.Int64)).write_parquet(buf)
    return buf.getvalue()


@pytest.mark.parametrize("fmt,encoding", [("csv", "utf-8"), ("csv", "utf-8-sig"), ("csv", "gbk"),
                                          ("xlsx", "utf-8"), ("jsonl", "utf-8"), ("parquet", "utf-8")])
def test_every_format_lands_the_same_canonical_rows(tmp_path, lake, fmt, encoding):
    doc = contract_doc(format=fmt, encoding=encoding)
    payment_table(doc)["file_pattern"] = f"zfmx*.{fmt}"
    contract = write_contract(tmp_path, doc)
    header = HEADER.split(",")
    if fmt == "csv":
        data = csv_text(*(",".join(r) for r in ROWS)).encode("gbk" if encoding == "gbk" else "utf-8")
        data = (b"\xef\xbb\xbf" if encoding == "utf-8-sig" else b"") + data
    elif fmt == "xlsx":
        data = xlsx_bytes(header, ROWS)
    elif fmt == "jsonl":
        data = "".join(json.dumps(dict(zip(header, r)), ensure_ascii=False) + "\n" for r in ROWS).encode()
    else:
        data = parquet_bytes(header, ROWS)
    land(lake, f"zfmx.{fmt}", data)

    result = ingest_system(contract, lake)
    got = bronze(lake).select("payment_id", "village_code", "amount", "pay_date", "category").rows()
    assert got == EXPECTED
    assert bronze(lake)["payee_id"].to_list() == ["330102198001011234", "91330100MA2B3C4D5X"]
    assert result.reconciled and result.rows_bronze == 2 and result.batches == [DAY]
    assert_reconciled(lake)


@pytest.mark.parametrize("style,values", [("iso", ["2026-10-01", "2026-09-30"]), ("slash", ["2026/10/1", "2026/9/30"]),
                                          ("excel_serial", ["46296", "46295"])])
def test_date_styles_end_to_end(tmp_path, lake, style, values):
    doc = contract_doc()
    payment_table(doc)["mappings"][0]["columns"]["ZFRQ"]["date_style"] = style
    contract = write_contract(tmp_path, doc)
    rows = [",".join([*r[:5], v, r[6]]) for r, v in zip(ROWS, values)]
    land(lake, "zfmx.csv", csv_text(*rows))
    ingest_system(contract, lake)
    assert bronze(lake)["pay_date"].to_list() == [dt.date(2026, 10, 1), dt.date(2026, 9, 30)]


def test_bronze_schema_is_canonical_then_lineage(contract, lake):
    land(lake, "zfmx.csv", csv_text(",".join(ROWS[0])))
    ingest_system(contract, lake)
    table = bronze(lake)
    assert table.schema["amount"] == pl.Decimal(18, 2) and table.schema["pay_date"] == pl.Date
    assert table.columns[-7:] == ["_system_id", "_batch_date", "_file_name", "_file_hash", "_source_row",
                                  "_ingested_at", "_extra"]
    row = table.to_dicts()[0]
    assert (row["_system_id"], row["_batch_date"], row["_file_name"], row["_source_row"]) == (
        SYSTEM, DAY, "zfmx.csv", 2)
    path = lake / "landing" / SYSTEM / DAY.isoformat() / "zfmx.csv"
    assert row["_file_hash"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert table.schema["_ingested_at"] == pl.Datetime("us", "UTC")


# ----------------------------------------------------------------------------------- defects

# The contract is applied to a file in slices (APPLY_SLICE_RECORDS); slices of 2 records cut
# between sound and broken rows and must land exactly what a whole file does.
@pytest.mark.parametrize("slice_records", [1_000_000, 2])
def test_every_defect_class_is_in_bronze_or_quarantine_with_its_rule(contract, lake, monkeypatch, slice_records):
    monkeypatch.setattr("orchestration.ingest.system.APPLY_SLICE_RECORDS", slice_records)
    good = ",".join(ROWS[0])
    land(lake, "zfmx.csv", HEADER + "\n" + "\n".join([
        good,                                                                   # 2 sound
        good,                                                                   # 3 duplicate: kept
        "P3,330102001001,id,a,100,20261001",                                    # 4 too few fields
        "P4,330102001001,id,a,100,20261001,材料款,多余字段",                      # 5 too many fields
        "P5,330102001001,id,a,100,20261345,材料款",                               # 6 unparsable date
        "P6,330102001001,id,a,100,20260230,材料款",                               # 7 impossible date
        "P7,330102001001,id,a,12元,20261001,材料款",                              # 8 unparsable amount
        "P8,330102001001,id,a,-100,20261001,材料款",                              # 9 negative amount
        "P9,330102001001,id,a,100,20261002,材料款",                               # 10 future date
        "P10,,id,a,100,20261001,材料款",                                          # 11 null required
        "P11,330102001001,bad-check,a,100,20261001,材料款",                        # 12 identifier noise: bronze
        "P12,330102001001,id,a,1",                                               # 13 truncated last line
    ]))
    result = ingest_system(contract, lake)
    assert bronze(lake)["_source_row"].to_list() == [2, 3, 12]
    assert quarantined(lake) == [("zfmx.csv", 4, "field_count"), ("zfmx.csv", 5, "field_count"),
                                 ("zfmx.csv", 6, "unparsable_date"), ("zfmx.csv", 7, "unparsable_date"),
                                 ("zfmx.csv", 8, "unparsable_number"), ("zfmx.csv", 9, "negative_amount"),
                                 ("zfmx.csv", 10, "future_date"), ("zfmx.csv", 11, "missing_required"),
                                 ("zfmx.csv", 13, "field_count")]
    rows = quarantine_frame(lake, SYSTEM).sort("source_row")
    assert rows["raw_line"][0] == "P3,330102001001,id,a,100,20261001"
    assert rows["reason"][-1].startswith("truncated last line")
    ledger = ledger_row(lake, "zfmx.csv")
    assert (ledger["records_sent"], ledger["sent_from"], ledger["rows_bronze"], ledger["rows_quarantined"]) == (
        12, "counted", 3, 9)
    assert ledger["reconciled"] and result.reconciled
    assert result.quarantined_by_rule["field_count"] == 3


def test_missing_required_column_rejects_the_whole_file(contract, lake):
    header = HEADER.replace("JE", "JE_YUAN")
    land(lake, "zfmx.csv", csv_text(*(",".join(r) for r in ROWS), "P3,too,few", header=header))
    result = ingest_system(contract, lake)
    assert bronze(lake).height == 0
    rows = quarantine_frame(lake, SYSTEM).sort("source_row")
    assert rows["source_row"].to_list() == [2, 3, 4]                 # every raw line, the broken one too
    assert set(rows["rule"]) == {"missing_column"}
    assert rows["raw_line"][2] == "P3,too,few"
    assert "zfmx.csv" in rows["reason"][0] and "'JE'" in rows["reason"][0] and "renamed to 'JE_YUAN'?" in rows["reason"][0]
    assert [f.rejected_rule for f in result.rejected] == ["missing_column"]
    assert_reconciled(lake)


def test_undecodable_file_is_rejected_whole(contract, lake):
    data = csv_text(",".join(ROWS[0])).encode() + b"P9,\xff\xfe,x,y,1,20261001,z\n"
    land(lake, "zfmx.csv", data)
    result = ingest_system(contract, lake)
    assert bronze(lake).height == 0
    assert quarantined(lake) == [("zfmx.csv", 2, "undecodable"), ("zfmx.csv", 3, "undecodable")]
    assert "line 3" in result.rejected[0].rejected_reason
    assert_reconciled(lake)


def test_empty_and_header_only_files_reconcile_at_zero(contract, lake):
    land(lake, "zfmx.csv", b"")
    land(lake, "zfmx-2.csv", HEADER + "\n")
    result = ingest_system(contract, lake)
    assert result.reconciled and not result.rejected
    for name in ("zfmx.csv", "zfmx-2.csv"):
        row = ledger_row(lake, name)
        assert (row["records_sent"], row["rows_bronze"], row["rows_quarantined"], row["reconciled"]) == (0, 0, 0, True)


def test_extra_columns_kept_and_renamed_optional_column_reported(tmp_path, lake):
    doc = contract_doc()
    payment_table(doc)["extra_columns"] = ["CZY"]
    contract = write_contract(tmp_path, doc)
    header = HEADER.replace("SKRMC", "SKRMC_1") + ",CZY"
    land(lake, "zfmx.csv", csv_text(",".join(ROWS[0]) + ",王五", header=header))
    result = ingest_system(contract, lake)
    row = bronze(lake).to_dicts()[0]
    assert row["payee_name"] is None
    assert json.loads(row["_extra"]) == {"SKRMC_1": "张三", "CZY": "王五"}
    assert any("'SKRMC' (→ payee_name) is missing (renamed to 'SKRMC_1'?)" in w for w in result.warnings)
    assert_reconciled(lake)


def test_file_matching_no_table_is_quarantined_whole(contract, lake):
    land(lake, "zfmx.csv", csv_text(",".join(ROWS[0])))
    land(lake, "notes.txt", "line one\nline two\n")
    result = ingest_system(contract, lake)
    assert quarantined(lake) == [("notes.txt", 1, "unreadable_file"), ("notes.txt", 2, "unreadable_file")]
    assert "matches no table" in result.rejected[0].rejected_reason
    assert ledger_row(lake, "notes.txt")["table_name"] is None
    assert_reconciled(lake)


def test_symlink_out_of_landing_is_not_read(contract, lake, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text(csv_text(",".join(ROWS[0])), encoding="utf-8")
    link = lake / "landing" / SYSTEM / DAY.isoformat() / "zfmx.csv"
    link.parent.mkdir(parents=True)
    os.symlink(secret, link)
    result = ingest_system(contract, lake)
    assert bronze(lake).height == 0
    rows = quarantine_frame(lake, SYSTEM)
    assert rows["raw_line"].to_list() == [None] and rows["rule"].to_list() == ["unreadable_file"]
    assert "outside the landing zone" in rows["reason"][0]
    assert not result.reconciled                      # what the file holds is unaccounted for


def test_invalid_batch_folder_is_skipped_with_a_warning(contract, lake):
    land(lake, "zfmx.csv", csv_text(",".join(ROWS[0])))
    bad = lake / "landing" / SYSTEM / "2026-13-45"
    bad.mkdir()
    (bad / "zfmx.csv").write_text(csv_text(",".join(ROWS[1])), encoding="utf-8")
    result = ingest_system(contract, lake)
    assert result.batches == [DAY] and bronze(lake).height == 1
    assert any("2026-13-45" in w and "not a valid YYYY-MM-DD date" in w for w in result.warnings)


def test_system_without_deliveries_gets_empty_tables_and_a_freshness_warning(contract, lake):
    result = ingest_system(contract, lake)
    assert result.batches == [] and result.reconciled
    table = bronze(lake)
    assert table.height == 0 and "amount" in table.columns and "_extra" in table.columns
    assert ledger_frame(lake).height == 0 and quarantine_frame(lake).height == 0
    assert any("no batch delivered yet" in w for w in result.warnings)


# ------------------------------------------------------------------------ batches and ledger

def test_reingest_is_idempotent(contract, lake):
    land(lake, "zfmx.csv", csv_text(*(",".join(r) for r in ROWS), "P3,x"))
    ingest_system(contract, lake)
    assert ingest_system(contract, lake).batches == []            # nothing new
    ingest_system(contract, lake, force=True)
    ingest_system(contract, lake, batch_dates=[DAY])
    assert bronze(lake)["payment_id"].to_list() == ["P1", "P2"]
    assert quarantine_frame(lake, SYSTEM).height == 1 and ledger_frame(lake, SYSTEM).height == 1


def test_corrected_redelivery_replaces_the_batch(contract, lake):
    other_day = dt.date(2026, 10, 2)
    land(lake, "zfmx.csv", csv_text(*(",".join(r) for r in ROWS), "P3,x"))
    land(lake, "zfmx.csv", csv_text(",".join(["P9", *ROWS[0][1:5], "20261002", "材料款"])), day=other_day)
    ingest_system(contract, lake)
    corrected = [["P1", *ROWS[0][1:4], "99999", *ROWS[0][5:]]]
    land(lake, "zfmx.csv", csv_text(*(",".join(r) for r in corrected)))
    assert pending_batches(contract, lake) == [DAY]
    result = ingest_system(contract, lake)
    assert result.batches == [DAY]
    table = bronze(lake)
    assert table.filter(pl.col("_batch_date") == DAY)["amount"].to_list() == [Decimal("999.99")]
    assert table.filter(pl.col("_batch_date") == other_day)["payment_id"].to_list() == ["P9"]
    assert quarantine_frame(lake, SYSTEM).height == 0                 # the old P3 row left with its batch
    assert ledger_frame(lake, SYSTEM).height == 2


def test_redelivery_without_a_table_file_clears_that_table_for_the_date(contract, lake):
    path = land(lake, "zfmx.csv", csv_text(",".join(ROWS[0])))
    land(lake, "zfmx-2.csv", csv_text(",".join(ROWS[1])))
    ingest_system(contract, lake)
    path.unlink()
    ingest_system(contract, lake)
    assert bronze(lake)["payment_id"].to_list() == ["P2"]
    assert ledger_frame(lake, SYSTEM)["file_name"].to_list() == ["zfmx-2.csv"]


def write_manifest(lake: Path, records: dict[str, int]) -> None:
    rows = []
    for name, n in records.items():
        path = lake / "landing" / SYSTEM / DAY.isoformat() / name
        rows.append({"system_id": SYSTEM, "batch_date": DAY, "file_name": name,
                     "path": str(path.relative_to(lake)), "records": n,
                     "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "delivery": 1, "superseded": False})
    (lake / "truth").mkdir(exist_ok=True)
    pl.DataFrame(rows).write_parquet(lake / "truth" / "manifest.parquet")


def test_ledger_reconciles_against_the_manifest(contract, lake):
    land(lake, "zfmx.csv", csv_text(*(",".join(r) for r in ROWS)))
    land(lake, "zfmx-2.csv", csv_text(",".join(ROWS[0])))
    write_manifest(lake, {"zfmx.csv": 2, "zfmx-2.csv": 3})   # the second file lost two records on the way
    result = ingest_system(contract, lake)
    first, second = ledger_row(lake, "zfmx.csv"), ledger_row(lake, "zfmx-2.csv")
    assert (first["sent_from"], first["records_sent"], first["reconciled"]) == ("manifest", 2, True)
    assert (second["sent_from"], second["records_sent"], second["reconciled"]) == ("manifest", 3, False)
    assert "NOT RECONCILED" in second["message"]
    assert not result.reconciled and result.unreconciled == [f"{DAY}/zfmx-2.csv: {second['message']}"]


def test_manifest_of_another_version_of_the_file_is_not_used(contract, lake):
    path = land(lake, "zfmx.csv", csv_text(*(",".join(r) for r in ROWS)))
    write_manifest(lake, {"zfmx.csv": 5})
    path.write_text(csv_text(",".join(ROWS[0])), encoding="utf-8")      # re-delivered after the manifest
    ingest_system(contract, lake)
    row = ledger_row(lake, "zfmx.csv")
    assert (row["sent_from"], row["records_sent"], row["reconciled"]) == ("counted", 1, True)


def test_initial_load_of_many_batches_is_one_commit_per_table(contract, lake):
    days = [dt.date(2026, 9, 30) + dt.timedelta(days=k) for k in range(10)]
    for k, day in enumerate(days):
        land(lake, "zfmx.csv", csv_text(",".join([f"P{k}", *ROWS[0][1:5], day.strftime("%Y%m%d"), "材料款"])), day=day)
    result = ingest_system(contract, lake)
    assert result.batches == days and bronze(lake).height == 10
    versions = {name: DeltaTable(str(lake / name)).version() for name in
                (f"bronze/{SYSTEM}/village_payment", "quarantine", "ledger")}
    assert versions == {f"bronze/{SYSTEM}/village_payment": 1, "quarantine": 1, "ledger": 1}   # create + one write


def test_systems_ingested_together_share_one_quarantine_and_one_ledger_commit(tmp_path, lake):
    """A bronze asset ingests a whole kind with SharedWrites: the shared tables get one commit at
    the end, holding what separate calls would have written, and nothing before it."""
    second = contract_doc()
    second["system_id"] = "village_finance_330103"
    contracts = [write_contract(tmp_path / "a", contract_doc()), write_contract(tmp_path / "b", second)]
    for c in contracts:
        land(lake, "zfmx.csv", csv_text(",".join(ROWS[0]), "bad,row"), system=c.system_id)
    shared = SharedWrites(lake)
    results = [ingest_system(c, lake, shared=shared) for c in contracts]
    assert ledger_frame(lake, SYSTEM).height == 0 and quarantine_frame(lake, SYSTEM).height == 0
    shared.commit()
    for c, result in zip(contracts, results):
        ledger = ledger_frame(lake, c.system_id)
        assert ledger.height == 1 and ledger["reconciled"].all() and result.reconciled
        assert quarantine_frame(lake, c.system_id)["source_row"].to_list() == [3]   # line 3: after the header
    assert {n: DeltaTable(str(lake / n)).version() for n in ("quarantine", "ledger")} == {"quarantine": 1, "ledger": 1}
    shared.commit()  # nothing pending: no commit
    assert DeltaTable(str(lake / "ledger")).version() == 1
    ingest_system(contracts[0], lake, batch_dates=[DAY], shared=shared)   # a re-ingest replaces, never duplicates
    shared.commit()
    assert ledger_frame(lake, SYSTEM).height == 1 and quarantine_frame(lake, SYSTEM).height == 1


def test_systems_ingested_together_read_the_ledger_once(tmp_path, lake, monkeypatch):
    """SharedWrites reads the ledger once for all its systems (which batches are new); asked
    again for a system whose rows are not committed yet, it commits them first, so a batch is
    never taken for new twice."""
    from orchestration.ingest import system as system_module

    second = contract_doc()
    second["system_id"] = "village_finance_330103"
    contracts = [write_contract(tmp_path / "a", contract_doc()), write_contract(tmp_path / "b", second)]
    for c in contracts:
        land(lake, "zfmx.csv", csv_text(",".join(ROWS[0])), system=c.system_id)
    reads = []
    read = system_module.ledger_fingerprints
    monkeypatch.setattr(system_module, "ledger_fingerprints", lambda *args: reads.append(args) or read(*args))
    shared = SharedWrites(lake)
    assert [ingest_system(c, lake, shared=shared).batches for c in contracts] == [[DAY], [DAY]]
    assert len(reads) == 1
    assert ingest_system(contracts[0], lake, shared=shared).batches == []
    assert len(reads) == 2 and ledger_frame(lake, SYSTEM).height == 1
    shared.commit()
    assert ledger_frame(lake).height == 2


def test_mapping_versions_apply_by_batch_date(tmp_path, lake):
    doc = contract_doc()
    later = {"from_batch": "2026-10-15", "columns": dict(payment_table(doc)["mappings"][0]["columns"])}
    later["columns"]["ZFJE"] = {"column": "amount", "unit": "yuan"}
    del later["columns"]["JE"]
    payment_table(doc)["mappings"].append(later)
    contract = write_contract(tmp_path, doc)
    late = dt.date(2026, 10, 15)
    land(lake, "zfmx.csv", csv_text(",".join(ROWS[0])))
    land(lake, "zfmx.csv", csv_text(",".join(["P5", *ROWS[0][1:4], "12.5", "20261015", "材料款"]),
                                    header=HEADER.replace("JE", "ZFJE")), day=late)
    ingest_system(contract, lake)
    assert bronze(lake)["amount"].to_list() == [Decimal("123.45"), Decimal("12.50")]


def test_pending_batches_and_freshness(contract, lake):
    assert freshness(contract, lake, DAY) == f"{SYSTEM}: no batch delivered yet (freshness)"
    land(lake, "zfmx.csv", csv_text(",".join(ROWS[0])))
    assert pending_batches(contract, lake) == [DAY]
    ingest_system(contract, lake)
    assert pending_batches(contract, lake) == []
    assert freshness(contract, lake, DAY + dt.timedelta(days=1)) is None
    assert "3 days old" in freshness(contract, lake, DAY + dt.timedelta(days=3))


def test_result_metadata_is_plain_json(contract, lake):
    land(lake, "zfmx.csv", csv_text(*(",".join(r) for r in ROWS), "P3,x"))
    meta = ingest_system(contract, lake).metadata()
    assert json.loads(json.dumps(meta)) == meta
    assert (meta["rows_bronze"], meta["rows_quarantined"], meta["quarantined_by_rule"]) == (2, 1, {"field_count": 1})
    assert meta["batches_ingested"] == [DAY.isoformat()] and meta["reconciled"] is True
