"""Ingest one source system: its landed batches → bronze, quarantine and ledger.

One call handles any number of batch dates with one Delta commit per bronze table, one for the
quarantine and one for the ledger (the initial load of 31 batch dates is one run, not 31). The
ledger is written last: a run that dies half-way leaves its batches pending, and the next run
replaces them whole. Callers that ingest many systems in a row (a bronze asset per kind) pass a
``SharedWrites``: the quarantine and ledger rows of all of them are then committed together at
its ``commit()`` — two commits per kind instead of two per system, which is most of a daily
run's ingestion cost — and still after every bronze table they account for.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import itertools
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from orchestration.canonical import entities
from orchestration.contracts import Contract, Table
from orchestration.ingest.apply import HeaderRejected, apply_contract
from orchestration.ingest.delta import (LEDGER, QUARANTINE, SHARED_PARTITION, UTC_TIMESTAMP, bronze_table_schema,
                                        ensure_table, in_dates, replace_rows, replace_streamed)
from orchestration.ingest.landing import Batch, LandedFile, landed_batches, landed_dates, latest_landed_date
from orchestration.ingest.ledger import (Fingerprints, changed_batches, ledger_fingerprints, ledger_message,
                                         manifest_records)
from orchestration.ingest.readers import ROW, FileRead, FileRejected, raw_records, read_file, unreadable
from orchestration.settings import Zones
from orchestration.sql_quoting import sql_string

Log = Callable[[str], None]

# Records the contract is applied to at a time. Reading a file costs ~150-300 bytes a record, but
# applying the contract ~450 more (each column's text and parsed value side by side): an SF 10
# snapshot batch of 28 M records applied whole would need ~13 GiB. In slices, only the read file
# and one slice's work are held.
APPLY_SLICE_RECORDS = 1_000_000


@dataclass
class FileOutcome:
    """What happened to one delivered file: one ledger row."""

    batch_date: dt.date
    file_name: str
    table_name: str | None          # None: the file matches no table of the contract
    file_hash: str
    records_sent: int | None
    sent_from: str                  # manifest | counted
    rows_bronze: int
    rows_quarantined: int
    reconciled: bool
    message: str
    by_rule: dict[str, int] = field(default_factory=dict)
    rejected_rule: str | None = None
    rejected_reason: str | None = None


@dataclass
class TableSummary:
    files: int = 0
    records_sent: int = 0
    rows_bronze: int = 0
    rows_quarantined: int = 0
    reconciled: bool = True


@dataclass
class SystemIngestResult:
    system_id: str
    batches: list[dt.date]                               # batch dates ingested by this call
    files: list[FileOutcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)   # renamed/missing headers, skipped folders, freshness
    stale: str | None = None                             # the freshness warning, when the system is late
    latest_batch: dt.date | None = None                  # newest batch folder landed for the system

    @property
    def tables(self) -> dict[str, TableSummary]:
        out: dict[str, TableSummary] = {}
        for f in self.files:
            s = out.setdefault(f.table_name or "(no table)", TableSummary())
            s.files += 1
            s.records_sent += f.records_sent or 0
            s.rows_bronze += f.rows_bronze
            s.rows_quarantined += f.rows_quarantined
            s.reconciled &= f.reconciled
        return out

    @property
    def rejected(self) -> list[FileOutcome]:
        return [f for f in self.files if f.rejected_rule]

    @property
    def unreconciled(self) -> list[str]:
        return [f"{f.batch_date}/{f.file_name}: {f.message}" for f in self.files if not f.reconciled]

    @property
    def reconciled(self) -> bool:
        return all(f.reconciled for f in self.files)

    @property
    def rows_bronze(self) -> int:
        return sum(f.rows_bronze for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def records_sent(self) -> int:
        return sum(f.records_sent or 0 for f in self.files)

    @property
    def quarantined_by_rule(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.by_rule)
        return dict(total)

    def metadata(self) -> dict[str, object]:
        """JSON-friendly figures for a Dagster materialisation (plain values, lists and dicts)."""
        return {
            "batches_ingested": [d.isoformat() for d in self.batches],
            "latest_batch": self.latest_batch.isoformat() if self.latest_batch else "none",
            "files": len(self.files),
            "records_sent": self.records_sent,
            "rows_bronze": self.rows_bronze,
            "rows_quarantined": self.rows_quarantined,
            "quarantined_by_rule": self.quarantined_by_rule,
            "rejected_files": [f"{f.batch_date}/{f.file_name}: {f.rejected_reason}" for f in self.rejected],
            "reconciled": self.reconciled,
            "warnings": self.warnings,
        }


@dataclass
class _Run:
    """What every file of one ingest call shares."""

    contract: Contract
    lake: Path
    manifest: dict
    ingested_at: dt.datetime
    log: Log
    warnings: list[str]
    outcomes: list[FileOutcome] = field(default_factory=list)
    quarantine: list[pl.DataFrame] = field(default_factory=list)


@dataclass
class SharedWrites:
    """Quarantine and ledger rows of several ingest calls, committed together (see the module doc).
    Thread-safe: a bronze asset ingests the systems of its kind two at a time."""

    lake: Path
    predicates: list[str] = field(default_factory=list)
    quarantine: list[pl.DataFrame] = field(default_factory=list)
    ledger: list[pl.DataFrame] = field(default_factory=list)

    flush_rows: int = 500_000   # quarantined rows held before an early commit (they carry raw lines)
    _fingerprints: dict[str, Fingerprints] | None = field(default=None, repr=False)
    _served: set[str] = field(default_factory=set, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def fingerprints(self, system_id: str) -> Fingerprints:
        """What the ledger holds for the system, from one read of the ledger for all the systems
        this object serves (a read per system cost ~10 ms, 1.5 s of a daily run's 153 systems).
        Only this object's uncommitted rows are missing from that read: asked again for a
        system, it commits them and reads again."""
        with self._lock:
            if self._fingerprints is None or system_id in self._served:
                self.commit()
                self._fingerprints, self._served = ledger_fingerprints(self.lake), set()
            self._served.add(system_id)
            return self._fingerprints.get(system_id, {})

    def add(self, predicate: str, quarantined: pl.DataFrame, ledger: pl.DataFrame) -> None:
        """A system's rows, once its bronze tables are written."""
        with self._lock:
            self.predicates.append(predicate)
            self.quarantine.append(quarantined)
            self.ledger.append(ledger)
            if sum(f.height for f in self.quarantine) >= self.flush_rows:
                self.commit()

    def commit(self) -> None:
        """Replace what quarantine and ledger held for every added (system, batch dates); one commit each."""
        with self._lock:
            if not self.predicates:
                return
            where = " OR ".join(f"({p})" for p in self.predicates)
            zones = Zones(self.lake)
            replace_rows(zones.quarantine, QUARANTINE, pl.concat(self.quarantine, how="vertical_relaxed"), where)
            replace_rows(zones.ledger, LEDGER, pl.concat(self.ledger, how="vertical_relaxed"), where)
            self.predicates, self.quarantine, self.ledger = [], [], []


def ensure_tables(contract: Contract, lake: Path) -> None:
    """Every bronze table of the contract, the quarantine and the ledger exist (empty if new)."""
    zones = Zones(lake)
    for name, table in contract.tables.items():
        ensure_table(zones.bronze_table(contract.system_id, name), bronze_table_schema(entities()[table.entity]))
    ensure_table(zones.quarantine, QUARANTINE, SHARED_PARTITION)
    ensure_table(zones.ledger, LEDGER, SHARED_PARTITION)


def freshness(contract: Contract, lake: Path, as_of: dt.date) -> str | None:
    """A warning when the system's newest batch is older than its ``freshness_days`` on ``as_of``."""
    days = landed_dates(lake, contract.system_id)
    if not days:
        return f"{contract.system_id}: no batch delivered yet (freshness)"
    age = (as_of - days[-1]).days
    if age > contract.delivery.freshness_days:
        return (f"{contract.system_id}: newest batch {days[-1]} is {age} days old on {as_of} "
                f"(freshness_days {contract.delivery.freshness_days})")
    return None


def table_for(contract: Contract, file_name: str) -> tuple[str | None, list[str]]:
    """The table whose file_pattern the file matches (the first, in contract order) and all matches."""
    matches = [name for name, t in contract.tables.items() if fnmatch.fnmatchcase(file_name, t.file_pattern)]
    return (matches[0] if matches else None), matches


def ingest_system(contract: Contract, lake: Path, *, batch_dates: list[dt.date] | None = None,
                  force: bool = False, log: Log | None = None, as_of: dt.date | None = None,
                  shared: SharedWrites | None = None) -> SystemIngestResult:
    """Ingest the system's landed batches: by default those new or changed since the ledger saw them.

    ``batch_dates`` ingests exactly those dates; ``force`` re-ingests every landed batch. Each
    ingested batch replaces what bronze, quarantine and ledger held for its date. ``as_of`` is the
    day freshness is judged on (default: the newest batch date landed for any system). With
    ``shared``, quarantine and ledger rows wait for ``shared.commit()``.
    """
    lake = Path(lake)
    log = log or (lambda _msg: None)
    sid = contract.system_id
    ensure_tables(contract, lake)
    batches, warnings = landed_batches(lake, sid)
    selected = _select(batches, lake, sid, batch_dates, force, warnings, shared)
    result = SystemIngestResult(sid, [b.batch_date for b in selected], warnings=warnings,
                                latest_batch=batches[-1].batch_date if batches else None)
    if selected:
        first, last = selected[0].batch_date, selected[-1].batch_date
        log(f"{sid}: ingesting {len(selected)} batch(es) {first}" + (f" … {last}" if last != first else ""))
        run = _Run(contract, lake, manifest_records(lake, sid), dt.datetime.now(dt.timezone.utc), log, warnings)
        _write(run, selected, shared)
        result.files = run.outcomes
    result.stale = freshness(contract, lake, as_of or latest_landed_date(lake) or dt.date.today())
    if result.stale:
        warnings.append(result.stale)
    for w in warnings:
        log(f"warning: {w}")
    return result


def _select(batches: list[Batch], lake: Path, sid: str, batch_dates: list[dt.date] | None, force: bool,
            warnings: list[str], shared: SharedWrites | None) -> list[Batch]:
    if batch_dates is not None:
        wanted = set(batch_dates)
        missing = sorted(wanted - {b.batch_date for b in batches})
        if missing:
            warnings.append(f"{sid}: no batch folder in landing for {[d.isoformat() for d in missing]}; not ingested")
        return [b for b in batches if b.batch_date in wanted]
    if force:
        return list(batches)
    return changed_batches(batches, shared.fingerprints(sid) if shared else ledger_fingerprints(lake, sid).get(sid, {}))


def _write(run: _Run, selected: list[Batch], shared: SharedWrites | None) -> None:
    """Bronze (one commit per table), then quarantine, then ledger (one commit each, or in ``shared``)."""
    sid = run.contract.system_id
    dates = [b.batch_date for b in selected]
    by_table: dict[str | None, list[tuple[Batch, LandedFile]]] = {}
    for batch in selected:
        for f in batch.files:
            name, matches = table_for(run.contract, f.name)
            if len(matches) > 1:
                run.warnings.append(f"{sid} {batch.batch_date}/{f.name}: matches tables {matches}; read as {name}")
            by_table.setdefault(name, []).append((batch, f))

    for name, table in run.contract.tables.items():
        frames = itertools.chain.from_iterable(_bronze_frames(run, b, f, name, table)
                                               for b, f in by_table.get(name, []))
        replace_streamed(Zones(run.lake).bronze_table(sid, name), bronze_table_schema(entities()[table.entity]),
                         frames, in_dates("_batch_date", dates))
    for batch, f in by_table.get(None, []):
        _unmatched(run, batch, f)

    where = f"system_id = {sql_string(sid)} AND {in_dates('batch_date', dates)}"
    quarantined = pl.concat([pl.DataFrame(schema=QUARANTINE), *run.quarantine], how="vertical_relaxed")
    own = shared is None  # a call of its own commits its rows itself
    shared = SharedWrites(run.lake) if own else shared
    shared.add(where, quarantined, _ledger_rows(run))
    if own:
        shared.commit()
    done = run.outcomes
    run.log(f"{sid}: {len(done)} file(s): {sum(o.rows_bronze for o in done)} rows to bronze, "
            f"{sum(o.rows_quarantined for o in done)} quarantined")


def _bronze_frames(run: _Run, batch: Batch, f: LandedFile, table_name: str, table: Table) -> Iterator[pl.DataFrame]:
    """Read one file and apply the contract to it slice by slice (``APPLY_SLICE_RECORDS``);
    yields its bronze rows per slice. Its quarantine and ledger rows are recorded on ``run`` once
    the last slice is through, so the ledger counts the whole file."""
    read: FileRead | None = None
    size = APPLY_SLICE_RECORDS
    try:
        if f.refused:
            raise unreadable(f.name, f.refused)
        read = read_file(f.path, run.contract.delivery, f.name)
        # The header decides whether the contract applies at all: applied to no records, the
        # contract raises (or warns) before any row is yielded, so a rejected file has nothing in bronze.
        header_only = apply_contract(replace(read, records=read.records.clear()), table, batch.batch_date, f.name)
    except FileRejected as rej:
        _reject(run, batch, f, table_name, rej)
        return
    except HeaderRejected as rej:
        assert read is not None
        _reject(run, batch, f, table_name, FileRejected(rej.rule, rej.reason, read.all_raw(), read.records_counted))
        return
    run.warnings.extend(f"{run.contract.system_id} {batch.batch_date}/{w}" for w in header_only.warnings)

    lineage = [pl.lit(run.contract.system_id).alias("_system_id"), pl.lit(batch.batch_date).alias("_batch_date"),
               pl.lit(f.name).alias("_file_name"), pl.lit(f.sha256).alias("_file_hash"),
               pl.lit(run.ingested_at, dtype=UTC_TIMESTAMP).alias("_ingested_at")]
    rows_bronze, broken = 0, [read.defects]
    for start in range(0, max(read.records.height, 1), size):
        applied = apply_contract(replace(read, records=read.records.slice(start, size), warnings=[]),
                                 table, batch.batch_date, f.name)
        rows = applied.quarantined[ROW].to_list()
        rejected_rows = applied.quarantined.with_columns(pl.Series("raw_line", read.raw_lines(rows), dtype=pl.Utf8))
        broken.append(rejected_rows.select(read.defects.columns))
        rows_bronze += applied.bronze.height
        yield applied.bronze.with_columns(lineage)
    quarantined = pl.concat(broken)
    by_rule = dict(Counter(quarantined["rule"].to_list()))
    _quarantine(run, batch, f, table_name, quarantined)
    _record(run, batch, f, table_name, read.records_counted, rows_bronze, quarantined.height, by_rule)


def _reject(run: _Run, batch: Batch, f: LandedFile, table_name: str | None, rej: FileRejected) -> None:
    """A whole file to quarantine: every raw line it has, with the file-level rule and reason."""
    rows = rej.raw.with_columns(pl.lit(rej.rule).alias("rule"), pl.lit(rej.reason).alias("reason"))
    _quarantine(run, batch, f, table_name, rows)
    counted = int(rows[ROW].is_not_null().sum())    # a file-level row without a source row is not a record
    run.log(f"rejected {run.contract.system_id} {batch.batch_date}/{f.name}: {rej.reason}")
    _record(run, batch, f, table_name, rej.records_counted, 0, counted, {rej.rule: counted} if counted else {},
            rejected=(rej.rule, rej.reason))


def _unmatched(run: _Run, batch: Batch, f: LandedFile) -> None:
    """A file no table's file_pattern matches: quarantined whole, so nothing is silently dropped."""
    patterns = {name: t.file_pattern for name, t in run.contract.tables.items()}
    reason = f"{f.name}: matches no table of the contract (file patterns {patterns}); the whole file is rejected"
    if f.refused:
        reason = f"{f.name}: {f.refused}; matches no table of the contract either"
        raw, counted = unreadable(f.name, f.refused).raw, None
    else:
        raw, counted = raw_records(f.path, run.contract.delivery, f.name)
    _reject(run, batch, f, None, FileRejected("unreadable_file", reason, raw, counted))


def _quarantine(run: _Run, batch: Batch, f: LandedFile, table_name: str | None, rows: pl.DataFrame) -> None:
    if not rows.height:
        return
    run.quarantine.append(rows.select(
        pl.lit(run.contract.system_id).alias("system_id"), pl.lit(table_name, dtype=pl.Utf8).alias("table_name"),
        pl.lit(batch.batch_date).alias("batch_date"), pl.lit(f.name).alias("file_name"),
        pl.lit(f.sha256).alias("file_hash"), pl.col(ROW).alias("source_row"), pl.col("raw_line").cast(pl.Utf8),
        pl.col("rule"), pl.col("reason"), pl.lit(run.ingested_at, dtype=UTC_TIMESTAMP).alias("quarantined_at")))


def _record(run: _Run, batch: Batch, f: LandedFile, table_name: str | None, counted: int | None,
            rows_bronze: int, rows_quarantined: int, by_rule: dict[str, int],
            rejected: tuple[str, str] | None = None) -> None:
    """The ledger row of one file: records sent (manifest, else counted) against what landed where."""
    from_manifest = run.manifest.get((batch.batch_date, f.name, f.sha256))
    sent = from_manifest if from_manifest is not None else counted
    reconciled = sent is not None and sent == rows_bronze + rows_quarantined
    message = ledger_message(sent, rows_bronze, rows_quarantined, rejected[1] if rejected else None, by_rule)
    run.outcomes.append(FileOutcome(
        batch.batch_date, f.name, table_name, f.sha256, sent, "manifest" if from_manifest is not None else "counted",
        rows_bronze, rows_quarantined, reconciled, message, by_rule,
        rejected[0] if rejected else None, rejected[1] if rejected else None))
    if not reconciled:
        run.log(f"NOT RECONCILED {batch.batch_date}/{f.name}: {message}")


def _ledger_rows(run: _Run) -> pl.DataFrame:
    return pl.DataFrame([{
        "system_id": run.contract.system_id, "table_name": o.table_name, "batch_date": o.batch_date,
        "file_name": o.file_name, "file_hash": o.file_hash, "records_sent": o.records_sent,
        "sent_from": o.sent_from, "rows_bronze": o.rows_bronze, "rows_quarantined": o.rows_quarantined,
        "reconciled": o.reconciled, "message": o.message, "ingested_at": run.ingested_at,
    } for o in run.outcomes], schema=LEDGER)

