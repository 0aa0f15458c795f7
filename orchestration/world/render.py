"""Clean canonical rows -> each system's native deliveries.

Four steps, one section each:

1. **When** a row is delivered (``schedule``): its batch date comes from the entity's event date
   (an appearance date; see ``APPEARS``). Everything dated up to ``BACKFILL_DATE`` goes into the
   initial backfill batch, later rows into the daily batch of their date, rows dated after
   ``WORLD_END`` are never delivered. Registries (``snapshot``) deliver change rows: a marriage
   dissolved during the daily range is delivered without ``dissolved_date`` first and again, with
   it, on the day it was dissolved. ``monthly_snapshot`` systems deliver every row known on the
   first of each month of the history. ``visible`` is the last delivered version of every row:
   the clean world as the platform can know it at the end, on which the truth is computed.
2. **How** it looks (``native_frame``): the mapping version in force for the batch date gives the
   native headers (in its order) and per column the date style, the unit and the code values;
   ``extra_columns`` carry plausible vendor junk.
3. **Files** (``FileWriter``): CSV (utf-8, utf-8-sig, gbk; optional title lines above the
   header), XLSX (xlsxwriter in constant-memory mode, split at ``XLSX_MAX_ROWS`` data rows), JSON
   lines or Parquet (a row group per chunk), named from the table's ``file_pattern``. Identical
   input in identical chunks gives identical bytes.
4. **Deliveries** (``Deliveries``): a system table's rows are read from the row store in chunks of
   at most ``CHUNK_ROWS``; each chunk is scheduled, given noise and junk rows, rendered and
   appended to the open files of its batches (``BatchFile``), so no batch is ever held whole.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import xlsxwriter

from orchestration.canonical import entities
from orchestration.contracts import Contract, Mapping, Table
from orchestration.world import defects as D
from orchestration.world.core import BACKFILL_DATE, GIVEN, SURNAMES, WORLD_END, WORLD_START
from orchestration.world.store import RowStore

XLSX_MAX_ROWS = 1_000_000            # data rows per XLSX file; larger batches are split (-1, -2, ...)
CHUNK_ROWS = 50_000                  # store rows rendered at a time (monthly snapshots: divided by 12)
ROWS_AT_ONCE = 10_000                # native rows turned into Python values at a time
XLSX_IN_MEMORY_ROWS = 2_000          # XLSX batches up to this size are built in memory (fast)
XLSX_CREATED = dt.datetime(2026, 1, 1)  # fixed workbook creation time: same input, same bytes
EXCEL_EPOCH = dt.date(1899, 12, 30)

# --------------------------------------------------------------------------- 1. when
# The date that puts a row into a batch: the first non-null of these columns.
APPEARS: dict[str, tuple[str, ...]] = {
    "person": ("birth_date",), "marriage": ("registered_date",), "death": ("death_date",),
    "company": ("established_date",), "shareholder": ("from_date",), "public_official": ("start_date",),
    "village_cadre": ("term_start",), "vehicle": ("registered_date",), "property": ("registered_date",),
    "injury_claim": ("approved_date", "accident_date"), "drug_purchase": ("order_date",),
    "prescription": ("rx_date",), "village_project": ("approved_date",), "village_payment": ("pay_date",),
    "village_procurement": ("purchase_date",), "asset_lease": ("start_date",),
    # An event system sends a record once, when it is final: a tender project when awarded.
    "tender_project": ("award_date", "publish_date"), "contract": ("sign_date",),
    "site_attendance": ("work_date",), "disposition": ("recorded_at",),
    "bid": ("submitted_at",),  # used only when the bid's project is unknown; see PROJECT_DAY
}
# Monthly records are paid (and sent) on a fixed day of their month.
MONTH_DAY: dict[str, tuple[str, int]] = {
    "insurance_contribution": ("month", 15), "pension_payment": ("pay_month", 10),
    "subsidy_payment": ("pay_month", 5)}
# Registry columns that change after a record first appears: while in the future they are not known.
CHANGES: dict[str, tuple[str, ...]] = {
    "marriage": ("dissolved_date",), "company": ("deregistered_date",), "shareholder": ("to_date",),
    "public_official": ("end_date",), "village_cadre": ("term_end", "salaried_from")}
MONTHLY_DATES = [dt.date(y, m, 1) for y, m in
                 ((WORLD_START.year + (WORLD_START.month - 1 + k) // 12, (WORLD_START.month - 1 + k) % 12 + 1)
                  for k in range((WORLD_END.year - WORLD_START.year) * 12 + WORLD_END.month - WORLD_START.month + 1))]
DAILY_RANGE = [BACKFILL_DATE + dt.timedelta(days=k) for k in range(1, (WORLD_END - BACKFILL_DATE).days + 1)]


def delivery_dates(mode: str) -> list[dt.date]:
    """The batch dates a system always delivers (event systems: every day, even with nothing)."""
    if mode == "monthly_snapshot":
        return list(MONTHLY_DATES)
    if mode == "increment":
        return [BACKFILL_DATE, *DAILY_RANGE]
    return [BACKFILL_DATE]  # snapshot registries: the backfill, then only days with changes


def project_days(tender_projects: pl.DataFrame) -> dict[str, dt.date]:
    """A bid is sent with its project (when awarded, else when published): project_id -> day."""
    day = pl.coalesce("award_date", "publish_date")
    pairs = tender_projects.select("project_id", day.alias("day")).drop_nulls("project_id")
    return dict(zip(pairs["project_id"].to_list(), pairs["day"].to_list()))


def _appearance(entity: str, bid_days: dict[str, dt.date] | None) -> pl.Expr:
    if entity in MONTH_DAY:
        col, day = MONTH_DAY[entity]
        return (pl.col(col) + f"-{day:02d}").str.to_date("%Y-%m-%d", strict=False)
    own = pl.coalesce([pl.col(c).cast(pl.Date) for c in APPEARS[entity]])
    if entity == "bid" and bid_days:
        return pl.coalesce(pl.col("project_id").replace_strict(bid_days, default=None, return_dtype=pl.Date), own)
    return own


def _not_before(entity: str, table: Table, bid_days: dict[str, dt.date] | None) -> pl.Expr:
    """The earliest batch a row can be in: its appearance, and never before its own event dates
    (``not_after_batch``; change columns excluded, they are hidden until they happen)."""
    changes = CHANGES.get(entity, ())
    own = [pl.col(c).cast(pl.Date) for c in table.not_after_batch if c not in changes]
    return pl.max_horizontal(_appearance(entity, bid_days), *own)


def _hide_future_changes(entity: str) -> list[pl.Expr]:
    """Change columns dated after the row's batch are not known yet (company status with them)."""
    exprs = [pl.when(pl.col(c) > pl.col("_batch")).then(None).otherwise(pl.col(c)).alias(c)
             for c in CHANGES.get(entity, ())]
    if entity == "company":
        exprs.append(pl.when((pl.col("deregistered_date") > pl.col("_batch")) & (pl.col("status") == "deregistered"))
                     .then(pl.lit("active")).otherwise(pl.col("status")).alias("status"))
    return exprs


