"""Readers: one delivered file → its header and its records as raw strings.

Every reader returns a :class:`FileRead`: the native header, one Utf8 column per header position
(``f0``, ``f1``, … so odd header names never clash with internal columns), the 1-based source row
of each record, the records that are structurally broken (``field_count``) and a way to get the
raw text of any record back for quarantine. Nothing is typed or renamed here: that is the
contract's job (``apply.py``).

A file that cannot be read at all raises :class:`FileRejected` carrying every raw line it could
recover, so the caller can quarantine them all.

CSV is the bulk format, so it has a vectorised path: one polars pass reads the physical lines
(for field counts and raw text), one polars pass parses the fields. Only records starting on a
line that holds a quote character go through Python's ``csv`` module, because only a
quote-aware parser can count their fields (and join records spanning several lines).

Text formats are checked before they are loaded: a line longer than ``POWERTRACE_MAX_LINE_BYTES``
(default 1 MiB) rejects the file after a streaming scan, so one huge line cannot exhaust memory.
"""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import polars as pl

from orchestration.contracts import Delivery

ROW = "_source_row"          # 1-based line / sheet row / record number, as an editor shows it
DEFECT_SCHEMA = {ROW: pl.Int64, "raw_line": pl.Utf8, "rule": pl.Utf8, "reason": pl.Utf8}
RAW_SCHEMA = {ROW: pl.Int64, "raw_line": pl.Utf8}
BOM = b"\xef\xbb\xbf"
QUOTE = '"'
MAX_LINE_BYTES_SETTING = "POWERTRACE_MAX_LINE_BYTES"
# A record is a few hundred bytes. A far longer line is a broken or hostile file, and parsing it
# costs many times its size in memory (a 100 MB line took 1.4 GB before this limit existed).
DEFAULT_MAX_LINE_BYTES = 1 << 20
PREVIEW_BYTES = 1024          # what the quarantine keeps of a line over the limit
_CHUNK = 1 << 20


class FileRejected(Exception):
    """A file that cannot be read under its contract; every raw record goes to quarantine.

    ``raw`` holds (source row, raw line) of every record that could be recovered; a binary file
    that cannot be opened at all has one row with a null source row. ``records_counted`` is the
    number of data records the raw file holds, or None when it cannot be counted.
    """

    def __init__(self, rule: str, reason: str, raw: pl.DataFrame, records_counted: int | None):
        super().__init__(reason)
        self.rule = rule
        self.reason = reason
        self.raw = raw
        self.records_counted = records_counted


@dataclass
class FileRead:
    """What a reader found in one file, before any contract rule is applied."""

    header: list[str]                    # native header names, unique, in file order
    records: pl.DataFrame                # f0 … f{n-1} (Utf8), ROW (Int64): structurally sound records
    defects: pl.DataFrame                # DEFECT_SCHEMA: records broken before any contract rule
    records_counted: int                 # data records in the raw file (header and blank lines excluded)
    warnings: list[str] = field(default_factory=list)
    raw_text: dict[int, str] | None = None   # source row -> raw text, when the reader kept it
    raw_lines_series: pl.Series | None = None  # CSV: physical lines, index = line number - 1

    @property
    def fields(self) -> list[str]:
        return field_names(len(self.header))

    def raw_lines(self, rows: Sequence[int]) -> list[str | None]:
        """The raw text of the given records: the line itself, or a JSON rendering of the record."""
        if not rows:
            return []
        if self.raw_lines_series is not None:
            idx = pl.Series([r - 1 for r in rows], dtype=pl.Int64)
            out = self.raw_lines_series.gather(idx).to_list()
            if self.raw_text:
                out = [self.raw_text.get(r, line) for r, line in zip(rows, out)]
            return out
        if self.raw_text is not None:
            return [self.raw_text.get(r) for r in rows]
        wanted = pl.DataFrame({ROW: list(rows)}, schema={ROW: pl.Int64})
        rendered = (self.records.join(wanted, on=ROW, how="semi")
                    .select(ROW, json_of_record(self.fields, self.header).alias("raw")))
        lookup = dict(zip(rendered[ROW].to_list(), rendered["raw"].to_list()))
        return [lookup.get(r) for r in rows]

    def all_raw(self) -> pl.DataFrame:
        """Every record of the file (sound or broken) with its raw text, for a whole-file rejection."""
        rows = self.records[ROW].to_list()
        sound = pl.DataFrame({ROW: rows, "raw_line": self.raw_lines(rows)}, schema=RAW_SCHEMA)
        return pl.concat([sound, self.defects.select(list(RAW_SCHEMA))]).sort(ROW)


def field_names(n: int) -> list[str]:
    return [f"f{i}" for i in range(n)]


def json_of_record(fields: list[str], header: list[str]) -> pl.Expr:
    """A JSON object {native header: raw value} per record (the raw line of non-text formats)."""
    return pl.struct([pl.col(f).alias(h) for f, h in zip(fields, header)]).struct.json_encode()


