"""The defects of real deliveries, at low rates, in every system (world.md "Real defects").

The rule that keeps the truth exact:

- **Identifier noise** (15-digit legacy ids, full-width digits, lowercase x, stray spaces) is put
  on real rows, planted positives included: silver normalises it back, so nothing changes.
- **Duplicates** are exact repeats of a real row: silver deduplicates them.
- **Destructive defects** (null in a required field, impossible or future date, negative amount,
  wrong field count, truncated last line) and **bad check characters** are put only on EXTRA junk
  rows: copies of real rows, altered, with a fresh record id. The destructive ones are quarantined
  by the contract's rules. A row with a bad check character passes into silver, so its copy is
  also made harmless to every rule (``BAD_ID_TARGETS``): the invalid identifier joins nothing and
  the rest of the row cannot add up to anything (quantity 0, no award date, no area, ...).
- **File defects**: an empty (0-byte) file where an event system had nothing to send, one file
  whose header renamed an optional column the rules never read (schema drift), and one corrected
  re-delivery (the superseded original has wrong amounts).

Everything is drawn from generators seeded by the world seed and the system/table, so the same
seed gives the same defects. ``truth/defects.parquet`` lists each one (file, record, column).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from orchestration.canonical import CREDIT_CODE_COLUMNS, ID_NUMBER_COLUMNS, entities
from orchestration.contracts import Table
from orchestration.world.core import id_check_char, make_credit_code, to_legacy_15


@dataclass(frozen=True)
class DefectRates:
    """How often each defect occurs. Row rates are per delivered real row, file rates per file."""
    duplicate: float = 0.003          # an exact repeat of a real row
    id_noise: float = 0.01            # per identifier cell: 15-digit / full-width / lowercase x / spaces
    bad_check: float = 0.002          # a junk copy whose identifier fails its check character
    null_required: float = 0.002      # a junk copy with a required field empty
    impossible_date: float = 0.001    # a junk copy dated e.g. 2026-02-30
    future_date: float = 0.001        # a junk copy with an event date after its batch
    negative_amount: float = 0.001    # a junk copy with a negative amount
    field_count: float = 0.001        # CSV: a junk line with one field too many or too few
    truncated_line: float = 0.01      # per CSV file with data: a cut-off last line
    empty_file: float = 0.02          # per empty daily batch of an event system: 0 bytes, no header
    schema_drift: float = 0.002       # per file with data: an optional column renamed (>= 1 per world)


ROW_JUNK = ("bad_check", "null_required", "impossible_date", "future_date", "negative_amount", "field_count")
# Junk rows sort right after their source row: real row r has order 8r, its duplicate 8r+1, junk 8r+2...
SLOT = {"duplicate": 1, **{kind: 2 + k for k, kind in enumerate(ROW_JUNK)}}
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
# Identifier columns whose kind is given by a type column (person -> id_number).
MIXED_ID_COLUMNS = {"holder_id": "holder_type", "payee_id": "payee_type", "contractor_id": "contractor_type",
                    "lessee_id": "lessee_type"}
NEW_KEY = object()  # marker: give this column a fresh junk value (so the copy joins nothing)
# entity -> (column that gets an invalid identifier, other columns set so the copy cannot count
# towards any rule of models.md). Entities absent here get no bad-check copies: injury claims
# (a copy would repeat the same person and accident date) and dispositions (no identifier).
BAD_ID_TARGETS: dict[str, tuple[str, dict]] = {
    "person": ("id_number", {}), "marriage": ("person_b_id", {}), "death": ("id_number", {}),
    "public_official": ("id_number", {}), "village_cadre": ("id_number", {}),
    "company": ("legal_rep_id", {"credit_code": NEW_KEY}),
    "shareholder": ("holder_id", {"holder_type": "person"}),
    "insurance_contribution": ("id_number", {}), "pension_payment": ("recipient_id", {}),
    "subsidy_payment": ("recipient_id", {}), "vehicle": ("owner_id", {}), "property": ("owner_id", {}),
    "drug_purchase": ("supplier_code", {"quantity": 0}),            # adds nothing to a month's quantity
    "prescription": ("doctor_id", {"quantity": 0}),
    "village_project": ("contractor_id", {}),                        # its own contractor: no series
    "village_payment": ("payee_id", {}),
    "village_procurement": ("supplier_code", {"vproject_id": None}),  # counts towards no project
    "asset_lease": ("lessee_id", {"area_m2": 0.0}),                  # area 0: neither judged nor comparable
    "tender_project": ("owner_code", {"owner_type": "org", "award_date": None}),  # not awarded: not judged
    "bid": ("bidder_code", {"project_id": NEW_KEY}),                 # a project of its own
    "contract": ("technical_lead_id", {"required_onsite_days_per_month": 0, "project_id": NEW_KEY}),
    "site_attendance": ("id_number", {}),
}
# Optional columns no rule reads: the ones a drifted header may rename without changing the truth.
DRIFT_SAFE: dict[str, tuple[str, ...]] = {
    "person": ("name",), "death": ("source_ref",), "public_official": ("name", "org_name", "position", "rank"),
    "village_cadre": ("name",), "company": ("name", "reg_address"), "tender_project": ("name",),
    "bid": ("contact_name", "submitted_at"), "site_attendance": ("check_in",), "village_project": ("name",),
    "village_payment": ("payee_name", "purpose"), "village_procurement": ("item",), "asset_lease": ("asset_id",),
    "insurance_contribution": ("amount",), "injury_claim": ("diagnosis", "hospital_code"),
    "drug_purchase": ("drug_name",), "prescription": ("patient_id",), "vehicle": ("vehicle_type",),
    "property": ("area_m2", "region_code"),
}


def record_id_column(entity: str) -> str | None:
    """The entity's own record id (a one-column key that is not a person or company identifier)."""
    key = entities()[entity].key
    if len(key) == 1 and key[0] not in ID_NUMBER_COLUMNS | CREDIT_CODE_COLUMNS:
        return key[0]
    return None