def schedule(frame: pl.DataFrame, entity: str, table: Table, mode: str,
             bid_days: dict[str, dt.date] | None = None, first_row: int = 0) -> pl.DataFrame:
    """Every delivered version of the rows of one system table: the rows with ``_row`` (position in
    the table: ``first_row`` + position in ``frame``, a chunk of it) and ``_batch`` (its batch
    date), sorted by batch then row. Undelivered rows are absent."""
    df = frame.with_row_index("_row", offset=first_row).with_columns(_start=_not_before(entity, table, bid_days))
    if mode == "monthly_snapshot":
        dates = pl.DataFrame({"_batch": MONTHLY_DATES}, schema={"_batch": pl.Date})
        df = df.join(dates, how="cross").filter(pl.col("_start").is_null() | (pl.col("_start") <= pl.col("_batch")))
    else:
        first = pl.max_horizontal(pl.col("_start").fill_null(BACKFILL_DATE), pl.lit(BACKFILL_DATE))
        if mode == "snapshot" and entity in CHANGES:
            later = [pl.when((pl.col(c) > first) & (pl.col(c) > BACKFILL_DATE)).then(pl.col(c))
                     for c in CHANGES[entity]]
            versions = pl.concat_list(first, *later).list.drop_nulls().list.unique().list.sort()
            df = df.with_columns(_batch=versions).explode("_batch")
        else:
            df = df.with_columns(_batch=first)
        df = df.filter(pl.col("_batch") <= WORLD_END)
    df = df.with_columns(_hide_future_changes(entity))
    return df.drop("_start").sort("_batch", "_row")


