"""Clean canonical rows -> each system's native deliveries.

Three steps, one section each:

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
3. **Files** (``write_file``): CSV (utf-8, utf-8-sig, gbk; optional title lines above the header),
   XLSX (xlsxwriter, split at ``XLSX_MAX_ROWS`` data rows), JSON lines or Parquet, named from the
   table's ``file_pattern``. Writers return bytes: identical input gives identical bytes.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from orchestration.canonical import entities
from orchestration.contracts import Contract, Mapping, Table
from orchestration.world import defects as D
from orchestration.world.core import BACKFILL_DATE, GIVEN, SURNAMES, WORLD_END, WORLD_START
from orchestration.world.scenarios._frames import schema_of

XLSX_MAX_ROWS = 1_000_000            # data rows per XLSX file; larger batches are split (-1, -2, ...)
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
             bid_days: dict[str, dt.date] | None = None) -> pl.DataFrame:
    """Every delivered version of the rows of one system table: the rows with ``_row`` (position in
    ``frame``) and ``_batch`` (its batch date), sorted by batch then row. Undelivered rows are absent."""
    df = frame.with_row_index("_row").with_columns(_start=_not_before(entity, table, bid_days))
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
    for col in native_columns(table, mapping):
        if col.column is None:
            drawn = extra_values(col.header, int(source.max()) + 1 if len(source) else 0, rng)
            exprs.append(pl.Series(col.header, [drawn[int(k)] for k in source], dtype=pl.Utf8))
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


@dataclass
class FileRows:
    """One file's content before serialisation: header and native values, row by row."""
    headers: list[str]
    rows: list[list]                  # native values (str/int/float/None)
    field_count: dict[int, int]       # CSV row index -> +1 (an extra field) or -1 (one missing)
    truncated_tail: bool = False      # CSV: the last line is cut short (and has no line end)
    types: list[pl.DataType] | None = None  # Parquet column types (else inferred from the values)


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


def write_csv(content: FileRows, contract: Contract) -> tuple[bytes, int]:
    d = contract.delivery
    eol = "\r\n" if d.encoding == "gbk" else "\n"
    buf = io.StringIO()
    for line in title_lines(contract):
        buf.write(line + eol)
    writer = csv.writer(buf, delimiter=d.delimiter, lineterminator=eol, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(content.headers)
    for i, row in enumerate(content.rows):
        cells = ["" if v is None else str(v) for v in row]
        change = content.field_count.get(i)
        if change == 1:
            cells.append("多余字段")
        elif change == -1:
            cells = cells[:-1]
        writer.writerow(cells)
    records = len(content.rows)
    text = buf.getvalue()
    if content.truncated_tail and content.rows:
        # The last line again, cut in the middle of its fields: fewer fields and no line end.
        line = io.StringIO()
        csv.writer(line, delimiter=d.delimiter, lineterminator="").writerow(
            ["" if v is None else str(v) for v in content.rows[-1]])
        full = line.getvalue()
        cuts = [i for i, ch in enumerate(full) if ch == d.delimiter]
        keep = cuts[len(cuts) // 2] + 2 if cuts else max(1, len(full) // 2)
        text += full[:keep]
        records += 1
    return text.encode(d.encoding), records


def write_xlsx(content: FileRows, contract: Contract) -> tuple[bytes, int]:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "constant_memory": True, "strings_to_numbers": False,
                                     "strings_to_formulas": False, "strings_to_urls": False})
    book.set_properties({"created": XLSX_CREATED, "author": contract.department})
    sheet = book.add_worksheet("Sheet1")
    r = 0
    for line in title_lines(contract):
        if line:
            sheet.write_string(r, 0, line)
        r += 1
    for c, h in enumerate(content.headers):
        sheet.write_string(r, c, h)
    for row in content.rows:
        r += 1
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, str):
                sheet.write_string(r, c, v)
            elif isinstance(v, bool):
                sheet.write_boolean(r, c, v)
            else:
                sheet.write_number(r, c, v)
    book.close()
    return buf.getvalue(), len(content.rows)


def write_jsonl(content: FileRows, contract: Contract) -> tuple[bytes, int]:
    lines = [json.dumps(dict(zip(content.headers, row)), ensure_ascii=False) for row in content.rows]
    return "".join(line + "\n" for line in lines).encode("utf-8"), len(lines)