class JunkIds:
    """Fresh values for junk copies, unique in the world: invalid id_numbers and credit codes
    (never issued to anyone, whatever the check character) and record ids."""

    def __init__(self) -> None:
        self.n = 0

    def _next(self) -> int:
        self.n += 1
        return self.n

    def bad_id_number(self) -> str:
        n = self._next()
        birth = dt.date(1961, 1, 1) + dt.timedelta(days=n % 14000)
        body = f"330102{birth:%Y%m%d}{900 + (n // 14000) % 100:03d}"  # sequences 900-999: never issued
        good = id_check_char(body)
        return body + "10X98765432"[("10X98765432".index(good) + 1 + n % 10) % 11]

    def bad_credit_code(self) -> str:
        code = make_credit_code("330100", 99_000_000 + self._next())
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        return code[:-1] + alphabet[(alphabet.index(code[-1]) + 7) % 31]

    def credit_code(self) -> str:
        return make_credit_code("330100", 98_000_000 + self._next())

    def record_id(self, original: str | None) -> str:
        return f"{original or 'X'}-J{self._next()}"


# --------------------------------------------------------------------------- identifier noise
def _noise_kinds(value: str) -> list[str]:
    kinds = ["fullwidth", "spaces"]
    if len(value) == 18 and value[6:8] == "19" and value[:17].isdigit():
        kinds.append("legacy_15")
    if value.endswith("X"):
        kinds.append("lowercase_x")
    return kinds


def noisy(value: str, kind: str) -> str:
    """``value`` spelled the way some sources do; normalising it gives ``value`` back."""
    if kind == "legacy_15":
        return to_legacy_15(value)
    if kind == "lowercase_x":
        return value[:-1] + "x"
    if kind == "fullwidth":
        return value.translate(FULL_WIDTH)
    return {0: f" {value}", 1: f"{value} ", 2: f"  {value} "}[len(value) % 3]


def person_id_columns(entity: str) -> list[tuple[str, str | None]]:
    """Columns that may hold an id_number: (column, type column that must say 'person' or None)."""
    cols = entities()[entity].columns
    out = [(c, None) for c in cols if c in ID_NUMBER_COLUMNS]
    return out + [(c, t) for c, t in MIXED_ID_COLUMNS.items() if c in cols]


def add_identifier_noise(rows: pl.DataFrame, entity: str, rate: float, rng: np.random.Generator) -> pl.DataFrame:
    """Respell a share of the id_number cells of real rows; ``_noise`` lists what was done."""
    notes: list[list[str]] = [[] for _ in range(rows.height)]
    updates = {}
    for col, type_col in person_id_columns(entity):
        values = rows.get_column(col).to_list()
        types = rows.get_column(type_col).to_list() if type_col else None
        hit = np.flatnonzero(rng.random(rows.height) < rate)
        if not len(hit):
            continue
        for i in hit:
            v = values[i]
            if not isinstance(v, str) or (types and types[i] != "person"):
                continue
            kinds = _noise_kinds(v)
            kind = kinds[int(rng.integers(len(kinds)))]
            values[i] = noisy(v, kind)
            notes[i].append(f"{col}:{kind}")
        updates[col] = pl.Series(col, values, dtype=pl.Utf8)
    out = rows.with_columns(**updates) if updates else rows
    return out.with_columns(_noise=pl.Series([";".join(n) or None for n in notes], dtype=pl.Utf8))


