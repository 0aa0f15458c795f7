"""Source contracts: one YAML file per source system under ``orchestration/sources/<level>/<kind>/``.

A contract says how one system delivers and how its native columns map onto the canonical
entities. It is validated at load; a bad contract fails with the file, the field and the rule.
The full field reference is ``docs/contracts.md``.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from orchestration.canonical import entities
from orchestration.file_cache import FileCache
from orchestration.settings import SOURCES_DIR, state_dir
from orchestration.yaml_files import load_yaml

LEVELS = ("province", "city", "hospital")
FORMATS = ("csv", "xlsx", "jsonl", "parquet")
ENCODINGS = ("utf-8", "utf-8-sig", "gbk")
DATE_STYLES = ("iso", "slash", "compact", "excel_serial")  # 2024-03-05, 2024/3/5, 20240305, 45356
UNITS = ("yuan", "fen")
MODES = ("snapshot", "increment", "monthly_snapshot")
SYSTEM_ID = re.compile(r"^[a-z][a-z0-9_]{2,62}$")


class ContractError(ValueError):
    """A contract that cannot be used; the message names the file, the field and the rule."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnRule(_Strict):
    column: str                                  # canonical column it fills
    date_style: Literal[DATE_STYLES] | None = None  # dates and timestamps; default iso
    unit: Literal[UNITS] | None = None           # decimals (amounts); default yuan
    codes: dict[str, str] | None = None          # native value -> canonical value, e.g. 男: M


class Mapping(_Strict):
    from_batch: dt.date                          # applies to batches dated on or after this
    columns: dict[str, ColumnRule]               # native header -> rule


class Table(_Strict):
    entity: str                                  # canonical entity of canonical.yaml
    file_pattern: str                            # glob inside a batch folder, e.g. "zfmx*.csv"
    primary_key: list[str]                       # canonical columns
    required: list[str] = Field(default_factory=list)  # canonical columns that must be non-null
    personal_data: list[str] = Field(default_factory=list)  # canonical columns holding personal data
    not_after_batch: list[str] = Field(default_factory=list)  # event dates that cannot be in the future
    non_negative: list[str] = Field(default_factory=list)     # amounts that cannot be negative
    # Native columns the vendor sends that the platform does not use; kept in bronze's _extra.
    extra_columns: list[str] = Field(default_factory=list)
    mappings: list[Mapping]

    @field_validator("file_pattern")
    @classmethod
    def _pattern_inside_batch(cls, v: str) -> str:
        if "/" in v or "\\" in v or ".." in v:
            raise ValueError("must be a file name glob inside the batch folder (no '/', '\\' or '..')")
        return v

    @field_validator("mappings")
    @classmethod
    def _mappings_ordered(cls, v: list[Mapping]) -> list[Mapping]:
        if not v:
            raise ValueError("at least one mapping version is needed")
        dates = [m.from_batch for m in v]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ValueError("mapping versions must have distinct from_batch dates in ascending order")
        return v

    def mapping_for(self, batch_date: dt.date) -> Mapping | None:
        """The mapping version in force on ``batch_date`` (None before the first one)."""
        current = None
        for m in self.mappings:
            if m.from_batch <= batch_date:
                current = m
        return current


class Delivery(_Strict):
    format: Literal[FORMATS]
    encoding: Literal[ENCODINGS] = "utf-8"       # csv only
    delimiter: str = ","                         # csv only
    header_row: int = Field(1, ge=1)             # 1-based row holding the header
    mode: Literal[MODES]
    freshness_days: int = Field(1, ge=1)         # a batch older than this is a freshness warning


