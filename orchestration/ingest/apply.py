"""Contract application: a file's raw strings → canonical, typed columns, or quarantine.

One pass of polars expressions per file (no Python loop per row):

1. the header is checked against the mapping version in force for the batch date: a required
   column whose native header is missing rejects the whole file (``missing_column``); a missing
   optional header leaves its column null with a warning; headers the mapping does not know are
   kept, per row, as a JSON object in ``_extra`` (and reported, with a "renamed?" hint when a
   mapped header disappeared at the same time);
2. every mapped column is parsed by its canonical type and parse rule (date style, unit, codes);
   identifiers (id numbers, credit codes) stay exactly as delivered: silver normalises them;
3. the row rules send a row to quarantine with the first rule it breaks and a reason naming
   every broken column and its value.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from orchestration.canonical import CREDIT_CODE_COLUMNS, ID_NUMBER_COLUMNS, Entity, entities
from orchestration.contracts import ColumnRule, Mapping, Table
from orchestration.ingest.readers import ROW, FileRead, json_of_record

# Row rules in precedence order: a row breaking several is filed under the first.
ROW_RULES = ("field_count", "missing_required", "unparsable_date", "unparsable_number",
             "negative_amount", "future_date")
FILE_RULES = ("missing_column", "undecodable", "unreadable_file")
# Identifiers stay exactly as delivered (silver normalises and checks them): id numbers, credit
# codes, and the columns holding either one (their type is given by a sibling column).
MIXED_IDENTIFIER_COLUMNS = {"holder_id", "payee_id", "contractor_id", "lessee_id", "owner_code"}
IDENTIFIER_COLUMNS = ID_NUMBER_COLUMNS | CREDIT_CODE_COLUMNS | MIXED_IDENTIFIER_COLUMNS
BRONZE_TYPES: dict[str, pl.DataType] = {
    "string": pl.Utf8, "date": pl.Date, "timestamp": pl.Datetime("us"), "decimal": pl.Decimal(18, 2),
    "int": pl.Int64, "float": pl.Float64, "bool": pl.Boolean,
}
EXTRA = "_extra"
DATE_EXAMPLES = {"iso": "YYYY-MM-DD", "slash": "YYYY/M/D", "compact": "YYYYMMDD",
                 "excel_serial": "days since 1899-12-30"}
_EXCEL_EPOCH_OFFSET = 25569          # days from 1899-12-30 (Excel day 0) to 1970-01-01
_EXCEL_MAX_SERIAL = 2958466          # 10000-01-01
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_TRUE = {"true", "t", "yes", "y", "1", "是"}
_FALSE = {"false", "f", "no", "n", "0", "否"}


class HeaderRejected(Exception):
    """The file's header does not fit the contract: the whole file goes to quarantine."""

    def __init__(self, rule: str, reason: str):
        super().__init__(reason)
        self.rule = rule
        self.reason = reason


@dataclass
class Applied:
    bronze: pl.DataFrame          # canonical columns (bronze types), ROW, _extra
    quarantined: pl.DataFrame     # ROW, rule, reason (raw lines are attached by the caller)
    warnings: list[str] = field(default_factory=list)


@dataclass
class HeaderPlan:
    sources: dict[str, tuple[str, str, ColumnRule]]   # canonical column -> (field, native header, rule)
    extra: list[tuple[str, str]]                       # (field, native header) kept in _extra
    warnings: list[str]


def bronze_schema(entity: Entity) -> dict[str, pl.DataType]:
    """Canonical columns of ``entity`` with their bronze types (lineage columns not included)."""
    return {c: BRONZE_TYPES[t] for c, t in entity.columns.items()}


def required_columns(table: Table) -> list[str]:
    """Columns that must hold a value: the contract's ``required`` plus the primary key."""
    return list(dict.fromkeys([*table.primary_key, *table.required]))


def declared_extra_columns(table: Table) -> set[str]:
    """Native headers the contract knows and does not need (``extra_columns``, if the schema has it)."""
    return set(getattr(table, "extra_columns", None) or [])