# --------------------------------------------------------------------------- junk rows
@dataclass(frozen=True)
class TableFacts:
    """What one system table allows: columns mapped in every mapping version, by role."""
    entity: str
    mapped: frozenset[str]
    required: tuple[str, ...]
    dates: tuple[str, ...]            # required or event date/timestamp columns
    event_dates: tuple[str, ...]      # not_after_batch columns
    amounts: tuple[str, ...]          # non_negative columns
    csv: bool

    @classmethod
    def of(cls, table: Table, fmt: str) -> "TableFacts":
        types = entities()[table.entity].columns
        mapped = frozenset.intersection(*(frozenset(r.column for r in m.columns.values()) for m in table.mappings))
        pick = lambda cols: tuple(c for c in cols if c in mapped)
        dates = pick(dict.fromkeys([*table.required, *table.not_after_batch]))
        return cls(table.entity, mapped, pick(table.required),
                   tuple(c for c in dates if types[c] in ("date", "timestamp")),
                   tuple(c for c in pick(table.not_after_batch) if types[c] in ("date", "timestamp")),
                   pick(table.non_negative), fmt == "csv")

    def applicable(self, kind: str) -> bool:
        if kind == "bad_check":
            target = BAD_ID_TARGETS.get(self.entity)
            return target is not None and target[0] in self.mapped
        return {"null_required": bool(self.required), "impossible_date": bool(self.dates),
                "future_date": bool(self.event_dates), "negative_amount": bool(self.amounts),
                "field_count": self.csv}.get(kind, False)


def _bad_identifier(column: str, row: dict, junk: JunkIds) -> str:
    type_col = MIXED_ID_COLUMNS.get(column)
    if column in CREDIT_CODE_COLUMNS or (type_col and row.get(type_col) == "company"):
        return junk.bad_credit_code()
    if column == "owner_code":  # an organisation's credit code (the copy is made an org project)
        return junk.bad_credit_code()
    return junk.bad_id_number()


def _alter(kind: str, row: dict, facts: TableFacts, rng: np.random.Generator, junk: JunkIds) -> tuple[dict, str | None]:
    """The junk copy of ``row`` for one defect kind, and the canonical column it concerns."""
    row = dict(row)
    rid = record_id_column(facts.entity)
    if rid:
        row[rid] = junk.record_id(row[rid])
    column = None
    if kind == "bad_check":
        column, settings = BAD_ID_TARGETS[facts.entity]
        for col, value in settings.items():
            if value is NEW_KEY:
                value = junk.credit_code() if col in CREDIT_CODE_COLUMNS else junk.record_id(row[col])
            row[col] = value
        row[column] = _bad_identifier(column, row, junk)
    elif kind == "null_required":
        column = facts.required[int(rng.integers(len(facts.required)))]
        row[column] = None
    elif kind == "impossible_date":
        column = facts.dates[int(rng.integers(len(facts.dates)))]  # the cell is replaced after rendering
    elif kind == "future_date":
        column = facts.event_dates[int(rng.integers(len(facts.event_dates)))]
        later = row["_batch"] + dt.timedelta(days=int(rng.integers(2, 400)))
        row[column] = dt.datetime.combine(later, dt.time(9)) if isinstance(row[column], dt.datetime) else later
    elif kind == "negative_amount":
        column = facts.amounts[int(rng.integers(len(facts.amounts)))]
        row[column] = -abs(row[column]) if row[column] else -1.0
    return row, column


def junk_rows(rows: pl.DataFrame, facts: TableFacts, rates: DefectRates, rng: np.random.Generator,
              junk: JunkIds) -> pl.DataFrame:
    """Duplicates and junk copies of the scheduled real rows (same columns plus ``_defect`` and
    ``_defect_col``; ``_order`` places each right after its source row)."""
    extra: list[dict] = []
    if rows.height:
        dup = np.flatnonzero(rng.random(rows.height) < rates.duplicate)
        chosen = {kind: np.flatnonzero(rng.random(rows.height) < getattr(rates, kind))
                  for kind in ROW_JUNK if facts.applicable(kind)}
        needed = sorted(set(dup.tolist()).union(*(set(v.tolist()) for v in chosen.values())))
        source = {i: rows.row(int(i), named=True) for i in needed}
        for i in dup:
            extra.append({**source[int(i)], "_order": source[int(i)]["_order"] + SLOT["duplicate"],
                          "_defect": "duplicate", "_defect_col": None})
        for kind, hits in chosen.items():
            for i in hits:
                row, column = _alter(kind, source[int(i)], facts, rng, junk)
                row.update(_order=row["_order"] + SLOT[kind], _defect=kind, _defect_col=column, _noise=None)
                extra.append(row)
    schema = {**rows.schema, "_defect": pl.Utf8, "_defect_col": pl.Utf8}
    return pl.DataFrame(extra, schema=schema, orient="row") if extra else pl.DataFrame(schema=schema)


# --------------------------------------------------------------------------- after rendering
def impossible_date(style: str | None, timestamp: bool) -> str:
    """A 30 February in the column's style (an Excel serial column gets it typed as text)."""
    text = {"slash": "2026/2/30", "compact": "20260230"}.get(style or "iso", "2026-02-30")
    if timestamp:
        text += {"compact": "083000"}.get(style or "iso", " 08:30:00")
    return text


def wrong_amounts(row: list, amount_positions: list[int]) -> list:
    """A row of the superseded original of a corrected re-delivery with its amounts typed in wrong (x10)."""
    out = list(row)
    for k in amount_positions:
        v = out[k]
        if isinstance(v, (int, float)):
            out[k] = v * 10
        elif isinstance(v, str) and v:
            out[k] = v + "0" if "." not in v else f"{float(v) * 10:.2f}"
    return out
