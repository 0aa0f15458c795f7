"""Defects: every class occurs, sits where ``truth/defects.parquet`` says, and never touches the truth."""
from __future__ import annotations

import datetime as dt
import fnmatch

import polars as pl
import pytest

from orchestration.contracts import registry
from orchestration.world import render
from orchestration.canonical import CREDIT_CODE_COLUMNS
from orchestration.world.core import id_check_char, uscc_check_char
from orchestration.world.defects import MIXED_ID_COLUMNS, JunkIds, noisy

from world_helpers import tiny
from world_readback import normalise_id, read_records, to_canonical

ROW_CLASSES = {"duplicate", "id_noise", "bad_check", "null_required", "impossible_date", "future_date",
               "negative_amount", "field_count", "truncated_line"}
FILE_CLASSES = {"empty_file", "schema_drift", "corrected_redelivery"}


def test_every_defect_class_occurs_in_the_small_world(small_world):
    defects = pl.read_parquet(small_world / "truth" / "defects.parquet")
    counts = dict(defects.group_by("defect").len().iter_rows())
    assert ROW_CLASSES | FILE_CLASSES <= set(counts), counts
    assert counts["corrected_redelivery"] == 1
    noise = set(defects.filter(pl.col("defect") == "id_noise")["detail"].to_list())
    assert noise == {"legacy_15", "fullwidth", "lowercase_x", "spaces"}


def test_planted_positives_get_identifier_noise_too(small_world):
    """world.md: identifier noise also hits planted positives (their records are in the files)."""
    defects = pl.read_parquet(small_world / "truth" / "defects.parquet").filter(pl.col("defect") == "id_noise")
    assert defects.height > 0
    clean = pl.read_parquet(small_world / "truth" / "clean" / "village_payment.parquet")
    planted = pl.read_parquet(small_world / "truth" / "planted.parquet")
    planted_payments = {k.split(":", 1)[1] for k in planted.filter(pl.col("model_id") == "SM03")["primary_key"]}
    assert planted_payments & set(clean["payment_id"].to_list())


@pytest.fixture(scope="module")
def mini_contracts(mini_sources):
    return registry(mini_sources)


def _table_of(contract, file_name: str):
    return next(t for t in contract.tables.values() if fnmatch.fnmatchcase(file_name, t.file_pattern))


def _defect_rows(lake, contracts, kinds: set[str]):
    """(contract, table, path, defect row) for every listed defect of ``kinds``."""
    defects = pl.read_parquet(lake / "truth" / "defects.parquet").filter(pl.col("defect").is_in(list(kinds)))
    manifest = pl.read_parquet(lake / "truth" / "manifest.parquet").filter(~pl.col("superseded"))
    paths = {(r["system_id"], r["batch_date"], r["file_name"]): r["path"] for r in manifest.iter_rows(named=True)}
    for d in defects.iter_rows(named=True):
        contract = contracts[d["system_id"]]
        yield contract, _table_of(contract, d["file_name"]), lake / paths[(d["system_id"], d["batch_date"], d["file_name"])], d


def _invalid(value: str, column: str, canonical: dict) -> bool:
    """Does ``value`` fail the check character of what the column holds in this row?"""
    type_column = MIXED_ID_COLUMNS.get(column)
    if column in CREDIT_CODE_COLUMNS or column == "owner_code" or (type_column and canonical[type_column] == "company"):
        return uscc_check_char(value[:17]) != value[17]
    return id_check_char(value[:17]) != value[17]


_files: dict = {}


def _read(path, contract):
    """read_records, once per file (a file holds many defects)."""
    if path not in _files:
        _files[path] = read_records(path, contract)
    return _files[path]