def empty_records(n: int) -> pl.DataFrame:
    return pl.DataFrame(schema={**{f: pl.Utf8 for f in field_names(n)}, ROW: pl.Int64})


def empty_defects() -> pl.DataFrame:
    return pl.DataFrame(schema=DEFECT_SCHEMA)


def defects_frame(rows: list[tuple[int, str | None, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=DEFECT_SCHEMA, orient="row")


def unique_header(names: list[str], file_name: str) -> tuple[list[str], list[str]]:
    """Header names made unique and non-empty; the warnings say what was changed."""
    out: list[str] = []
    warnings: list[str] = []
    for i, raw in enumerate(names, start=1):
        name = (raw or "").strip().lstrip("\ufeff")
        if not name:
            name = f"column_{i}"
            warnings.append(f"{file_name}: header of column {i} is empty; kept as {name!r}")
        if name in out:
            renamed = f"{name}#{i}"
            warnings.append(f"{file_name}: header {name!r} appears twice; column {i} kept as {renamed!r}")
            name = renamed
        out.append(name)
    return out, warnings


def read_file(path: Path, delivery: Delivery, file_name: str | None = None) -> FileRead:
    """Read one delivered file in the contract's format; raises FileRejected if it cannot be read."""
    name = file_name or path.name
    reader = {"csv": read_csv, "xlsx": read_xlsx, "jsonl": read_jsonl, "parquet": read_parquet}[delivery.format]
    limit = max_line_bytes()    # outside the try: a bad setting is an error of the run, not of the file
    try:
        if delivery.format in ("csv", "jsonl"):
            header_row = delivery.header_row if delivery.format == "csv" else 0
            too_long = long_line_rejection(path, delivery, name, header_row, limit)
            if too_long:
                raise too_long
        return reader(path, delivery, name)
    except FileRejected:
        raise
    except (pl.exceptions.PolarsError, csv.Error, OSError, ValueError) as exc:
        # Input no reader rule foresaw: reject the file, naming the error, rather than stop the run.
        rej = unreadable(name, f"cannot be read as {delivery.format} ({type(exc).__name__}: {exc})")
        if delivery.format in ("csv", "jsonl"):
            rej.raw, rej.records_counted = _text_lines(path, delivery)
        raise rej from exc


def _text_lines(path: Path, delivery: Delivery, keep_header: bool = False) -> tuple[pl.DataFrame, int]:
    """Best-effort raw lines of a text file that could not be parsed (data lines after the header)."""
    if delivery.format == "csv":
        return _lines_of(path.read_bytes(), delivery.encoding, 0 if keep_header else delivery.header_row)
    return _lines_of(path.read_bytes(), "utf-8", 0)


def raw_records(path: Path, delivery: Delivery, file_name: str) -> tuple[pl.DataFrame, int | None]:
    """Every raw line of a file that is not a delivery of any table (header lines included)."""
    if delivery.format in ("csv", "jsonl"):
        limit = max_line_bytes()
        try:
            too_long = long_line_rejection(path, delivery, file_name, 0, limit)
            if too_long:
                return too_long.raw, too_long.records_counted
            return _text_lines(path, delivery, keep_header=True)
        except OSError as exc:
            rej = unreadable(file_name, f"cannot be read ({exc})")
            return rej.raw, rej.records_counted
    try:
        read = read_file(path, delivery, file_name)
    except FileRejected as rej:
        return rej.raw, rej.records_counted
    return read.all_raw(), read.records_counted


def _lines_of(data: bytes, encoding: str, header_row: int) -> tuple[pl.DataFrame, int]:
    """(source row, text) of every non-blank line after the header, undecodable bytes replaced."""
    if data.startswith(BOM):
        data = data[len(BOM):]
    text = data.decode("utf-8" if encoding == "utf-8-sig" else encoding, errors="replace")
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    rows = [(n, ln) for n, ln in enumerate(lines, start=1) if n > header_row and ln.strip()]
    return pl.DataFrame(rows, schema=RAW_SCHEMA, orient="row"), len(rows)


def unreadable(file_name: str, why: str, rule: str = "unreadable_file") -> FileRejected:
    """A file that yields no records at all: one quarantine row without a source row."""
    reason = f"{file_name}: {why}; the whole file is rejected"
    raw = pl.DataFrame({ROW: [None], "raw_line": [None]}, schema=RAW_SCHEMA)
    return FileRejected(rule, reason, raw, None)


def read_bytes(path: Path, file_name: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise unreadable(file_name, f"cannot be read ({exc.strerror or exc})") from None


# --------------------------------------------------------------------------- over-long lines

def max_line_bytes() -> int:
    """The longest line a csv or jsonl file may hold (``POWERTRACE_MAX_LINE_BYTES``, in bytes)."""
    raw = os.environ.get(MAX_LINE_BYTES_SETTING)
    if not raw:
        return DEFAULT_MAX_LINE_BYTES
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{MAX_LINE_BYTES_SETTING}={raw!r}: must be a positive number of bytes")
    return int(raw)


def first_long_line(path: Path, limit: int) -> tuple[int, int] | None:
    """(line number, length) of the first line longer than ``limit`` bytes; reads chunk by chunk.

    Chunks are at most ``limit`` long, so a line that starts and ends inside one chunk is short:
    only the line that ends at a chunk's first newline (or runs to the end) needs measuring.
    """
    if path.stat().st_size <= limit:
        return None
    line_no, start, pos = 1, 0, 0
    with path.open("rb") as fh:
        while chunk := fh.read(min(limit, _CHUNK)):
            first = chunk.find(b"\n")
            if first >= 0:
                if pos + first - start > limit:
                    return line_no, pos + first - start
                line_no += chunk.count(b"\n")
                start = pos + chunk.rfind(b"\n") + 1
            pos += len(chunk)
    return (line_no, pos - start) if pos - start > limit else None


def bounded_lines(path: Path, keep: int) -> Iterator[tuple[int, bytes, int]]:
    """Every line as (line number, its first ``keep`` bytes, its length), in bounded memory."""
    line_no, head, length = 1, b"", 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            pieces = chunk.split(b"\n")
            for k, piece in enumerate(pieces):
                if len(head) < keep:
                    head += piece[:keep - len(head)]
                length += len(piece)
                if k < len(pieces) - 1:
                    yield line_no, head, length
                    line_no, head, length = line_no + 1, b"", 0
    if length:
        yield line_no, head, length


def long_line_rejection(path: Path, delivery: Delivery, file_name: str, header_row: int,
                        limit: int) -> FileRejected | None:
    """The whole-file rejection of a text file holding a line over ``limit`` bytes, or None.

    The file is never loaded whole: its lines are streamed into the quarantine, those over the
    limit cut to their first ``PREVIEW_BYTES`` (the landed file keeps them whole).
    """
    found = first_long_line(path, limit)
    if found is None:
        return None
    long_no, long_size = found
    encoding = "utf-8" if delivery.format == "jsonl" or delivery.encoding == "utf-8-sig" else delivery.encoding
    rows, preview = [], None
    for n, head, size in bounded_lines(path, limit):
        if n == 1 and head.startswith(BOM):
            head = head[len(BOM):]
        text = head.decode(encoding, errors="replace").rstrip("\r")
        if size > limit:
            text = (head[:PREVIEW_BYTES].decode(encoding, errors="replace")
                    + f" … [line of {size:,} bytes, cut to its first {PREVIEW_BYTES}]")
            preview = preview or text
        if n > header_row and text.strip():
            rows.append((n, text))
    reason = (f"{file_name}: line {long_no} is {long_size:,} bytes, longer than the limit of {limit:,} bytes "
              f"({MAX_LINE_BYTES_SETTING}); not read as {delivery.format}; the whole file is rejected")
    if not rows:   # only the header is too long: one row without a source row shows the rejection
        return FileRejected("unreadable_file", reason,
                            pl.DataFrame({ROW: [None], "raw_line": [preview]}, schema=RAW_SCHEMA), 0)
    return FileRejected("unreadable_file", reason, pl.DataFrame(rows, schema=RAW_SCHEMA, orient="row"), len(rows))


# ------------------------------------------------------------------------ text in another encoding

_WIDE_CHAR = re.compile("[\u0800-\uffff]")   # 3-byte UTF-8: CJK text


def _reject_nul(data: bytes, encoding: str, header_row: int, file_name: str) -> FileRejected:
    """NUL bytes never occur in csv or jsonl text: a UTF-16 export or a binary file."""
    line_no = data.count(b"\n", 0, data.index(b"\x00")) + 1
    reason = (f"{file_name}: line {line_no}: NUL bytes, so not {encoding} text (a UTF-16 or binary file?); "
              f"the whole file is rejected")
    raw, counted = _lines_of(data, encoding, header_row)
    return FileRejected("undecodable", reason, raw, counted)


def _utf8_in_gbk(data: bytes, header_row: int, file_name: str) -> FileRejected | None:
    """A gbk contract's file that is valid UTF-8 Chinese text: decoding it as gbk would not fail
    (every UTF-8 byte pair is a gbk character) but give mojibake, so it is rejected instead.
    Real gbk text is not valid UTF-8 once it holds a few Chinese characters."""
    if data.isascii():
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    wide = _WIDE_CHAR.search(text)
    if wide is None:
        return None
    line_no = text.count("\n", 0, wide.start()) + 1
    reason = (f"{file_name}: line {line_no}: the file is UTF-8 text ({text[wide.start():wide.start() + 8]!r}), "
              f"not gbk as the contract says; the whole file is rejected")
    raw, counted = _lines_of(data, "utf-8", header_row)
    return FileRejected("undecodable", reason, raw, counted)


# --------------------------------------------------------------------------------------------- CSV

_LINES_OPTIONS = dict(has_header=False, separator="\x00", quote_char=None, schema={"line": pl.Utf8},
                      truncate_ragged_lines=True, missing_columns="insert")


def _physical_lines(data: bytes) -> pl.Series:
    """Every physical line (\\r\\n or \\n ends; blank lines are null), index = line number - 1."""
    if not data:
        return pl.Series("line", [], dtype=pl.Utf8)
    return pl.read_csv(data, **_LINES_OPTIONS)["line"]


def _decode_position(data: bytes, encoding: str) -> tuple[int, bytes]:
    """(line number, offending bytes) of the first byte sequence not valid in ``encoding``."""
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        return data.count(b"\n", 0, exc.start) + 1, data[exc.start:exc.end]
    return 0, b""


def _reject_undecodable(data: bytes, encoding: str, header_row: int, file_name: str) -> FileRejected:
    line_no, bad = _decode_position(data, encoding)
    reason = (f"{file_name}: line {line_no}: bytes {bad!r} are not valid {encoding}; "
              f"the whole file is rejected")
    raw, counted = _lines_of(data, encoding, header_row)
    return FileRejected("undecodable", reason, raw, counted)


def _as_utf8(data: bytes, encoding: str, header_row: int, file_name: str) -> bytes:
    """The file's bytes as UTF-8 without BOM; GBK is transcoded. NUL bytes and invalid GBK reject
    the file; invalid UTF-8 is left to ``_decoded_lines`` (polars rejects it while splitting)."""
    if data.startswith(BOM):
        data = data[len(BOM):]
    if b"\x00" in data:
        raise _reject_nul(data, encoding, header_row, file_name)
    if encoding == "gbk":
        wrong = _utf8_in_gbk(data, header_row, file_name)
        if wrong:
            raise wrong
        try:
            return data.decode("gbk").encode("utf-8")
        except UnicodeDecodeError:
            raise _reject_undecodable(data, "gbk", header_row, file_name) from None
    return data


def _decoded_lines(raw: bytes, data: bytes, encoding: str, header_row: int, file_name: str) -> pl.Series:
    """``_physical_lines`` of ``data`` (``_as_utf8`` of ``raw``); bytes that are not UTF-8 reject
    the file, the reason naming the line as delivered in ``encoding``."""
    try:
        return _physical_lines(data)
    except pl.exceptions.ComputeError as exc:
        if "utf" in str(exc).lower():
            raise _reject_undecodable(raw, encoding, header_row, file_name) from None
        raise


def _split_one(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=QUOTE))


@dataclass
class _QuotedRecords:
    """Records whose lines hold a quote character, parsed by Python's csv module."""

    rows: list[list[str | None]]                      # [source_row, f0, f1, ...]
    defects: list[tuple[int, str | None, str, str]]
    text: dict[int, str]                              # source row -> raw text (multi-line records)
    lines_used: set[int]                              # 0-based data line indexes they cover
    count: int


def _quoted_records(data_lines: pl.Series, first_row: int, n: int, delimiter: str,
                    ends_with_newline: bool) -> _QuotedRecords:
    """Parse, with Python's csv module, the records starting on a line that holds a quote.

    The csv reader pulls continuation lines itself while a quoted field is open, with the usual
    CSV rules (a quote inside an unquoted field is a plain character), and tells how many lines
    it used: that is how a record spanning lines keeps the line number it starts on. One reader
    runs on while the next record also starts on a quoted line (a vendor that quotes everything).
    """
    has_quote = data_lines.str.contains(QUOTE, literal=True).fill_null(False)
    starts = has_quote.arg_true().to_list()
    quoted_line = has_quote.to_list()
    lines = [ln or "" for ln in data_lines.to_list()]
    total = len(lines)
    out = _QuotedRecords([], [], {}, set(), 0)
    next_free = 0                                        # first line not yet part of a parsed record
    for begin in starts:
        if begin < next_free:
            continue                                    # a continuation line of the record above
        reader = csv.reader((lines[k] + "\n" for k in range(begin, total)), delimiter=delimiter, quotechar=QUOTE)
        i = begin
        while True:
            fields = next(reader)
            j = begin + reader.line_num                 # first line after this record
            _quoted_record(out, lines, i, j, fields, first_row, n, ends_with_newline)
            i = next_free = j
            if j >= total or not quoted_line[j]:
                break
    return out


def _quoted_record(out: _QuotedRecords, lines: list[str], i: int, j: int, fields: list[str], first_row: int,
                   n: int, ends_with_newline: bool) -> None:
    """File one csv-parsed record (lines i..j-1) as sound or as a field_count defect."""
    total = len(lines)
    row = first_row + i
    text = "\n".join(lines[i:j]) if j - i > 1 else lines[i]
    out.lines_used.update(range(i, j))
    out.count += 1
    if j - i > 1:
        out.text[row] = text
    if j == total and fields and fields[-1].endswith("\n"):
        out.defects.append((row, text, "field_count",
                            "truncated last line: a quoted field is not closed before the end of the file"))
    elif len(fields) != n:
        last = j == total and not ends_with_newline
        prefix = "truncated last line: " if last and len(fields) < n else ""
        out.defects.append((row, text, "field_count", f"{prefix}{len(fields)} fields, expected {n}"))
    else:
        out.rows.append([row, *[v if v != "" else None for v in fields]])


def is_blank(data: bytes) -> bool:
    """Only whitespace (a 0-byte file included); looks at the head first to spare a big copy."""
    return not data[:65536].strip() and not data.strip()


def _blank_lines(frame: pl.DataFrame) -> pl.Series:
    """Null or whitespace-only lines: not records. Only delimiter-free lines can be blank."""
    blank = frame["line"].is_null()
    candidates = frame.filter(pl.col("n") == 1, pl.col("line").is_not_null())
    spaces = candidates.filter(pl.col("line").str.strip_chars() == "")["i"]
    if spaces.len():
        blank = blank | frame["i"].is_in(spaces.implode())
    return blank.alias("blank")


def _unparsable_csv(raw: bytes, delivery: Delivery, file_name: str, why: str) -> FileRejected:
    """A CSV file the parser gave up on: rejected with every data line, as text."""
    rej = unreadable(file_name, why)
    rej.raw, rej.records_counted = _lines_of(raw, delivery.encoding, delivery.header_row)
    return rej


def read_csv(path: Path, delivery: Delivery, file_name: str) -> FileRead:
    raw = read_bytes(path, file_name)
    if is_blank(raw):
        return FileRead([], empty_records(0), empty_defects(), 0)
    data = _as_utf8(raw, delivery.encoding, delivery.header_row, file_name)
    try:
        lines = _decoded_lines(raw, data, delivery.encoding, delivery.header_row, file_name)
    except pl.exceptions.ComputeError as exc:
        raise _unparsable_csv(raw, delivery, file_name, f"not a readable CSV file ({exc})") from None

    delimiter = delivery.delimiter
    h = delivery.header_row
    if len(lines) < h:
        return FileRead([], empty_records(0), empty_defects(), 0,
                        [f"{file_name}: no header on line {h}: the file has {len(lines)} line(s)"])
    header_line = lines[h - 1]
    if header_line is None:
        raise unreadable(file_name, f"header line {h} is blank")
    header, warnings = unique_header(_split_one(header_line, delimiter)[0], file_name)
    n = len(header)
    fields = field_names(n)
    first_row = h + 1                                   # line number of the first data line
    data_lines = lines.slice(h)
    ends_with_newline = data.endswith(b"\n")

    any_quote = bool(data_lines.str.contains(QUOTE, literal=True).any())
    quoted = (_quoted_records(data_lines, first_row, n, delimiter, ends_with_newline)
              if any_quote else _QuotedRecords([], [], {}, set(), 0))

    frame = pl.DataFrame({"line": data_lines}).with_row_index("i")
    frame = frame.with_columns((pl.col("i").cast(pl.Int64) + first_row).alias(ROW),
                               (pl.col("line").str.count_matches(delimiter, literal=True) + 1).alias("n"))
    frame = frame.with_columns(_blank_lines(frame))
    simple = frame.filter(~pl.col("blank"))
    if quoted.lines_used:
        simple = simple.filter(~pl.col("i").is_in(pl.Series(sorted(quoted.lines_used), dtype=pl.UInt32).implode()))
    bad = simple.filter(pl.col("n") != n)
    good = simple.filter(pl.col("n") == n)

    schema = {f: pl.Utf8 for f in fields}
    parse = dict(has_header=False, separator=delimiter, quote_char=QUOTE, schema=schema,
                 truncate_ragged_lines=True, missing_columns="insert")
    if not any_quote:
        # Line i of the data is row i of the parse (blank lines parse as null rows): keep the sound ones.
        parsed = pl.read_csv(data, skip_lines=h, **parse) if len(data_lines) else pl.DataFrame(schema=schema)
        if parsed.height != len(data_lines):
            raise _unparsable_csv(raw, delivery, file_name,
                                  f"CSV parse found {parsed.height} records in {len(data_lines)} lines")
        sound = ~frame["blank"] & (frame["n"] == n)
        records = parsed.with_columns(frame[ROW])
        if not sound.all():
            records = records.filter(sound)
    else:
        text = good["line"].str.join("\n").item() if good.height else ""
        parsed = pl.read_csv(text.encode("utf-8"), **parse) if good.height else pl.DataFrame(schema=schema)
        records = parsed.with_columns(good[ROW])
        if quoted.rows:
            extra = pl.DataFrame(quoted.rows, schema={ROW: pl.Int64, **schema}, orient="row")
            records = pl.concat([records, extra.select(records.columns)]).sort(ROW)

    last_row = first_row + len(data_lines) - 1
    bad_rows = []
    for row, line, count in bad.select(ROW, "line", "n").iter_rows():
        prefix = "truncated last line: " if row == last_row and not ends_with_newline and count < n else ""
        bad_rows.append((row, line, "field_count", f"{prefix}{count} fields, expected {n}"))
    defects = defects_frame(sorted(bad_rows + quoted.defects))
    counted = simple.height + quoted.count
    return FileRead(header, records, defects, counted, warnings,
                    raw_text=quoted.text or None, raw_lines_series=lines)


# -------------------------------------------------------------------------------------------- XLSX
# python-calamine (Rust) reads the cells, several times faster than openpyxl. openpyxl still reads
# the workbooks where calamine would give other values than it (see _CALAMINE_DIFFERS) and those
# calamine cannot read, so that such a file's records, or its rejection and the error it names, stay
# as they were when openpyxl read every workbook.

class _NotAsOpenpyxl(Exception):
    """A workbook whose values calamine would render otherwise than openpyxl."""


# What calamine renders otherwise than openpyxl, found in the sheet and shared-string XML: error
# cells (calamine: empty, openpyxl: '#N/A') and ISO date cells (t="e", t="d"); Excel's _x00HH_
# escapes (calamine decodes them; openpyxl keeps them, and drops "x005F_" from shared strings); text
# with edge whitespace in a <t> without xml:space="preserve" (calamine trims it). Each pattern starts
# with a literal, which keeps the scan fast; trailing whitespace is found in the reversed XML.
_CALAMINE_DIFFERS = [re.compile(p) for p in (rb"""t=["'][de]["']""", rb"x00[0-9A-Fa-f]{2}_",
                                              rb"<t>[ \t\r\n]", rb":t>[ \t\r\n]")]
_TRAILING_SPACE_REVERSED = [re.compile(rb">t/<[ \t\r\n]"), re.compile(rb">t:\w+/<[ \t\r\n]")]
_UNATTRIBUTED_T = re.compile(rb"<(?:\w+:)?t>")
_SCAN_CHUNK = 16 << 20        # bytes of XML scanned at a time
_SCAN_OVERLAP = 64            # bytes a chunk repeats from the one before, so that no match is cut in two


def cell_text(value: object) -> str | None:
    """A cell or JSON value as the text a person would read; integral numbers without '.0'."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, (int, decimal.Decimal, dt.date, dt.time)):
        return str(value)
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode("utf-8")
    return str(value)


def _calamine_text(value: object) -> str | None:
    """The cell_text of a python-calamine value, spelled as that of openpyxl's value of the cell."""
    kind = type(value)
    if kind is str:                     # most cells; an empty cell is ""
        return value or None
    if kind is float and abs(value) >= _EXACT_FLOAT and value.is_integer():
        raise _NotAsOpenpyxl("an integer past 2**53")   # openpyxl kept its digits, a float may not
    if kind is dt.date:                 # a date-formatted whole number: openpyxl gave a datetime
        return f"{value.isoformat()} 00:00:00"
    return cell_text(value)


def read_xlsx(path: Path, delivery: Delivery, file_name: str) -> FileRead:
    if path.stat().st_size == 0:
        return FileRead([], empty_records(0), empty_defects(), 0)
    sheets = _calamine_sheets(path, delivery.header_row, file_name)
    if sheets is None:
        sheets = _openpyxl_sheets(path, delivery.header_row, file_name)
    (title, first), others = sheets[0], sheets[1:]
    with_data = [(t, read) for t, read in others if read.records_counted]   # empty "Sheet2"s are harmless
    if with_data:
        raise _several_sheets(file_name, title, first, with_data)
    return first


def _calamine_sheets(path: Path, header_row: int, file_name: str) -> list[tuple[str, FileRead]] | None:
    """(title, read) of every worksheet, read by python-calamine; None where openpyxl must read the file."""
    from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum  # noqa: PLC0415

    with ThreadPoolExecutor(max_workers=1) as pool:
        differs = pool.submit(_calamine_differs, path)    # scans while calamine parses: it frees the GIL
        try:
            with CalamineWorkbook.from_path(str(path)) as book:
                sheets = [(meta.name, book.get_sheet_by_name(meta.name))
                          for meta in book.sheets_metadata if meta.typ == SheetTypeEnum.WorkSheet]
        except (CalamineError, OSError):
            return None
        if differs.result():
            return None
    try:
        return [(title, _read_sheet(_rows_from_a1(sheet), header_row, file_name, _calamine_text))
                for title, sheet in sheets]
    except _NotAsOpenpyxl:
        return None


def _rows_from_a1(sheet) -> Iterator[list[object]]:
    """A calamine sheet's rows from A1 on, as openpyxl gave them, streamed.

    calamine's range starts at the first used cell: iter_rows yields the rows above it (empty), the
    columns left of it are added here, so that row numbers and column positions stay the sheet's.
    """
    rows = sheet.iter_rows()
    left = sheet.start[1] if sheet.start else 0
    return ([""] * left + row for row in rows) if left else rows


def _calamine_differs(path: Path) -> bool:
    """Whether the sheets or shared strings hold a value calamine renders otherwise than openpyxl.

    The XML is streamed in chunks. A file that cannot be scanned: True, so that openpyxl reads it
    or names the error.
    """
    try:
        with zipfile.ZipFile(path) as package:
            for item in package.infolist():
                name = item.filename.lower()
                if not ("worksheets/" in name or name.endswith("sharedstrings.xml")):
                    continue
                with package.open(item) as part:
                    tail = b""
                    while chunk := part.read(_SCAN_CHUNK):
                        xml = tail + chunk
                        if _renders_otherwise(xml):
                            return True
                        tail = xml[-_SCAN_OVERLAP:]
    except Exception:  # noqa: BLE001  (not a zip, a cut-off or corrupt part, an unknown compression...)
        return True
    return False


def _renders_otherwise(xml: bytes) -> bool:
    """Whether a piece of sheet or shared-string XML holds a value calamine renders otherwise."""
    if any(p.search(xml) for p in _CALAMINE_DIFFERS):
        return True
    reversed_xml = xml[::-1]
    for pattern in _TRAILING_SPACE_REVERSED:
        for hit in pattern.finditer(reversed_xml):
            space = len(xml) - hit.end()              # where the whitespace before </t> is in xml
            opening = xml.rfind(b"<", 0, space)       # its <t> tag: text holds no raw "<"
            if opening < 0 or _UNATTRIBUTED_T.match(xml, opening):   # (no tag: it is in the chunk before)
                return True
    return False


def _openpyxl_sheets(path: Path, header_row: int, file_name: str) -> list[tuple[str, FileRead]]:
    """(title, read) of every worksheet, read by openpyxl; raises FileRejected if it cannot read it."""
    import openpyxl  # noqa: PLC0415  (only the few workbooks calamine does not read pay for it)

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001  (zip, xml and openpyxl errors all mean "not a workbook")
        raise unreadable(file_name, f"not a readable xlsx workbook ({type(exc).__name__}: {exc})") from None
    try:
        # Rows are parsed lazily, so a corrupt sheet (e.g. cut-off XML) fails here, not at load.
        sheets = [(ws.title, _read_sheet(ws.iter_rows(values_only=True), header_row, file_name, cell_text))
                  for ws in book.worksheets]
    except Exception as exc:  # noqa: BLE001
        raise unreadable(file_name, f"not a readable xlsx workbook ({type(exc).__name__}: {exc})") from None
    finally:
        book.close()
    return sheets


def _several_sheets(file_name: str, title: str, first: FileRead, with_data: list[tuple[str, FileRead]]) -> FileRejected:
    """Records on more than one sheet: reading only the first would silently drop the others."""
    names = [t for t, _ in with_data]
    reason = (f"{file_name}: sheets {names} hold records too, besides the first sheet {title!r}; a delivery "
              f"file has one sheet (split larger batches into files); the whole file is rejected")
    # Every sheet's records, those of later sheets marked with their sheet (their rows restart at 1).
    raw = pl.concat([first.all_raw(), *[read.all_raw().with_columns(
        pl.concat_str(pl.lit(f"[sheet {t!r}] "), pl.col("raw_line")).alias("raw_line")) for t, read in with_data]])
    return FileRejected("unreadable_file", reason, raw,
                        first.records_counted + sum(read.records_counted for _, read in with_data))


def _read_sheet(rows: Iterable[Sequence[object]], header_row: int, file_name: str,
                text: Callable[[object], str | None]) -> FileRead:
    """One sheet's rows (from row 1, column A on), ``text`` spelling each cell's value."""
    warnings: list[str] = []
    header: list[str] = []
    n = 0
    kept: list[list[str | None]] = []
    numbers: list[int] = []
    defects = []
    counted = 0
    for number, values in enumerate(rows, start=1):
        if number < header_row:
            continue
        if number == header_row:
            names = [text(v) or "" for v in values]
            while names and not names[-1].strip():
                names.pop()
            header, more = unique_header(names, file_name)
            warnings += more
            n = len(header)
            continue
        # Most cells are text: spelled inline, a function call per cell would double the time.
        texts = [(v or None) if v.__class__ is str else text(v) for v in values]
        if all(t is None or not t.strip() for t in texts):
            continue
        counted += 1
        beyond = [k + 1 for k, t in enumerate(texts[n:], start=n) if t is not None]
        if beyond:
            raw = orjson.dumps(texts[:max(beyond)]).decode("utf-8")
            defects.append((number, raw, "field_count",
                            f"values beyond the last header column (in column {beyond[0]}), expected {n} fields"))
            continue
        numbers.append(number)
        kept.append(texts[:n] if len(texts) >= n else texts + [None] * (n - len(texts)))
    schema = {f: pl.Utf8 for f in field_names(n)}
    records = pl.DataFrame(kept, schema=schema, orient="row").with_columns(pl.Series(ROW, numbers, dtype=pl.Int64))
    return FileRead(header, records, defects_frame(defects), counted, warnings)


# ------------------------------------------------------------------------------------------- JSONL

_EXACT_FLOAT = 2 ** 53        # from here on a float no longer holds every integer exactly
# A JSON number (not a string) of 16 digits or more: only files holding one need the check below.
_LONG_NUMBER = re.compile(rb"[:,\[]\s*-?[0-9]{16}")


_JSONL_LINES_AT_ONCE = 100_000  # lines held as Python objects at a time (~1 KB a parsed line)


def read_jsonl(path: Path, delivery: Delivery, file_name: str) -> FileRead:
    """Every JSON object line as one record, its keys as the header (in order of first
    appearance). Lines are parsed ``_JSONL_LINES_AT_ONCE`` at a time into polars frames, and the
    raw lines are kept as one polars Series, so a file of millions of lines costs about twice
    its size in memory, not a Python dict per line."""
    raw = _as_utf8(read_bytes(path, file_name), "utf-8", 0, file_name)
    long_numbers = _LONG_NUMBER.search(raw) is not None
    ends_with_newline = raw.endswith(b"\n")
    lines = _decoded_lines(raw, raw, "utf-8", 0, file_name)
    del raw
    keys: dict[str, int] = {}
    parts: list[pl.DataFrame] = []
    defects = []
    counted = 0
    for first in range(0, len(lines), _JSONL_LINES_AT_ONCE):
        numbers, objects = [], []
        for number, line in enumerate(lines.slice(first, _JSONL_LINES_AT_ONCE).to_list(), start=first + 1):
            if line is None or not line.strip():
                continue
            counted += 1
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                truncated = number == len(lines) and not ends_with_newline
                why = "truncated last line: not a complete JSON object" if truncated else "not valid JSON"
                defects.append((number, line, "field_count", why))
                continue
            if not isinstance(obj, dict):
                defects.append((number, line, "field_count", f"a JSON {type(obj).__name__}, expected an object"))
                continue
            if long_numbers and any(isinstance(v, float) and abs(v) >= _EXACT_FLOAT for v in obj.values()):
                # orjson reads integers past 64 bits as floats: a 20-digit account number would lose
                # its last digits. Such a (rare) line is read again keeping every number's text.
                obj = json.loads(line, parse_int=str, parse_float=str)
            for k in obj:
                keys.setdefault(k, len(keys))
            numbers.append(number)
            objects.append(obj)
        # columns named by key position, so that a key first seen in a later part lines up
        columns = {f"k{i}": [cell_text(obj.get(k)) for obj in objects] for k, i in keys.items()}
        parts.append(pl.DataFrame({**columns, ROW: numbers},
                                  schema={**{c: pl.Utf8 for c in columns}, ROW: pl.Int64}))
    header, warnings = unique_header(list(keys), file_name)
    fields = field_names(len(header))
    by_position = pl.concat(parts, how="diagonal") if parts else pl.DataFrame(schema={ROW: pl.Int64})
    records = by_position.select(*(pl.col(f"k{i}").alias(f) if f"k{i}" in by_position.columns
                                   else pl.lit(None, dtype=pl.Utf8).alias(f) for i, f in enumerate(fields)),
                                 pl.col(ROW))
    return FileRead(header, records, defects_frame(defects), counted, warnings, raw_lines_series=lines)


# ----------------------------------------------------------------------------------------- Parquet

def _as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if dtype == pl.Utf8:
        return pl.when(col == "").then(None).otherwise(col)
    if dtype.is_float():
        return pl.when(col == col.round(0)).then(col.cast(pl.Int64, strict=False).cast(pl.Utf8)).otherwise(col.cast(pl.Utf8))
    if isinstance(dtype, pl.Datetime):
        return col.dt.to_string("%Y-%m-%d %H:%M:%S%.f")
    if isinstance(dtype, (pl.Struct, pl.List, pl.Array)):
        return pl.struct(col.alias("v")).struct.json_encode().str.slice(5).str.head(-1)
    if dtype == pl.Binary:
        return col.bin.encode("hex")
    return col.cast(pl.Utf8)


def read_parquet(path: Path, delivery: Delivery, file_name: str) -> FileRead:
    if path.stat().st_size == 0:
        return FileRead([], empty_records(0), empty_defects(), 0)
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # noqa: BLE001  (any arrow/polars error means "not a parquet file")
        raise unreadable(file_name, f"not a readable parquet file ({type(exc).__name__}: {exc})") from None
    header, warnings = unique_header(frame.columns, file_name)
    fields = field_names(len(header))
    records = frame.select([_as_text(c, frame.schema[c]).alias(f) for c, f in zip(frame.columns, fields)])
    records = records.with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(ROW))
    return FileRead(header, records, empty_defects(), frame.height, warnings)