def write_parquet(content: FileRows, contract: Contract) -> tuple[bytes, int]:
    columns = {}
    for k, header in enumerate(content.headers):
        values = [row[k] for row in content.rows]
        dtype = content.types[k] if content.types else pl.Utf8
        if dtype == pl.Utf8:
            values = [None if v is None else str(v) for v in values]
        columns[header] = pl.Series(header, values, dtype=dtype)
    buf = io.BytesIO()
    pl.DataFrame(columns).write_parquet(buf, compression="zstd", statistics=True)
    return buf.getvalue(), len(content.rows)


WRITERS = {"csv": write_csv, "xlsx": write_xlsx, "jsonl": write_jsonl, "parquet": write_parquet}


def write_file(content: FileRows, contract: Contract) -> tuple[bytes, int]:
    """The file's bytes and its data record count (header excluded)."""
    return WRITERS[contract.delivery.format](content, contract)


def split_for_format(content: FileRows, fmt: str) -> list[FileRows]:
    """XLSX batches over ``XLSX_MAX_ROWS`` data rows become several files; others stay whole."""
    if fmt != "xlsx" or len(content.rows) <= XLSX_MAX_ROWS:
        return [content]
    return [FileRows(content.headers, content.rows[i:i + XLSX_MAX_ROWS], {}, types=content.types)
            for i in range(0, len(content.rows), XLSX_MAX_ROWS)]


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


@dataclass
class BatchRows:
    """The native rows of one batch, with what was done to each (defect kind and column, noise)."""
    rows: list[list] = field(default_factory=list)
    kinds: list[str | None] = field(default_factory=list)
    kind_cols: list[str | None] = field(default_factory=list)
    noise: list[str | None] = field(default_factory=list)

    def add(self, row: list, kind: str | None, column: str | None, noise: str | None) -> None:
        self.rows.append(row)
        self.kinds.append(kind)
        self.kind_cols.append(column)
        self.noise.append(noise)


def table_rng(seed: int, system_id: str, table_name: str) -> np.random.Generator:
    return np.random.default_rng([seed, 4, zlib.crc32(system_id.encode()), zlib.crc32(table_name.encode())])


