"""The quarantine: rows (and whole files) that could not go to bronze, with file, row, rule, reason.

It holds raw lines, so raw personal data: it is for the data engineers who fix contracts and
is never published. After a contract fix, :func:`replay_quarantine` re-ingests the batches that
have quarantined rows: rows that now pass land in bronze and leave the quarantine.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from orchestration.contracts import Contract
from orchestration.ingest.delta import QUARANTINE, read_table
from orchestration.ingest.system import Log, SystemIngestResult, ingest_system
from orchestration.settings import Zones


def quarantine_frame(lake: Path, system_id: str | None = None, rule: str | None = None,
                     batch_dates: list[dt.date] | None = None) -> pl.DataFrame:
    """Quarantined rows, optionally of one system, one rule and some batch dates."""
    where = pl.lit(True)
    if system_id is not None:
        where &= pl.col("system_id") == system_id
    if rule is not None:
        where &= pl.col("rule") == rule
    if batch_dates is not None:
        where &= pl.col("batch_date").is_in(batch_dates)
    return read_table(Zones(lake).quarantine, QUARANTINE, where)


def quarantine_counts(lake: Path, system_id: str | None = None) -> pl.DataFrame:
    """Quarantined rows counted by system, table and rule (largest first)."""
    rows = quarantine_frame(lake, system_id)
    return (rows.group_by("system_id", "table_name", "rule").agg(pl.len().alias("rows"))
            .sort(["rows", "system_id", "table_name", "rule"], descending=[True, False, False, False]))


@dataclass
class ReplayResult:
    system_id: str
    batches: list[dt.date]              # batch dates re-ingested
    quarantined_before: int
    quarantined_after: int
    ingest: SystemIngestResult | None   # None when nothing was quarantined

    @property
    def released(self) -> int:
        """Rows that left the quarantine (now in bronze, or gone with a corrected delivery)."""
        return self.quarantined_before - self.quarantined_after


def replay_quarantine(contract: Contract, lake: Path, batch_dates: list[dt.date] | None = None,
                      log: Log | None = None) -> ReplayResult:
    """Re-ingest, with the current contract, every batch of the system that has quarantined rows."""
    sid = contract.system_id
    before = quarantine_frame(lake, sid, batch_dates=batch_dates)
    dates = sorted(set(before["batch_date"].to_list()))
    if not dates:
        return ReplayResult(sid, [], 0, 0, None)
    result = ingest_system(contract, lake, batch_dates=dates, force=True, log=log)
    after = quarantine_frame(lake, sid, batch_dates=dates)
    return ReplayResult(sid, dates, before.height, after.height, result)
