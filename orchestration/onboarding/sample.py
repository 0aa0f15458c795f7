"""Reading one sample delivery file of any supported format into headers and sampled values.

What a contract's ``delivery`` block needs is detected here: the format (by extension, checked
against the content), and for text files the encoding, the delimiter and the header row.
Values come back as text, the way a CSV would carry them (an xlsx date cell becomes
``2024-03-05``, a parquet float ``1500.0``), so one value profiler serves every format.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_ROWS = 5000              # rows read per file: enough for value evidence, fast on xlsx
TEXT_BYTES = 8 * 1024 * 1024    # bytes of a text file read for detection and sampling
DELIMITERS = (",", "\t", ";", "|")
HEADER_SEARCH_ROWS = 10         # a header below a title block is looked for in these rows

EXTENSION_FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".dat": "csv",
                     ".xlsx": "xlsx", ".xlsm": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl",
                     ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


class SampleError(ValueError):
    """A sample that cannot be read; the message names the file and what is wrong."""


@dataclass
class SampleFile:
    path: Path
    format: str                      # csv | xlsx | jsonl | parquet (contract delivery.format)
    headers: list[str]
    values: dict[str, list[str]]     # header -> sampled non-empty values, as text
    rows: int                        # data rows sampled
    encoding: str | None = None      # csv only
    ascii_only: bool = False         # csv: every byte ASCII, so any encoding reads it
    delimiter: str | None = None     # csv only
    header_row: int = 1
    notes: list[str] = field(default_factory=list)  # what the reviewer should check


def supported(path: Path) -> bool:
    return path.suffix.lower() in EXTENSION_FORMATS


def read_sample(path: str | Path, max_rows: int = SAMPLE_ROWS) -> SampleFile:
    path = Path(path)
    if not path.is_file():
        raise SampleError(f"{path}: not a file")
    fmt = _detect_format(path)
    reader = {"csv": _read_text_table, "xlsx": _read_xlsx, "jsonl": _read_jsonl,
              "parquet": _read_parquet}[fmt]
    sample = reader(path, max_rows)
    if not sample.headers:
        raise SampleError(f"{path}: no header row found (is the file empty?)")
    return sample


# ----------------------------------------------------------------------------- format
def _detect_format(path: Path) -> str:
    fmt = EXTENSION_FORMATS.get(path.suffix.lower())
    head = path.open("rb").read(8)
    by_content = ("xlsx" if head.startswith(b"PK\x03\x04") else
                  "parquet" if head.startswith(b"PAR1") else None)
    if by_content and fmt != by_content:
        return by_content  # the bytes win over a misleading extension
    if fmt is None:
        raise SampleError(f"{path}: unsupported file type {path.suffix!r} "
                          f"(supported: {', '.join(sorted(EXTENSION_FORMATS))})")
    if fmt in ("xlsx", "parquet") and by_content is None:
        raise SampleError(f"{path}: extension says {fmt} but the content is not a {fmt} file")
    return fmt


# ----------------------------------------------------------------------------- text (csv)
def detect_encoding(data: bytes) -> tuple[str, list[str]]:
    """utf-8-sig (BOM), utf-8 or gbk, with notes when the choice is not clean.

    Every line is tried on its own, so one corrupt line (a real defect) does not flip the
    guess for a whole file.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", []
    lines = data.split(b"\n")
    if len(data) >= TEXT_BYTES:
        lines = lines[:-1]  # the read may have cut the last line mid-character
    bad = {enc: sum(1 for line in lines if not _decodes(line, enc)) for enc in ("utf-8", "gbk")}
    if bad["utf-8"] == 0:
        return "utf-8", []
    if bad["gbk"] == 0:
        return "gbk", []
    from charset_normalizer import from_bytes
    best = from_bytes(data[: 1024 * 1024]).best()
    guess = (best.encoding if best else "").lower().replace("_", "")
    encoding = "gbk" if guess in ("gbk", "gb2312", "gb18030", "hz") or bad["gbk"] < bad["utf-8"] else "utf-8"
    return encoding, [f"{bad[encoding]} line(s) do not decode as {encoding} (corrupt rows, or another encoding)"]


def _decodes(line: bytes, encoding: str) -> bool:
    try:
        line.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def detect_delimiter(lines: list[str]) -> str:
    """The candidate delimiter that splits the most lines into the same (>1) number of fields."""
    best, best_score = ",", (-1.0, 0)
    for delim in DELIMITERS:
        counts = [len(r) for r in csv.reader(lines, delimiter=delim) if r]
        if not counts:
            continue
        fields, hits = Counter(counts).most_common(1)[0]
        if fields < 2:
            continue
        score = (hits / len(counts), fields)
        if score > best_score:
            best, best_score = delim, score
    return best