def plan_header(header: list[str], mapping: Mapping, table: Table, file_name: str) -> HeaderPlan:
    """Which field fills which canonical column; raises HeaderRejected for missing required headers."""
    position = {name: i for i, name in enumerate(header)}
    sources: dict[str, tuple[str, str, ColumnRule]] = {}
    missing: list[tuple[str, ColumnRule]] = []
    for native, rule in mapping.columns.items():
        if native in position:
            sources[rule.column] = (f"f{position[native]}", native, rule)
        else:
            missing.append((native, rule))
    known = set(mapping.columns) | declared_extra_columns(table)
    unknown = [h for h in header if h not in known]
    extra = [(f"f{position[h]}", h) for h in header if h not in mapping.columns]
    hint = _rename_hint(unknown)

    required = required_columns(table)
    unmapped = [c for c in required if c not in {r.column for r in mapping.columns.values()}]
    if unmapped:
        raise HeaderRejected("missing_column", (
            f"{file_name}: required column(s) {unmapped} have no native header in the contract's mapping "
            f"from_batch {mapping.from_batch}; the whole file is rejected"))
    missing_required = [(n, r) for n, r in missing if r.column in required]
    if missing_required:
        names = ", ".join(f"{n!r} (→ {r.column})" for n, r in missing_required)
        raise HeaderRejected("missing_column", (
            f"{file_name}: required header {names} is missing{hint}; the whole file is rejected. "
            f"Header found: {header}"))
    warnings = [f"{file_name}: header {n!r} (→ {r.column}) is missing{hint}: {r.column} is null for this file"
                for n, r in missing]
    if unknown:
        warnings.append(f"{file_name}: unexpected header(s) {unknown} kept in {EXTRA}")
    return HeaderPlan(sources, extra, warnings)


def _rename_hint(unknown: list[str]) -> str:
    if len(unknown) == 1:
        return f" (renamed to {unknown[0]!r}?)"
    if unknown:
        return f" (renamed to one of {unknown}?)"
    return ""


# ------------------------------------------------------------------------------------------ parsing

def _blank_to_null(s: pl.Expr) -> pl.Expr:
    return pl.when(s == "").then(None).otherwise(s)


def parse_date(s: pl.Expr, style: str) -> pl.Expr:
    """A trimmed string → Date (null when it does not parse, including impossible dates)."""
    if style == "excel_serial":
        return _excel_days(s).floor().cast(pl.Int32).cast(pl.Date)
    if style == "compact":   # chrono would read 7 digits as a date too: insist on 8 (or 14, a timestamp)
        size = s.str.len_bytes()
        eight = pl.when(size == 8).then(s).when(size == 14).then(s.str.head(8))
        return eight.str.to_date("%Y%m%d", strict=False)
    sep = "/" if style == "slash" else "-"
    day = s.str.to_date(f"%Y{sep}%m{sep}%d", strict=False)
    # A date written as a timestamp (e.g. a parquet datetime) keeps its date part.
    long = pl.when(s.str.len_bytes() > 10).then(s)
    return pl.coalesce(day, long.str.extract(rf"^(\d{{4}}{sep}\d{{1,2}}{sep}\d{{1,2}}){_TIME}$", 1)
                       .str.to_date(f"%Y{sep}%m{sep}%d", strict=False))


def parse_timestamp(s: pl.Expr, style: str) -> pl.Expr:
    """A trimmed string → Datetime(us); a bare date means midnight."""
    if style == "excel_serial":   # to the second: a serial's fraction cannot hold more
        seconds = (_excel_days(s) * 86_400).round(0).cast(pl.Int64)
        return (seconds * 1_000_000).cast(pl.Datetime("us"))
    if style == "compact":
        size = s.str.len_bytes()
        full = pl.when(size == 14).then(s).str.to_datetime("%Y%m%d%H%M%S", strict=False, time_unit="us")
        bare = pl.when(size == 8).then(s).str.to_date("%Y%m%d", strict=False)
    else:
        sep = "/" if style == "slash" else "-"
        full = (s.str.replace("T", " ", literal=True)
                .str.to_datetime(f"%Y{sep}%m{sep}%d %H:%M:%S%.f", strict=False, time_unit="us"))
        bare = s.str.to_date(f"%Y{sep}%m{sep}%d", strict=False)
    return pl.coalesce(full, bare.cast(pl.Datetime("us")))


