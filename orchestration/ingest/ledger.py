"""The ledger: per delivered file, records sent = rows in bronze + rows quarantined.

Records sent come from the generator's manifest (``<lake>/truth/manifest.parquet``) when it
lists the file (same system, batch date, name and sha256), else from counting the raw file. A
file whose counts do not add up is ``reconciled = false``: the asset check on the ledger fails.
The ledger also tells which batches are new or re-delivered (:func:`pending_batches`).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from orchestration.contracts import Contract
from orchestration.ingest.delta import LEDGER, read_table
from orchestration.ingest.landing import Batch, landed_batches
from orchestration.settings import Zones

ManifestKey = tuple[dt.date, str, str]      # (batch date, file name, sha256)


def manifest_path(lake: Path) -> Path:
    return Zones(lake).truth / "manifest.parquet"


def ledger_frame(lake: Path, system_id: str | None = None) -> pl.DataFrame:
    """The ledger (all systems, or one), one row per ingested file."""
    where = None if system_id is None else pl.col("system_id") == system_id
    return read_table(Zones(lake).ledger, LEDGER, where)


def unreconciled_files(lake: Path, system_id: str | None = None) -> pl.DataFrame:
    """Ledger rows whose counts do not add up: what the reconciliation asset check reports."""
    return ledger_frame(lake, system_id).filter(~pl.col("reconciled")).sort("system_id", "batch_date", "file_name")


def manifest_records(lake: Path, system_id: str) -> dict[ManifestKey, int]:
    """Records the manifest says were sent, per (batch date, file name, sha256) of one system."""
    path = manifest_path(lake)
    if not path.is_file():
        return {}
    rows = (pl.scan_parquet(path).filter(pl.col("system_id") == system_id)
            .select(pl.col("batch_date").cast(pl.Date), "file_name", "sha256", "records").collect())
    return {(d, name, sha): int(n) for d, name, sha, n in rows.iter_rows()}


Fingerprints = dict[dt.date, frozenset[tuple[str, str]]]   # batch date -> (file name, sha256) pairs


def ledger_fingerprints(lake: Path, system_id: str | None = None) -> dict[str, Fingerprints]:
    """Per system and batch date, the (file name, sha256) pairs the ledger holds: for one system,
    or for all in one read (a read costs about the same either way: ~10 ms here)."""
    rows = ledger_frame(lake, system_id).select("system_id", "batch_date", "file_name", "file_hash")
    out: dict[str, dict[dt.date, set[tuple[str, str]]]] = {}
    for sid, day, name, sha in rows.iter_rows():
        out.setdefault(sid, {}).setdefault(day, set()).add((name, sha))
    return {sid: {day: frozenset(v) for day, v in days.items()} for sid, days in out.items()}


def changed_batches(batches: list[Batch], known: Fingerprints) -> list[Batch]:
    """Batches whose files (names and hashes) differ from what the ledger holds for their date."""
    return [b for b in batches if known.get(b.batch_date) != b.fingerprint()]


def pending_batches(contract: Contract, lake: Path, known: dict[str, Fingerprints] | None = None) -> list[dt.date]:
    """Batch dates landed for the system that are new or changed since they were last ingested.
    ``known``: ``ledger_fingerprints(lake)``, read once by callers that ask for many systems."""
    sid = contract.system_id
    batches, _ = landed_batches(Path(lake), sid)
    known = ledger_fingerprints(lake, sid) if known is None else known
    return [b.batch_date for b in changed_batches(batches, known.get(sid, {}))]


def ledger_message(records_sent: int | None, rows_bronze: int, rows_quarantined: int,
                   rejected: str | None, by_rule: dict[str, int]) -> str:
    """One line a data engineer can act on: what happened to the file and whether it adds up."""
    parts = []
    if rejected:
        parts.append(f"rejected: {rejected}")
    elif by_rule:
        parts.append("quarantined " + ", ".join(f"{rule} {n}" for rule, n in sorted(by_rule.items())))
    if records_sent is None:
        parts.append("records sent unknown: the file could not be read")
    elif records_sent != rows_bronze + rows_quarantined:
        parts.append(f"NOT RECONCILED: records sent {records_sent} != bronze {rows_bronze} "
                     f"+ quarantined {rows_quarantined}")
    return "; ".join(parts)