def detect_header_row(rows: list[list[str]]) -> int:
    """0-based index of the header: the first row as wide as the data whose cells are all labels.

    Title rows above a header (a report name in one cell, a blank line) are skipped.
    """
    widths = Counter(sum(1 for c in r if str(c).strip()) for r in rows if any(str(c).strip() for c in r))
    if not widths:
        return 0
    width = widths.most_common(1)[0][0]
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        cells = [str(c).strip() for c in row if c is not None and str(c).strip()]
        if len(cells) >= max(2, width) and all(_looks_like_label(c) for c in cells):
            return i
    return 0


def _looks_like_label(cell: str) -> bool:
    text = cell.replace("-", "").replace("/", "").replace(".", "").replace(":", "").replace(" ", "")
    return not text.isdigit()


def _read_text_table(path: Path, max_rows: int) -> SampleFile:
    with path.open("rb") as fh:
        data = fh.read(TEXT_BYTES)
    encoding, notes = detect_encoding(data)
    text = data.decode(encoding, errors="replace")
    lines = text.splitlines()
    if len(data) >= TEXT_BYTES and lines:
        lines = lines[:-1]
    delimiter = detect_delimiter(lines[:200])
    rows = list(csv.reader(lines[: max_rows + HEADER_SEARCH_ROWS + 1], delimiter=delimiter))
    header_at = detect_header_row(rows[: HEADER_SEARCH_ROWS + 50])
    headers = _clean_headers(rows[header_at] if rows else [])
    sample = _columns(headers, rows[header_at + 1: header_at + 1 + max_rows])
    if path.suffix.lower() in (".tsv", ".txt", ".dat") and delimiter == ",":
        notes.append(f"a {path.suffix} file split on ','; check the delimiter")
    return SampleFile(path, "csv", headers, sample, max(0, len(rows) - header_at - 1),
                      encoding=encoding, ascii_only=data.isascii(), delimiter=delimiter,
                      header_row=header_at + 1, notes=notes)


def _clean_headers(row: list) -> list[str]:
    headers = [str(h).strip().lstrip("\ufeff") if h is not None else "" for h in row]
    while headers and not headers[-1]:
        headers.pop()
    return headers


def _columns(headers: list[str], rows: list[list]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {h: [] for h in headers if h}
    for row in rows:
        for h, cell in zip(headers, row):
            if h and (text := as_text(cell)) is not None:
                values[h].append(text)
    return values


def as_text(value) -> str | None:
    """A cell as the text a CSV would carry; None for empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return repr(value)
    text = str(value).strip()
    return text or None


# ----------------------------------------------------------------------------- xlsx
def _read_xlsx(path: Path, max_rows: int) -> SampleFile:
    import openpyxl
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken archive
        raise SampleError(f"{path}: not a readable xlsx workbook: {exc}") from exc
    try:
        sheets = len(book.sheetnames)
        sheet = book.worksheets[0]
        rows = [list(r) for _, r in zip(range(max_rows + HEADER_SEARCH_ROWS + 1),
                                        sheet.iter_rows(values_only=True))]
    finally:
        book.close()
    header_at = detect_header_row(rows[: HEADER_SEARCH_ROWS + 50])
    headers = _clean_headers(rows[header_at] if rows else [])
    notes = [f"workbook has {sheets} sheets; only the first is read"] if sheets > 1 else []
    data_rows = rows[header_at + 1: header_at + 1 + max_rows]
    return SampleFile(path, "xlsx", headers, _columns(headers, data_rows), len(data_rows),
                      header_row=header_at + 1, notes=notes)


# ----------------------------------------------------------------------------- json lines
def _read_jsonl(path: Path, max_rows: int) -> SampleFile:
    with path.open("rb") as fh:
        data = fh.read(TEXT_BYTES)
    text = data.decode("utf-8-sig", errors="replace")
    if text.lstrip().startswith("["):
        raise SampleError(f"{path}: a JSON array; deliveries in JSON must be JSON lines (one object a line)")
    records, bad = [], 0
    for line in text.splitlines()[: max_rows + 1]:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            bad += 1  # a truncated last line is a delivery defect, not a format question
            continue
        if isinstance(record, dict):
            records.append(record)
    if not records:
        raise SampleError(f"{path}: no JSON object lines found")
    headers = list(dict.fromkeys(k for r in records for k in r))
    values = {h: [t for r in records if (t := as_text(r.get(h))) is not None] for h in headers}
    notes = [f"{bad} line(s) are not valid JSON"] if bad else []
    return SampleFile(path, "jsonl", headers, values, len(records), notes=notes)


# ----------------------------------------------------------------------------- parquet
def _read_parquet(path: Path, max_rows: int) -> SampleFile:
    import pyarrow.parquet as pq
    try:
        pfile = pq.ParquetFile(path)
    except Exception as exc:
        raise SampleError(f"{path}: not a readable parquet file: {exc}") from exc
    headers = list(pfile.schema_arrow.names)
    records: list[dict] = []
    for batch in pfile.iter_batches(batch_size=max_rows):
        records = batch.to_pylist()
        break
    values = {h: [t for r in records if (t := as_text(r.get(h))) is not None] for h in headers}
    return SampleFile(path, "parquet", headers, values, len(records))