def _excel_days(s: pl.Expr) -> pl.Expr:
    """Excel serial (days since 1899-12-30, fraction = time of day) → days since 1970-01-01."""
    serial = s.str.extract(r"^(\d+(?:\.\d+)?)$", 1).cast(pl.Float64, strict=False)
    valid = (serial >= 1) & (serial < _EXCEL_MAX_SERIAL)
    return pl.when(valid).then(serial - _EXCEL_EPOCH_OFFSET).otherwise(None)


def parse_decimal(s: pl.Expr, unit: str) -> pl.Expr:
    """Yuan as written (rounded half-even to 2 dp) or integer fen ÷ 100, exactly, as Decimal(18,2)."""
    if unit == "fen":
        return (parse_int(s).cast(pl.Decimal(38, 2)) / 100).cast(pl.Decimal(18, 2), strict=False)
    return s.cast(pl.Decimal(38, 10), strict=False).round(2).cast(pl.Decimal(18, 2), strict=False)


def parse_int(s: pl.Expr) -> pl.Expr:
    """Integer text ("12", "+12", "-5"); "12.0" is not an integer (readers render integral floats as "12")."""
    return s.cast(pl.Int64, strict=False)


def parse_bool(s: pl.Expr) -> pl.Expr:
    lower = s.str.to_lowercase()
    return (pl.when(lower.is_in(list(_TRUE))).then(True)
            .when(lower.is_in(list(_FALSE))).then(False).otherwise(None))


@dataclass
class _Check:
    rule: str
    broken: pl.Expr      # over the text and value columns; null counts as not broken
    reason: pl.Expr      # evaluated on broken rows only


@dataclass
class _Column:
    """How one canonical column is produced from one native field, and the rules it can break."""

    name: str
    text: pl.Expr                 # stage 1: the field as text (trimmed, codes applied) -> column TEXT + name
    value: pl.Expr                # stage 2: parsed from the text column -> column ``name``
    checks: list[_Check]


TEXT = "__text__"


def _column(canonical: str, ctype: str, fld: str, native: str, rule: ColumnRule, table: Table,
            batch_date: dt.date) -> _Column:
    raw = pl.col(fld)
    text_col = pl.col(TEXT + canonical)
    value_col = pl.col(canonical)
    label = f"{canonical} ({native})"
    if canonical in IDENTIFIER_COLUMNS:
        text = raw                                       # kept exactly as delivered
        blank = raw.is_null() | (raw.str.strip_chars() == "")
    else:
        text = _blank_to_null(raw.str.strip_chars())
        if rule.codes:
            text = text.replace(rule.codes)
        blank = text_col.is_null()
    checks: list[_Check] = []
    if canonical in required_columns(table):
        checks.append(_Check("missing_required", blank, pl.lit(f"{label}: required value is missing")))

    def said(what: str) -> pl.Expr:
        return pl.concat_str([pl.lit(f"{label}: '"), raw, pl.lit(f"' {what}")])

    unparsed = text_col.is_not_null() & value_col.is_null()
    if ctype in ("date", "timestamp"):
        style = rule.date_style or "iso"
        value = parse_date(text_col, style) if ctype == "date" else parse_timestamp(text_col, style)
        checks.append(_Check("unparsable_date", unparsed,
                             said(f"is not a valid {style} {ctype} ({DATE_EXAMPLES[style]})")))
    elif ctype in ("decimal", "int", "float", "bool"):
        unit = rule.unit or "yuan"
        value = {"decimal": lambda: parse_decimal(text_col, unit), "int": lambda: parse_int(text_col),
                 "float": lambda: text_col.cast(pl.Float64, strict=False), "bool": lambda: parse_bool(text_col)}[ctype]()
        what = {"decimal": f"an amount in {unit}" + (" (integer hundredths)" if unit == "fen" else ""),
                "int": "an integer", "float": "a number", "bool": "a yes/no value"}[ctype]
        checks.append(_Check("unparsable_number", unparsed, said(f"is not {what}")))
    else:
        value = text_col
    if canonical in table.non_negative and ctype in ("decimal", "int", "float"):
        checks.append(_Check("negative_amount", value_col < 0, said("is negative")))
    if canonical in table.not_after_batch and ctype in ("date", "timestamp"):
        day = value_col if ctype == "date" else value_col.dt.date()
        checks.append(_Check("future_date", day > pl.lit(batch_date), said(f"is after the batch date {batch_date}")))
    return _Column(canonical, text.alias(TEXT + canonical), value.cast(BRONZE_TYPES[ctype]).alias(canonical), checks)