class Deliveries:
    """Writes the landing zone system by system and keeps the manifest and the defect list."""

    def __init__(self, lake: Path, seed: int, rates: D.DefectRates, specials: Specials, junk: D.JunkIds) -> None:
        self.lake = Path(lake)
        self.seed = seed
        self.rates = rates
        self.specials = specials
        self.junk = junk
        self.manifest: list[Delivered] = []
        self.defects: list[Defect] = []
        self._made: set[Path] = set()  # batch folders already created

    def system(self, contract: Contract, frames: dict[str, pl.DataFrame], bid_days: dict[str, dt.date]) -> None:
        """Every batch of every table of one system (``frames``: its clean rows per entity)."""
        for table_name, table in contract.tables.items():
            frame = frames.get(table.entity)
            if frame is None:
                frame = pl.DataFrame(schema=schema_of(table.entity))
            self._table(contract, table_name, table, frame, bid_days)

    def _table(self, contract: Contract, table_name: str, table: Table, frame: pl.DataFrame,
               bid_days: dict[str, dt.date]) -> None:
        sid, mode, fmt = contract.system_id, contract.delivery.mode, contract.delivery.format
        rng = table_rng(self.seed, sid, table_name)
        rows = schedule(frame, table.entity, table, mode, bid_days)
        rows = D.add_identifier_noise(rows, table.entity, self.rates.id_noise, rng)
        rows = rows.with_columns(_order=pl.col("_row").cast(pl.Int64) * 8, _defect=pl.lit(None, pl.Utf8),
                                 _defect_col=pl.lit(None, pl.Utf8))
        junk = D.junk_rows(rows, D.TableFacts.of(table, fmt), self.rates, rng, self.junk)
        rows = pl.concat([rows, junk.select(rows.columns)]).sort("_batch", "_order")
        by_batch: dict[dt.date, BatchRows] = {}
        for version, mapping in enumerate(table.mappings):
            until = table.mappings[version + 1].from_batch if version + 1 < len(table.mappings) else None
            part = rows.filter(pl.col("_batch") < until) if until else rows
            if version:
                part = part.filter(pl.col("_batch") >= mapping.from_batch)
            native = native_frame(part, table, mapping, fmt, sid, rng, keep=BOOKKEEPING)
            headers = [c.header for c in native_columns(table, mapping)]
            values = native.select(headers).rows()
            days, kinds, kind_cols, notes = (native.get_column(c).to_list() for c in BOOKKEEPING)
            for day, value, kind, col, note in zip(days, values, kinds, kind_cols, notes):
                batch = by_batch.get(day) or by_batch.setdefault(day, BatchRows())
                batch.add(list(value), kind, col, note)
        for day in sorted(set(delivery_dates(mode)) | set(by_batch)):
            mapping = table.mapping_for(day) or table.mappings[0]
            self._batch(contract, table_name, table, day, native_columns(table, mapping),
                        by_batch.get(day) or BatchRows(), rng)

    def _batch(self, contract: Contract, table_name: str, table: Table, day: dt.date,
               cols: list[NativeColumn], batch: BatchRows, rng: np.random.Generator) -> None:
        """Write one batch's file(s): row defects placed, file defects applied, manifest kept."""
        sid, fmt = contract.system_id, contract.delivery.format
        headers = [c.header for c in cols]
        rows = batch.rows
        by_column = {c.column: (k, c) for k, c in enumerate(cols) if c.column}
        field_count, defects = self._row_defects(batch, by_column, rng)
        key = (sid, table_name, day)
        drift = self.specials.drift.get(key)
        if drift and drift in by_column:
            k, ncol = by_column[drift]
            headers[k] = f"{ncol.header}_1"
            defects.append((None, "schema_drift", drift, f"{ncol.header} -> {headers[k]}"))
        content = FileRows(headers, rows, field_count, types=[native_type(c) for c in cols])
        if fmt == "csv" and rows and rng.random() < self.rates.truncated_line:
            content.truncated_tail = True
            defects.append((len(rows) + 1, "truncated_line", None, None))
        parts = split_for_format(content, fmt)
        for p, part in enumerate(parts):
            name = file_name(table.file_pattern, p + 1 if len(parts) > 1 else None)
            if key in self.specials.empty and not rows:
                data, records = b"", 0
                defects.append((None, "empty_file", None, None))
            else:
                try:
                    data, records = write_file(part, contract)
                except UnicodeEncodeError as exc:
                    raise ValueError(f"{sid} {day} {name}: a value cannot be written in "
                                     f"{contract.delivery.encoding}: {exc}") from exc
            delivery = 1
            if key == self.specials.redelivery:
                amounts = [k for k, c in enumerate(cols) if c.ctype == "decimal"]
                real = [i for i, kind in enumerate(batch.kinds) if kind is None]
                original = FileRows(part.headers, D.wrong_amounts(part.rows, amounts, real, rng),
                                    part.field_count, part.truncated_tail, part.types)
                self._store(sid, day, name, *write_file(original, contract), delivery=1, superseded=True)
                defects.append((None, "corrected_redelivery", None, "the superseded original has wrong amounts"))
                delivery = 2
            self._store(sid, day, name, data, records, delivery=delivery, superseded=False)
            first = p * XLSX_MAX_ROWS
            for record, kind, col, detail in defects:
                if record is None or first < record <= first + len(part.rows) + (1 if part.truncated_tail else 0):
                    self.defects.append(Defect(sid, day, name, None if record is None else record - first,
                                               kind, col, detail))

    @staticmethod
    def _row_defects(batch: BatchRows, by_column: dict[str, tuple[int, NativeColumn]], rng: np.random.Generator,
                     ) -> tuple[dict[int, int], list[tuple[int | None, str, str | None, str | None]]]:
        """Put the defects that only exist natively (30 February, wrong field counts) into the
        rows, and list every row defect as (record, defect, column, detail)."""
        field_count: dict[int, int] = {}
        defects: list[tuple[int | None, str, str | None, str | None]] = []
        for i, (kind, col, note) in enumerate(zip(batch.kinds, batch.kind_cols, batch.noise)):
            if kind == "impossible_date":
                k, ncol = by_column[col]
                batch.rows[i][k] = D.impossible_date(ncol.date_style, ncol.ctype == "timestamp")
            elif kind == "field_count":
                field_count[i] = 1 if rng.random() < 0.5 else -1
            if kind:
                defects.append((i + 1, kind, col, None))
            for entry in (note.split(";") if note else []):
                column, noise_kind = entry.split(":")
                defects.append((i + 1, "id_noise", column, noise_kind))
        return field_count, defects

    def _store(self, system_id: str, day: dt.date, name: str, data: bytes, records: int, *,
               delivery: int, superseded: bool) -> None:
        zone = ("truth", "superseded") if superseded else ("landing",)
        relative = "/".join([*zone, system_id, day.isoformat(), name])
        target = self.lake / relative
        if target.parent not in self._made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(target.parent)
        target.write_bytes(data)
        self.manifest.append(Delivered(system_id, day, name, relative, records,
                                       hashlib.sha256(data).hexdigest(), delivery, superseded))