class Contract(_Strict):
    system_id: str
    name: str
    kind: str
    department: str
    level: Literal[LEVELS]
    region_code: str
    delivery: Delivery
    tables: dict[str, Table]                     # table name (file stem) -> table
    sensitive: bool = False                      # whole system restricted (e.g. health data)

    @field_validator("system_id")
    @classmethod
    def _system_id(cls, v: str) -> str:
        if not SYSTEM_ID.match(v):
            raise ValueError("must be lowercase letters, digits and '_' (3-63 chars), starting with a letter")
        return v

    @field_validator("region_code")
    @classmethod
    def _region(cls, v: str) -> str:
        if not re.fullmatch(r"\d{6}", v):
            raise ValueError("must be a 6-digit region code")
        return v

    @model_validator(mode="after")
    def _targets_exist(self) -> "Contract":
        known = entities()
        for tname, table in self.tables.items():
            where = f"tables.{tname}"
            ent = known.get(table.entity)
            if ent is None:
                raise ValueError(f"{where}.entity: unknown canonical entity {table.entity!r}")
            for field in ("primary_key", "required", "personal_data", "not_after_batch", "non_negative"):
                for col in getattr(table, field):
                    if col not in ent.columns:
                        raise ValueError(f"{where}.{field}: {col!r} is not a column of {table.entity}")
            for m in table.mappings:
                mwhere = f"{where}.mappings[from_batch={m.from_batch}]"
                seen: dict[str, str] = {}
                for native, rule in m.columns.items():
                    ctype = ent.columns.get(rule.column)
                    if ctype is None:
                        raise ValueError(f"{mwhere}.columns.{native}: {rule.column!r} is not a column of {table.entity}")
                    if rule.column in seen:
                        raise ValueError(f"{mwhere}.columns.{native}: {rule.column!r} is already mapped from {seen[rule.column]!r}")
                    seen[rule.column] = native
                    if rule.date_style and ctype not in ("date", "timestamp"):
                        raise ValueError(f"{mwhere}.columns.{native}: date_style on a {ctype} column")
                    if rule.unit and ctype != "decimal":
                        raise ValueError(f"{mwhere}.columns.{native}: unit on a {ctype} column")
                missing = [c for c in table.primary_key if c not in seen]
                if missing:
                    raise ValueError(f"{mwhere}: primary key column(s) {missing} are not mapped")
                if self.delivery.format not in ("csv", "xlsx") and any(
                        r.date_style == "excel_serial" for r in m.columns.values()):
                    raise ValueError(f"{mwhere}: date_style excel_serial is only for csv and xlsx deliveries")
                clash = sorted(set(table.extra_columns) & set(m.columns))
                if clash:
                    raise ValueError(f"{where}.extra_columns: {clash} are mapped native headers, not extra ones")
        self._patterns_disjoint()
        return self

    def _patterns_disjoint(self) -> None:
        # A file must belong to one table: the names a pattern stands for (``zfmx*.csv`` ->
        # zfmx.csv, zfmx-2.csv) must not match another table's pattern (e.g. ``zf*.csv``).
        for tname, table in self.tables.items():
            examples = [table.file_pattern.replace("*", ""), table.file_pattern.replace("*", "-2")]
            for other, otable in self.tables.items():
                if other != tname and any(fnmatch.fnmatchcase(e, otable.file_pattern) for e in examples):
                    raise ValueError(f"tables.{other}.file_pattern: {otable.file_pattern!r} also matches "
                                     f"the files of table {tname} ({table.file_pattern!r})")


@dataclass(frozen=True)
class LoadedContract:
    path: Path
    contract: Contract


def _format_error(path: Path, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = str(e["ctx"]["error"]) if e["type"] == "value_error" else e["msg"]
        if not loc and ": " in msg:  # whole-contract rules name their field: "tables.x.entity: ..."
            loc, msg = msg.split(": ", 1)
        lines.append(f"{path}: field {loc or '(top level)'}: {msg}")
    return "\n".join(lines)


def _read_doc(path: Path):
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML: {exc}") from exc


def load_contract(path: str | Path, parsed: FileCache | None = None) -> Contract:
    """One contract, validated. ``parsed``: YAML documents kept from earlier loads."""
    path = Path(path)
    doc = parsed.derived(str(path), path, _read_doc) if parsed else _read_doc(path)
    if not isinstance(doc, dict):
        raise ContractError(f"{path}: a contract must be a YAML mapping")
    try:
        contract = Contract.model_validate(doc)
    except ValidationError as exc:
        raise ContractError(_format_error(path, exc)) from None
    expected = path.stem
    if contract.system_id != expected:
        raise ContractError(f"{path}: field system_id: {contract.system_id!r} must equal the file name {expected!r}")
    return contract


def sources_dir() -> Path:
    """The registry folder: ``POWERTRACE_SOURCES`` or the one shipped in the package."""
    return Path(os.environ.get("POWERTRACE_SOURCES") or SOURCES_DIR)


def contract_paths(root: Path | None = None) -> list[Path]:
    root = Path(root or sources_dir())
    return sorted(p for p in root.rglob("*.yml") if not p.name.startswith("_"))


def _parsed_contracts(root: Path) -> FileCache:
    """The registry's YAML documents as last parsed, per folder, in the tool state: parsing the
    153 files took 0.26 s of every code-location load (a quarter of what the load adds to
    Dagster's import); validation still runs on every load."""
    folder = hashlib.sha256(str(Path(root).resolve()).encode()).hexdigest()[:16]
    return FileCache(state_dir() / "cache" / "contracts" / f"{folder}.pickle")


def load_registry(root: Path | None = None) -> dict[str, Contract]:
    """All contracts, keyed by system id; every error of every file is reported at once."""
    out: dict[str, Contract] = {}
    errors: list[str] = []
    root = Path(root or sources_dir())
    parsed = _parsed_contracts(root)
    for path in contract_paths(root):
        try:
            c = load_contract(path, parsed)
        except ContractError as exc:
            errors.append(str(exc))
            continue
        if c.system_id in out:
            errors.append(f"{path}: field system_id: {c.system_id!r} is declared twice")
            continue
        out[c.system_id] = c
    parsed.save()
    if errors:
        raise ContractError("invalid source contracts:\n" + "\n".join(errors))
    return out


@lru_cache(maxsize=4)
def _cached_registry(root: str) -> dict[str, Contract]:
    return load_registry(Path(root))


def registry(root: str | Path | None = None) -> dict[str, Contract]:
    """The validated registry (cached per folder)."""
    return _cached_registry(str(Path(root or sources_dir()).resolve()))