def test_row_defects_are_in_the_files_where_the_list_says(tiny_world, mini_contracts):
    seen = set()
    for contract, table, path, d in _defect_rows(tiny_world, mini_contracts, ROW_CLASSES - {"truncated_line"}):
        if d["defect"] == "field_count":
            text = path.read_bytes().decode(contract.delivery.encoding).splitlines()
            line = text[contract.delivery.header_row - 1 + d["record"]]
            width = len(text[contract.delivery.header_row - 1].split(contract.delivery.delimiter))
            assert len(line.split(contract.delivery.delimiter)) != width, (path, d)
            seen.add("field_count")
            continue
        header, rows = _read(path, contract)
        mapping = table.mapping_for(d["batch_date"]) or table.mappings[0]
        native = {r.column: h for h, r in mapping.columns.items()}
        row = rows[d["record"] - 1]
        value = dict(zip(header, row)).get(native.get(d["column"])) if d["column"] else None
        kind = d["defect"]
        if kind == "null_required":
            assert d["column"] in table.required and value is None, (path, d)
        elif kind == "impossible_date":
            assert any(day in str(value) for day in ("2/30", "0230", "02-30")), (path, d, value)
        elif kind == "negative_amount":
            assert float(value) < 0, (path, d)
        elif kind == "future_date":
            when = to_canonical(header, row, mapping, table.entity)[d["column"]]
            assert when > (d["batch_date"] if isinstance(when, dt.date) and not isinstance(when, dt.datetime)
                           else dt.datetime.combine(d["batch_date"], dt.time.max)), (path, d)
        elif kind == "bad_check":
            canonical = to_canonical(header, row, mapping, table.entity)
            assert len(str(value)) == 18 and _invalid(str(value), d["column"], canonical), (path, d, value)
        elif kind == "id_noise":
            assert normalise_id(str(value)) != str(value), (path, d)
        elif kind == "duplicate":
            assert rows[d["record"] - 2] == row, (path, d)
        seen.add(kind)
    assert seen == ROW_CLASSES - {"truncated_line"}


def test_file_defects(tiny_world, mini_contracts):
    manifest = pl.read_parquet(tiny_world / "truth" / "manifest.parquet")
    defects = pl.read_parquet(tiny_world / "truth" / "defects.parquet")
    empty = defects.filter(pl.col("defect") == "empty_file")
    assert empty.height >= 1
    for d in empty.iter_rows(named=True):
        row = manifest.filter((pl.col("system_id") == d["system_id"]) & (pl.col("batch_date") == d["batch_date"])
                              & (pl.col("file_name") == d["file_name"])).row(0, named=True)
        assert (tiny_world / row["path"]).stat().st_size == 0 and row["records"] == 0
    drift = defects.filter(pl.col("defect") == "schema_drift").row(0, named=True)
    old, new = drift["detail"].split(" -> ")
    contract = mini_contracts[drift["system_id"]]
    path = tiny_world / manifest.filter((pl.col("system_id") == drift["system_id"])
                                        & (pl.col("batch_date") == drift["batch_date"])
                                        & (pl.col("file_name") == drift["file_name"]))["path"][0]
    header, _ = read_records(path, contract)
    assert new in header and old not in header
    table = _table_of(contract, drift["file_name"])
    assert drift["column"] not in table.required and drift["column"] not in table.primary_key
    cut = defects.filter(pl.col("defect") == "truncated_line")
    assert cut.height >= 1
    d = cut.row(0, named=True)
    contract = mini_contracts[d["system_id"]]
    path = tiny_world / manifest.filter((pl.col("system_id") == d["system_id"]) & (pl.col("batch_date") == d["batch_date"])
                                        & (pl.col("file_name") == d["file_name"]) & ~pl.col("superseded"))["path"][0]
    data = path.read_bytes()
    assert not data.endswith(b"\n")
    lines = data.decode(contract.delivery.encoding).splitlines()
    width = len(lines[contract.delivery.header_row - 1].split(contract.delivery.delimiter))
    assert len(lines[-1].split(contract.delivery.delimiter)) < width


def test_identifier_noise_normalises_back():
    pid = "330102198001011234"
    pid = pid[:17] + id_check_char(pid[:17])
    for kind in ("legacy_15", "fullwidth", "spaces"):
        assert normalise_id(noisy(pid, kind)) == pid
    x = next(f"3301021980010{n:04d}"[:17] for n in range(10000) if id_check_char(f"3301021980010{n:04d}"[:17]) == "X")
    assert normalise_id(noisy(x + "X", "lowercase_x")) == x + "X"


def test_junk_identifiers_never_pass_their_check():
    junk = JunkIds()
    ids = [junk.bad_id_number() for _ in range(3000)]
    assert len(set(ids)) == len(ids)
    assert all(id_check_char(i[:17]) != i[17] for i in ids)
    codes = [junk.bad_credit_code() for _ in range(300)]
    assert all(uscc_check_char(c[:17]) != c[17] for c in codes)


def test_large_xlsx_batches_are_split(tmp_path, mini_sources, monkeypatch):
    monkeypatch.setattr(render, "XLSX_MAX_ROWS", 50)
    lake = tiny(tmp_path, mini_sources)
    manifest = pl.read_parquet(lake / "truth" / "manifest.parquet")
    roster = manifest.filter((pl.col("system_id") == "official_roster_330000")
                             & (pl.col("batch_date") == dt.date(2026, 10, 1)))
    names = sorted(roster["file_name"].to_list())
    assert len(names) > 1 and names[0].endswith("-1.xlsx") and names[1].endswith("-2.xlsx")
    assert all(n <= 50 for n in roster["records"].to_list())
