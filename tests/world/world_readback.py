"""A small, independent reader of the world's deliveries, for the generator's own tests.

It is deliberately naive (the platform's real readers live in ``orchestration/ingest``): enough to
count records, read a file back into native records and turn a native record into canonical
values with the contract's mapping, so tests can compare deliveries with the clean rows.
"""
from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import polars as pl

from orchestration.canonical import entities
from orchestration.contracts import Contract, Mapping
from orchestration.world.core import id_check_char

EXCEL_EPOCH = dt.date(1899, 12, 30)
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def count_records(path: Path, contract: Contract) -> int:
    """Data records in a delivered file (header and title lines excluded; a cut-off last line counts)."""
    data = path.read_bytes()
    if not data:
        return 0
    fmt, header_row = contract.delivery.format, contract.delivery.header_row
    if fmt == "parquet":
        return pl.read_parquet(io.BytesIO(data)).height
    if fmt == "jsonl":
        return sum(1 for line in data.decode("utf-8").split("\n") if line)
    if fmt == "xlsx":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            sheet = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
        rows = [int(r) for r in re.findall(r'<row r="(\d+)"', sheet)]
        return sum(1 for r in rows if r > header_row)
    text = data.decode(contract.delivery.encoding)
    lines = text.splitlines()
    return len(lines) - header_row


def read_records(path: Path, contract: Contract) -> tuple[list[str], list[list]]:
    """(header, data rows as native values) of a delivered file."""
    data = path.read_bytes()
    d = contract.delivery
    if not data:
        return [], []
    if d.format == "parquet":
        df = pl.read_parquet(io.BytesIO(data))
        return df.columns, [list(r) for r in df.rows()]
    if d.format == "jsonl":
        records = [json.loads(line) for line in data.decode("utf-8").split("\n") if line]
        header = list(records[0]) if records else []
        return header, [[r.get(h) for h in header] for r in records]
    if d.format == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
        return [str(h) for h in rows[d.header_row - 1]], rows[d.header_row:]
    lines = data.decode(d.encoding).splitlines()[d.header_row - 1:]
    rows = list(csv.reader(lines, delimiter=d.delimiter))
    return rows[0], [[v if v != "" else None for v in r] for r in rows[1:]]


def normalise_id(value: str) -> str:
    """The silver spelling of an id_number: trimmed, half-width, upper-case, 15 -> 18 digits."""
    v = value.strip().translate(FULL_WIDTH_DIGITS).upper()
    if len(v) == 15 and v.isdigit():
        body = v[:6] + "19" + v[6:]
        v = body + id_check_char(body)
    return v


def _date(value, style: str | None) -> dt.date:
    if style == "excel_serial":
        return EXCEL_EPOCH + dt.timedelta(days=int(float(value)))
    fmt = {"slash": "%Y/%m/%d", "compact": "%Y%m%d"}.get(style or "iso", "%Y-%m-%d")
    return dt.datetime.strptime(str(value), fmt).date()


def _timestamp(value, style: str | None) -> dt.datetime:
    if style == "excel_serial":
        return dt.datetime.combine(EXCEL_EPOCH, dt.time()) + dt.timedelta(days=float(value))
    if style == "slash":
        return dt.datetime.strptime(str(value), "%Y/%m/%d %H:%M:%S")
    if style == "compact":
        return dt.datetime.strptime(str(value), "%Y%m%d%H%M%S")
    return dt.datetime.fromisoformat(str(value))


def to_canonical(header: list[str], row: list, mapping: Mapping, entity: str) -> dict:
    """One native record as canonical values (identifiers normalised like silver would)."""
    types = entities()[entity].columns
    out = {}
    for native, value in zip(header, row):
        rule = mapping.columns.get(native)
        if rule is None:
            continue
        ctype = types[rule.column]
        if value is None:
            out[rule.column] = None
        elif ctype == "date":
            out[rule.column] = _date(value, rule.date_style)
        elif ctype == "timestamp":
            out[rule.column] = _timestamp(value, rule.date_style).replace(microsecond=0)
        elif ctype == "decimal":
            out[rule.column] = round(float(value) / (100 if rule.unit == "fen" else 1), 2)
        elif ctype == "int":
            out[rule.column] = int(value)
        elif ctype == "float":
            out[rule.column] = round(float(value), 4)
        else:
            text = str(value)
            if rule.codes:
                text = rule.codes.get(text, text)
            out[rule.column] = normalise_id(text) if re.fullmatch(r"\s*[0-9０-９]{14,17}[0-9０-９Xx]\s*", text) else text
    return out