def visible(scheduled: pl.DataFrame, mode: str) -> pl.DataFrame:
    """The last delivered version of each row: what the platform knows after the last batch."""
    if mode == "monthly_snapshot":
        return scheduled.filter(pl.col("_batch") == MONTHLY_DATES[-1])
    return scheduled.unique("_row", keep="last", maintain_order=True)


# --------------------------------------------------------------------------- 2. how it looks
@dataclass(frozen=True)
class NativeColumn:
    header: str
    column: str | None      # canonical column; None for an extra (unused) vendor column
    ctype: str | None       # canonical type
    date_style: str | None
    unit: str | None


def native_columns(table: Table, mapping: Mapping) -> list[NativeColumn]:
    """The native header row: the mapping's columns in its order, then the extra columns."""
    types = entities()[table.entity].columns
    out = [NativeColumn(h, r.column, types[r.column], r.date_style, r.unit) for h, r in mapping.columns.items()]
    return out + [NativeColumn(h, None, None, None, None) for h in table.extra_columns]


def _timestamp_format(style: str, system_id: str) -> str:
    if style == "slash":
        return "%Y/%-m/%-d %-H:%M:%S"
    if style == "compact":
        return "%Y%m%d%H%M%S"
    # Both ISO spellings occur; which one a system uses is fixed by its id.
    return "%Y-%m-%dT%H:%M:%S" if zlib.crc32(system_id.encode()) % 2 else "%Y-%m-%d %H:%M:%S"


DATE_FORMATS = {"iso": "%Y-%m-%d", "slash": "%Y/%-m/%-d", "compact": "%Y%m%d"}


def _native_expr(col: NativeColumn, codes: dict[str, str] | None, text: bool, system_id: str) -> pl.Expr:
    """One native column from its canonical column (``text``: every value as a string, for CSV)."""
    c, style = pl.col(col.column), col.date_style or "iso"
    if col.ctype == "date":
        if style == "excel_serial":
            e = (c - pl.lit(EXCEL_EPOCH)).dt.total_days()
        else:
            e = c.dt.strftime(DATE_FORMATS[style])
    elif col.ctype == "timestamp":
        if style == "excel_serial":
            e = ((c - pl.lit(dt.datetime.combine(EXCEL_EPOCH, dt.time()))).dt.total_microseconds() / 86_400e6).round(8)
        else:
            e = c.dt.strftime(_timestamp_format(style, system_id))
    elif col.ctype == "decimal":
        if col.unit == "fen":
            e = (c * 100).round(0).cast(pl.Int64)
        else:
            e = c.round(2).cast(pl.Decimal(18, 2)).cast(pl.Utf8) if text else c.round(2)
    elif col.ctype == "string" and codes:
        native_of: dict[str, str] = {}
        for native, canonical in codes.items():  # codes map native -> canonical; invert, first wins
            native_of.setdefault(canonical, native)
        e = c.replace(native_of)
    else:
        e = c
    if text:
        e = e.cast(pl.Utf8)
    return e.alias(col.header)