def apply_contract(read: FileRead, table: Table, batch_date: dt.date, file_name: str) -> Applied:
    """Typed canonical rows for bronze and rule-breaking rows for quarantine; raises HeaderRejected."""
    entity = entities()[table.entity]
    schema = bronze_schema(entity)
    mapping = table.mapping_for(batch_date)
    if mapping is None:
        raise HeaderRejected("unreadable_file", (
            f"{file_name}: no mapping version of the contract is in force on batch date {batch_date} "
            f"(the first starts {table.mappings[0].from_batch}); the whole file is rejected"))
    if not read.header:                                  # a 0-byte or header-less file: nothing to map
        return Applied(_empty_bronze(schema), _empty_quarantined(), list(read.warnings))
    plan = plan_header(read.header, mapping, table, file_name)

    columns = [_column(c, entity.columns[c], fld, native, rule, table, batch_date)
               for c, (fld, native, rule) in plan.sources.items()]
    checks = [chk for col in columns for chk in col.checks]
    extra = (json_of_record([f for f, _ in plan.extra], [h for _, h in plan.extra]) if plan.extra
             else pl.lit(None, dtype=pl.Utf8)).alias(EXTRA)
    # Three stages, so each text and each parsed value is computed once, whatever reads it.
    staged = (read.records.with_columns([c.text for c in columns])
              .with_columns([c.value for c in columns])
              .with_columns(_first_broken(checks)))
    mapped = {c.name for c in columns}
    values = [pl.col(c) if c in mapped else pl.lit(None, dtype=t).alias(c) for c, t in schema.items()]
    if staged["rule"].null_count() == staged.height:      # the usual case: no copy through a filter
        return Applied(staged.select(*values, pl.col(ROW), extra), _empty_quarantined(),
                       [*read.warnings, *plan.warnings])
    bronze = staged.filter(pl.col("rule").is_null()).select(*values, pl.col(ROW), extra)
    broken = staged.filter(pl.col("rule").is_not_null())
    quarantined = broken.select(ROW, "rule", _all_reasons(checks))
    return Applied(bronze, quarantined, [*read.warnings, *plan.warnings])


def _first_broken(checks: list[_Check]) -> pl.Expr:
    """The first rule (by precedence) a row breaks; null for a sound row."""
    if not checks:
        return pl.lit(None, dtype=pl.Utf8).alias("rule")
    ordered = sorted(checks, key=lambda c: ROW_RULES.index(c.rule))
    return pl.coalesce([pl.when(c.broken).then(pl.lit(c.rule)) for c in ordered]).alias("rule")


def _all_reasons(checks: list[_Check]) -> pl.Expr:
    """Every broken rule's reason, joined: one line naming each column and value at fault."""
    if not checks:
        return pl.lit(None, dtype=pl.Utf8).alias("reason")
    return pl.concat_str([pl.when(c.broken.fill_null(False)).then(c.reason) for c in checks],
                         separator="; ", ignore_nulls=True).alias("reason")


def _empty_bronze(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema={**schema, ROW: pl.Int64, EXTRA: pl.Utf8})


def _empty_quarantined() -> pl.DataFrame:
    return pl.DataFrame(schema={ROW: pl.Int64, "rule": pl.Utf8, "reason": pl.Utf8})