# Defects whose records are junk (or repeats) and stay out of the read-back.
JUNK = {"bad_check", "null_required", "impossible_date", "future_date", "negative_amount", "field_count",
        "truncated_line", "duplicate"}


def _comparable(row: dict, columns: list[str]) -> tuple:
    out = []
    for c in columns:
        v = row.get(c)
        if isinstance(v, float):
            v = round(v, 2)
        if isinstance(v, dt.datetime):
            v = v.replace(microsecond=0)
        out.append(v)
    return tuple(out)


def read_back(lake: Path, contract: Contract) -> dict[str, tuple[list[tuple], list[tuple]]]:
    """Per table of a system: its landing files read back with the contract (junk records left
    out, later batches winning, a monthly snapshot system's last snapshot only) and its clean rows,
    both as sorted tuples of the columns every mapping version carries."""
    sid = contract.system_id
    manifest = pl.read_parquet(lake / "truth" / "manifest.parquet")
    defects = pl.read_parquet(lake / "truth" / "defects.parquet").filter(pl.col("system_id") == sid)
    skip = {(r["batch_date"], r["file_name"], r["record"]) for r in defects.iter_rows(named=True) if r["defect"] in JUNK}
    drifted = {(r["batch_date"], r["file_name"]): r["detail"].split(" -> ")
               for r in defects.iter_rows(named=True) if r["defect"] == "schema_drift"}
    files = manifest.filter((pl.col("system_id") == sid) & ~pl.col("superseded")).sort("batch_date")
    last_snapshot = files["batch_date"].max()
    out = {}
    for table_name, table in contract.tables.items():
        got: dict[tuple, dict] = {}
        names = {f for f in files["file_name"].unique().to_list() if fnmatch.fnmatchcase(f, table.file_pattern)}
        for row in files.filter(pl.col("file_name").is_in(list(names))).iter_rows(named=True):
            if contract.delivery.mode == "monthly_snapshot" and row["batch_date"] != last_snapshot:
                continue
            header, records = read_records(lake / row["path"], contract)
            renamed = drifted.get((row["batch_date"], row["file_name"]))
            if renamed:
                header = [renamed[0] if h == renamed[1] else h for h in header]
            mapping = table.mapping_for(row["batch_date"]) or table.mappings[0]
            for i, values in enumerate(records, start=1):
                if (row["batch_date"], row["file_name"], i) in skip:
                    continue
                record = to_canonical(header, values, mapping, table.entity)
                got[tuple(record[k] for k in table.primary_key)] = record  # later batches win
        clean = pl.read_parquet(lake / "truth" / "clean" / f"{table.entity}.parquet").filter(
            pl.col("_system_id") == sid)
        mapped = sorted(set.intersection(*(set(r.column for r in m.columns.values()) for m in table.mappings)))
        out[table_name] = (sorted((_comparable(r, mapped) for r in got.values()), key=repr),
                           sorted((_comparable(r, mapped) for r in clean.iter_rows(named=True)), key=repr))
    return out


def manifest_problems(lake: Path, contracts: dict[str, Contract]) -> list[str]:
    """What is wrong with ``truth/manifest.parquet``: every landing file listed once, with its
    path, sha256 and data record count."""
    manifest = pl.read_parquet(lake / "truth" / "manifest.parquet")
    on_disk = {p.relative_to(lake).as_posix() for p in (lake / "landing").rglob("*") if p.is_file()}
    listed = set(manifest.filter(~pl.col("superseded"))["path"].to_list())
    problems = [f"not listed: {p}" for p in sorted(on_disk - listed)] + [f"not on disk: {p}" for p in sorted(listed - on_disk)]
    if manifest["path"].n_unique() != manifest.height:
        problems.append("a path is listed twice")
    for row in manifest.iter_rows(named=True):
        path = lake / row["path"]
        if hashlib.sha256(path.read_bytes()).hexdigest() != row["sha256"]:
            problems.append(f"{row['path']}: sha256")
        if not row["path"].endswith(f"{row['system_id']}/{row['batch_date']}/{row['file_name']}"):
            problems.append(f"{row['path']}: not where system, batch and file name say")
        if count_records(path, contracts[row["system_id"]]) != row["records"]:
            problems.append(f"{row['path']}: {row['records']} records listed")
    return problems