def native_frame(rows: pl.DataFrame, table: Table, mapping: Mapping, fmt: str, system_id: str,
                 rng: np.random.Generator, keep: tuple[str, ...] = ()) -> pl.DataFrame:
    """Canonical rows -> native columns (plus the ``keep`` bookkeeping columns, unchanged)."""
    text = fmt == "csv"
    exprs = []
    # Extra columns are drawn per source row, so a duplicate repeats its original exactly.
    source = (rows.get_column("_order") // 8).to_numpy() if "_order" in rows.columns else np.arange(rows.height)
    first = int(source.min()) if len(source) else 0
    for col in native_columns(table, mapping):
        if col.column is None:
            drawn = extra_values(col.header, int(source.max()) - first + 1 if len(source) else 0, rng)
            exprs.append(pl.Series(col.header, [drawn[int(k) - first] for k in source], dtype=pl.Utf8))
        else:
            exprs.append(_native_expr(col, mapping.columns[col.header].codes, text, system_id))
    return rows.select(*exprs, *keep)


def extra_values(header: str, n: int, rng: np.random.Generator) -> list[str | None]:
    """Plausible contents of a column the platform does not use (operator, timestamps, remarks)."""
    h = header.upper()
    if any(k in h for k in ("时间", "SJ", "TIME", "_AT", "日期", "RQ")):
        base = dt.datetime(2025, 11, 1)
        return [(base + dt.timedelta(seconds=int(s))).strftime("%Y-%m-%d %H:%M:%S")
                for s in rng.integers(0, 365 * 86400, n)]
    if any(k in h for k in ("人", "XM", "NAME", "员", "OPERATOR", "USER")):
        return [SURNAMES[int(a)] + GIVEN[int(b)] for a, b in zip(rng.integers(len(SURNAMES), size=n),
                                                                  rng.integers(len(GIVEN), size=n))]
    if any(k in h for k in ("状态", "ZT", "STATUS", "FLAG", "BZ_")):
        return [str(int(v)) for v in rng.integers(0, 2, n)]
    return [None if r < 0.8 else "无" for r in rng.random(n)]


# --------------------------------------------------------------------------- 3. files
def file_name(pattern: str, part: int | None = None) -> str:
    """The delivered name for a table's glob: ``zfmx*.csv`` -> ``zfmx.csv`` (part 2: ``zfmx-2.csv``)."""
    tail = "" if part is None else f"-{part}"
    if "*" in pattern:
        return pattern.replace("*", tail, 1).replace("*", "")
    stem, dot, ext = pattern.rpartition(".")
    return f"{stem}{tail}.{ext}" if dot else pattern + tail


def native_type(col: NativeColumn) -> pl.DataType:
    """The type a typed format (Parquet) gives a native column: numbers stay numbers."""
    if col.ctype == "decimal":
        return pl.Int64 if col.unit == "fen" else pl.Float64
    if col.ctype in ("int", "float", "bool"):
        return {"int": pl.Int64, "float": pl.Float64, "bool": pl.Boolean}[col.ctype]
    return pl.Utf8  # strings, and dates in their date style


def title_lines(contract: Contract) -> list[str]:
    """Lines above the header when ``header_row`` > 1 (an export title, then blank lines)."""
    n = contract.delivery.header_row - 1
    if n <= 0:
        return []
    title = f"{contract.department}数据导出".replace('"', "").replace(contract.delivery.delimiter, " ")
    return [title] + [""] * (n - 1)


class FileWriter:
    """One delivered file, written chunk by chunk (``write``) and finished by ``close``, which
    returns its data record count (header excluded). ``expected``: about how many rows will come."""

    def __init__(self, path: Path, contract: Contract, headers: list[str], types: list[pl.DataType],
                 expected: int = 0) -> None:
        self.path, self.contract, self.headers, self.types = path, contract, headers, types
        self.records = 0

    def write(self, rows: list[list], field_count: dict[int, int]) -> None:
        """Append rows (native values); ``field_count``: row index -> +1 (an extra field) or -1
        (one missing), CSV only."""
        raise NotImplementedError

    def close(self, truncated_tail: bool = False) -> int:
        """Finish the file; ``truncated_tail`` (CSV): the last line again, cut short, no line end."""
        raise NotImplementedError


class CsvWriter(FileWriter):
    def __init__(self, path: Path, contract: Contract, headers: list[str], types: list[pl.DataType],
                 expected: int = 0) -> None:
        super().__init__(path, contract, headers, types)
        d = contract.delivery
        self.eol = "\r\n" if d.encoding == "gbk" else "\n"
        self.encoder = codecs.getincrementalencoder(d.encoding)()  # utf-8-sig: one BOM, at the start
        self.file = path.open("wb")
        self.last: list | None = None
        self._text([[line] if line else [] for line in title_lines(contract)] + [headers], raw_titles=True)

    def _text(self, lines: list[list], raw_titles: bool = False) -> None:
        d = self.contract.delivery
        buf = io.StringIO()
        if raw_titles:  # title lines are written as they are, not as CSV records
            for line in lines[:-1]:
                buf.write((line[0] if line else "") + self.eol)
            lines = lines[-1:]
        csv.writer(buf, delimiter=d.delimiter, lineterminator=self.eol, quoting=csv.QUOTE_MINIMAL).writerows(lines)
        self.file.write(self.encoder.encode(buf.getvalue()))

    def write(self, rows: list[list], field_count: dict[int, int]) -> None:
        lines = []
        for i, row in enumerate(rows):
            cells = ["" if v is None else str(v) for v in row]
            change = field_count.get(i)
            if change == 1:
                cells.append("多余字段")
            elif change == -1:
                cells = cells[:-1]
            lines.append(cells)
        self._text(lines)
        self.records += len(rows)
        if rows:
            self.last = rows[-1]

    def close(self, truncated_tail: bool = False) -> int:
        if truncated_tail and self.last is not None:
            d = self.contract.delivery
            line = io.StringIO()
            csv.writer(line, delimiter=d.delimiter, lineterminator="").writerow(
                ["" if v is None else str(v) for v in self.last])
            full = line.getvalue()
            cuts = [i for i, ch in enumerate(full) if ch == d.delimiter]
            keep = cuts[len(cuts) // 2] + 2 if cuts else max(1, len(full) // 2)
            self.file.write(self.encoder.encode(full[:keep]))
            self.records += 1
        self.file.close()
        return self.records


class XlsxWriter(FileWriter):
    def __init__(self, path: Path, contract: Contract, headers: list[str], types: list[pl.DataType],
                 expected: int = 0) -> None:
        super().__init__(path, contract, headers, types)
        # Small workbooks are built in memory (fast); large ones row by row through temporary
        # files (constant memory, inline strings).
        self.buffer = io.BytesIO() if expected <= XLSX_IN_MEMORY_ROWS else None
        options = {"in_memory": True} if self.buffer else {"constant_memory": True}
        self.book = xlsxwriter.Workbook(self.buffer or str(path), {**options, "strings_to_numbers": False,
                                                                  "strings_to_formulas": False, "strings_to_urls": False})
        self.book.set_properties({"created": XLSX_CREATED, "author": contract.department})
        self.sheet = self.book.add_worksheet("Sheet1")
        self.row = 0
        for line in title_lines(contract):
            if line:
                self.sheet.write_string(self.row, 0, line)
            self.row += 1
        for c, h in enumerate(headers):
            self.sheet.write_string(self.row, c, h)

    def write(self, rows: list[list], field_count: dict[int, int]) -> None:
        for row in rows:
            self.row += 1
            for c, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, str):
                    self.sheet.write_string(self.row, c, v)
                elif isinstance(v, bool):
                    self.sheet.write_boolean(self.row, c, v)
                else:
                    self.sheet.write_number(self.row, c, v)
        self.records += len(rows)

    def close(self, truncated_tail: bool = False) -> int:
        self.book.close()
        if self.buffer:
            self.path.write_bytes(self.buffer.getvalue())
        return self.records


class JsonlWriter(FileWriter):
    def __init__(self, path: Path, contract: Contract, headers: list[str], types: list[pl.DataType],
                 expected: int = 0) -> None:
        super().__init__(path, contract, headers, types)
        self.file = path.open("wb")

    def write(self, rows: list[list], field_count: dict[int, int]) -> None:
        text = "".join(json.dumps(dict(zip(self.headers, row)), ensure_ascii=False) + "\n" for row in rows)
        self.file.write(text.encode("utf-8"))
        self.records += len(rows)

    def close(self, truncated_tail: bool = False) -> int:
        self.file.close()
        return self.records


class ParquetWriter(FileWriter):
    def __init__(self, path: Path, contract: Contract, headers: list[str], types: list[pl.DataType],
                 expected: int = 0) -> None:
        super().__init__(path, contract, headers, types)
        self.schema = pl.DataFrame(schema=dict(zip(headers, types))).to_arrow().schema
        self.file = pq.ParquetWriter(path, self.schema, compression="zstd", write_statistics=True)

    def write(self, rows: list[list], field_count: dict[int, int]) -> None:
        if not rows:
            return
        columns = {}
        for k, (header, dtype) in enumerate(zip(self.headers, self.types)):
            values = [row[k] for row in rows]
            if dtype == pl.Utf8:
                values = [None if v is None else str(v) for v in values]
            columns[header] = pl.Series(header, values, dtype=dtype)
        self.file.write_table(pl.DataFrame(columns).to_arrow().cast(self.schema))
        self.records += len(rows)

    def close(self, truncated_tail: bool = False) -> int:
        self.file.close()
        return self.records


WRITERS: dict[str, type[FileWriter]] = {"csv": CsvWriter, "xlsx": XlsxWriter, "jsonl": JsonlWriter,
                                        "parquet": ParquetWriter}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- 4. one system's deliveries
@dataclass(frozen=True)
class Delivered:
    """One file as the manifest lists it."""
    system_id: str
    batch_date: dt.date
    file_name: str
    path: str               # relative to the lake, '/'-separated
    records: int
    sha256: str
    delivery: int           # 1 original, 2 corrected re-delivery
    superseded: bool


@dataclass(frozen=True)
class Defect:
    """One defect put into a file (``record``: 1-based data record number; None for the file)."""
    system_id: str
    batch_date: dt.date
    file_name: str
    record: int | None
    defect: str
    column: str | None      # canonical column concerned
    detail: str | None = None


@dataclass
class Specials:
    """File defects chosen for the whole world before rendering (see ``generate.plan_specials``),
    keyed by (system_id, table name, batch date)."""
    empty: set[tuple[str, str, dt.date]]
    drift: dict[tuple[str, str, dt.date], str]       # -> canonical column whose header is renamed
    redelivery: tuple[str, str, dt.date] | None


BOOKKEEPING = ("_batch", "_defect", "_defect_col", "_noise")


CHUNK_DRAWS, REDELIVERY_DRAWS = 1, 2   # sub-streams of a table's generator


def table_rng(seed: int, system_id: str, table_name: str, *more: int) -> np.random.Generator:
    """The generator of one system table (file decisions); with ``more``, one of its sub-streams
    (``CHUNK_DRAWS``, chunk number: noise, junk and vendor columns of a chunk)."""
    return np.random.default_rng([seed, 4, zlib.crc32(system_id.encode()), zlib.crc32(table_name.encode()), *more])


def chunk_rows(mode: str) -> int:
    """Store rows per chunk: a monthly snapshot repeats each row once per month."""
    return CHUNK_ROWS // len(MONTHLY_DATES) if mode == "monthly_snapshot" else CHUNK_ROWS


class Deliveries:
    """Writes the landing zone system by system and keeps the manifest and the defect list."""

    def __init__(self, lake: Path, seed: int, rates: D.DefectRates, specials: Specials, junk: D.JunkIds) -> None:
        self.lake = Path(lake)
        self.seed = seed
        self.rates = rates
        self.specials = specials
        self.junk = junk
        self.manifest: list[Delivered] = []
        self.defects: list[Defect] = []   # of the system being written; ``system`` returns them
        self._made: set[Path] = set()  # batch folders already created

    def system(self, contract: Contract, store: RowStore, bid_days: dict[str, dt.date],
               batch_rows: dict[tuple[str, str], dict[dt.date, int]]) -> list[Defect]:
        """Every batch of every table of one system; returns the defects placed in its files."""
        self.defects = []
        for table_name, table in contract.tables.items():
            self._table(contract, table_name, table, store, bid_days, batch_rows.get((contract.system_id, table_name), {}))
        return self.defects

    def _table(self, contract: Contract, table_name: str, table: Table, store: RowStore,
               bid_days: dict[str, dt.date], real_rows: dict[dt.date, int]) -> None:
        sid, mode, fmt = contract.system_id, contract.delivery.mode, contract.delivery.format
        facts = D.TableFacts.of(table, fmt)
        batches = {day: BatchFile(self, contract, table_name, table, day, real_rows.get(day, 0))
                   for day in sorted(set(delivery_dates(mode)) | set(real_rows))}
        first_row = 0
        for k, chunk in enumerate(store.chunks(table.entity, sid, chunk_rows(mode))):
            rng = table_rng(self.seed, sid, table_name, CHUNK_DRAWS, k)
            rows = schedule(chunk, table.entity, table, mode, bid_days, first_row)
            first_row += chunk.height
            rows = D.add_identifier_noise(rows, table.entity, self.rates.id_noise, rng)
            rows = rows.with_columns(_order=pl.col("_row").cast(pl.Int64) * 8, _defect=pl.lit(None, pl.Utf8),
                                     _defect_col=pl.lit(None, pl.Utf8))
            junk = D.junk_rows(rows, facts, self.rates, rng, self.junk)
            rows = pl.concat([rows, junk.select(rows.columns)]).sort("_batch", "_order")
            for version, mapping in enumerate(table.mappings):
                until = table.mappings[version + 1].from_batch if version + 1 < len(table.mappings) else None
                part = rows.filter(pl.col("_batch") < until) if until else rows
                if version:
                    part = part.filter(pl.col("_batch") >= mapping.from_batch)
                native = native_frame(part, table, mapping, fmt, sid, rng, keep=BOOKKEEPING)
                headers = [c.header for c in native_columns(table, mapping)]
                for start in range(0, native.height, ROWS_AT_ONCE):  # rows sorted by batch: runs of a day
                    piece = native.slice(start, ROWS_AT_ONCE)
                    values = piece.select(headers).rows()
                    days, kinds, kind_cols, notes = (piece.get_column(c).to_list() for c in BOOKKEEPING)
                    first = 0
                    for i in range(1, len(days) + 1):
                        if i == len(days) or days[i] != days[first]:
                            batches[days[first]].write(values[first:i], kinds[first:i], kind_cols[first:i],
                                                       notes[first:i], rng)
                            first = i
        file_rng = table_rng(self.seed, sid, table_name)
        for day in sorted(batches):
            batches[day].close(file_rng)

    def list_file(self, system_id: str, day: dt.date, name: str, path: Path, records: int, *,
                  delivery: int, superseded: bool) -> None:
        """List a finished file in the manifest."""
        self.manifest.append(Delivered(system_id, day, name, path.relative_to(self.lake).as_posix(), records,
                                       sha256_of(path), delivery, superseded))

    def folder(self, superseded: bool, system_id: str, day: dt.date) -> Path:
        zone = ("truth", "superseded") if superseded else ("landing",)
        folder = self.lake.joinpath(*zone, system_id, day.isoformat())
        if folder not in self._made:
            folder.mkdir(parents=True, exist_ok=True)
            self._made.add(folder)
        return folder


class BatchFile:
    """One batch of one system table: its file(s) in landing, written chunk by chunk (an XLSX batch
    over ``XLSX_MAX_ROWS`` rows in parts -1, -2, ...), the superseded original when it is the
    corrected re-delivery, and the defects placed in it (record numbers within each file)."""

    def __init__(self, out: Deliveries, contract: Contract, table_name: str, table: Table, day: dt.date,
                 real_rows: int) -> None:
        self.out, self.contract, self.table, self.day = out, contract, table, day
        self.sid, self.fmt = contract.system_id, contract.delivery.format
        self.cols = native_columns(table, table.mapping_for(day) or table.mappings[0])
        self.headers = [c.header for c in self.cols]
        self.types = [native_type(c) for c in self.cols]
        self.by_column = {c.column: (k, c) for k, c in enumerate(self.cols) if c.column}
        key = (self.sid, table_name, day)
        self.file_defects: list[tuple[str, str | None, str | None]] = []
        drift = out.specials.drift.get(key)
        if drift and drift in self.by_column:
            k, ncol = self.by_column[drift]
            self.headers[k] = f"{ncol.header}_1"
            self.file_defects.append(("schema_drift", drift, f"{ncol.header} -> {self.headers[k]}"))
        self.empty = key in out.specials.empty
        self.wrong: set[int] | None = None  # real-row ordinals whose amounts the superseded original gets wrong
        if key == out.specials.redelivery:
            self.wrong = {int(i) for i in table_rng(out.seed, self.sid, table_name, REDELIVERY_DRAWS, day.toordinal())
                          .choice(real_rows, size=min(3, real_rows), replace=False)}
            self.file_defects.append(("corrected_redelivery", None, "the superseded original has wrong amounts"))
        self.amounts = [k for k, c in enumerate(self.cols) if c.ctype == "decimal"]
        self.expected = real_rows
        self.real_seen = 0
        self.parts = 0
        self.writers: list[FileWriter] = []    # landing file, then the superseded original if any
        self.row_defects: list[tuple[int, str, str | None, str | None]] = []  # of the open part

    # ------------------------------------------------------------------ parts
    def _path(self, superseded: bool, part: int | None) -> Path:
        return self.out.folder(superseded, self.sid, self.day) / file_name(self.table.file_pattern, part)

    def _open(self) -> None:
        self.parts += 1
        part = None if self.parts == 1 else self.parts   # part 1 learns its suffix only if a part 2 follows
        writer = WRITERS[self.fmt]
        self.writers = [writer(self._path(False, part), self.contract, self.headers, self.types, self.expected)]
        if self.wrong is not None:
            self.writers.append(writer(self._path(True, part), self.contract, self.headers, self.types, self.expected))
        self.row_defects = []

    def _finish(self, last: bool, truncated_tail: bool = False) -> None:
        """Close the open part; name it (suffixed unless it is the batch's only file) and list it."""
        part = None if last and self.parts == 1 else self.parts
        name = file_name(self.table.file_pattern, part)
        for superseded, writer in zip((False, True), self.writers):
            records = writer.close(truncated_tail)
            path = self._path(superseded, part)
            if writer.path != path:
                writer.path.rename(path)
            delivery = 1 if superseded or self.wrong is None else 2
            self.out.list_file(self.sid, self.day, name, path, records, delivery=delivery, superseded=superseded)
        if truncated_tail:
            self.row_defects.append((self.writers[0].records, "truncated_line", None, None))
        defects = [(None, *d) for d in self.file_defects] + self.row_defects
        self.out.defects += [Defect(self.sid, self.day, name, record, kind, col, detail)
                             for record, kind, col, detail in defects]
        self.writers = []

    # ------------------------------------------------------------------ rows
    def write(self, rows: list[list], kinds: list, kind_cols: list, noise: list, rng: np.random.Generator) -> None:
        """Append rows of this batch (native values; junk kind, its column and the identifier
        noise of each), placing the defects that only exist natively."""
        start = 0
        while start < len(rows):
            if not self.writers or (self.fmt == "xlsx" and self.writers[0].records >= XLSX_MAX_ROWS):
                if self.writers:
                    self._finish(last=False)
                self._open()
            room = XLSX_MAX_ROWS - self.writers[0].records if self.fmt == "xlsx" else len(rows)
            end = min(len(rows), start + room)
            self._write(rows[start:end], kinds[start:end], kind_cols[start:end], noise[start:end], rng)
            start = end

    def _write(self, rows: list[list], kinds: list, kind_cols: list, noise: list, rng: np.random.Generator) -> None:
        field_count: dict[int, int] = {}
        before = self.writers[0].records
        originals = []
        for i, (row, kind, col, note) in enumerate(zip(rows, kinds, kind_cols, noise)):
            row = list(row)
            rows[i] = row
            if kind == "impossible_date":
                k, ncol = self.by_column[col]
                row[k] = D.impossible_date(ncol.date_style, ncol.ctype == "timestamp")
            elif kind == "field_count":
                field_count[i] = 1 if rng.random() < 0.5 else -1
            if kind:
                self.row_defects.append((before + i + 1, kind, col, None))
            for entry in (note.split(";") if note else []):
                column, noise_kind = entry.split(":")
                self.row_defects.append((before + i + 1, "id_noise", column, noise_kind))
            if self.wrong is not None:
                wrong = kind is None and self.real_seen in self.wrong
                originals.append(D.wrong_amounts(row, self.amounts) if wrong else row)
                self.real_seen += kind is None
        try:
            self.writers[0].write(rows, field_count)
            if self.wrong is not None:
                self.writers[1].write(originals, field_count)
        except UnicodeEncodeError as exc:
            raise ValueError(f"{self.sid} {self.day} {self.writers[0].path.name}: a value cannot be written in "
                             f"{self.contract.delivery.encoding}: {exc}") from exc

    def close(self, rng: np.random.Generator) -> None:
        """Finish the batch: an empty batch is a header-only file (or, chosen, a 0-byte one); a CSV
        file with data may get a cut-off last line."""
        if not self.writers:
            if self.empty:
                path = self._path(False, None)
                path.write_bytes(b"")
                self.out.list_file(self.sid, self.day, path.name, path, 0, delivery=1, superseded=False)
                self.out.defects.append(Defect(self.sid, self.day, path.name, None, "empty_file", None))
                return
            self._open()
        truncated = self.fmt == "csv" and self.writers[0].records > 0 and rng.random() < self.out.rates.truncated_line
        self._finish(last=True, truncated_tail=truncated)
