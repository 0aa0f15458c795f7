"""The three Delta tables ingestion writes: bronze (one per system table), quarantine, ledger.

Every write replaces a set of batches with one commit (``mode=overwrite`` with a predicate), so
re-ingesting a batch or a corrected re-delivery never duplicates rows. Tables are created empty,
with their full schema, before anything reads them, so downstream readers always find them.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import polars as pl
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError

from orchestration.canonical import Entity
from orchestration.ingest.apply import EXTRA, bronze_schema

UTC_TIMESTAMP = pl.Datetime("us", "UTC")
LINEAGE: dict[str, pl.DataType] = {
    "_system_id": pl.Utf8, "_batch_date": pl.Date, "_file_name": pl.Utf8, "_file_hash": pl.Utf8,
    "_source_row": pl.Int64, "_ingested_at": UTC_TIMESTAMP, EXTRA: pl.Utf8,
}
QUARANTINE: dict[str, pl.DataType] = {
    "system_id": pl.Utf8, "table_name": pl.Utf8, "batch_date": pl.Date, "file_name": pl.Utf8,
    "file_hash": pl.Utf8, "source_row": pl.Int64, "raw_line": pl.Utf8, "rule": pl.Utf8, "reason": pl.Utf8,
    "quarantined_at": UTC_TIMESTAMP,
}
LEDGER: dict[str, pl.DataType] = {
    "system_id": pl.Utf8, "table_name": pl.Utf8, "batch_date": pl.Date, "file_name": pl.Utf8,
    "file_hash": pl.Utf8, "records_sent": pl.Int64, "sent_from": pl.Utf8, "rows_bronze": pl.Int64,
    "rows_quarantined": pl.Int64, "reconciled": pl.Boolean, "message": pl.Utf8, "ingested_at": UTC_TIMESTAMP,
}
# quarantine/ and ledger/ are shared by every system: partitions keep one system's rewrite
# (and a reader looking at one system) away from the others' files.
SHARED_PARTITION = ["system_id"]
_COMMIT_ATTEMPTS = 5


def bronze_table_schema(entity: Entity) -> dict[str, pl.DataType]:
    """Canonical columns, then lineage columns: the exact bronze schema of an entity."""
    return {**bronze_schema(entity), **LINEAGE}


# Arrow string views: polars hands them over without a copy, and deltalake writes them faster.
ARROW_COMPAT = pl.CompatLevel.newest()


def to_arrow(frame: pl.DataFrame) -> pa.Table:
    return frame.to_arrow(compat_level=ARROW_COMPAT)


def arrow_schema(schema: dict[str, pl.DataType]) -> pa.Schema:
    return to_arrow(pl.DataFrame(schema=schema)).schema


def exists(path: Path) -> bool:
    return DeltaTable.is_deltatable(str(path))


def ensure_table(path: Path, schema: dict[str, pl.DataType], partition_by: list[str] | None = None) -> bool:
    """Create an empty Delta table with ``schema`` unless one exists; True when it was created."""
    if exists(path):
        return False
    path.mkdir(parents=True, exist_ok=True)
    empty = to_arrow(pl.DataFrame(schema=schema))
    try:
        write_deltalake(str(path), empty, mode="append", partition_by=partition_by)
    except Exception:  # noqa: BLE001
        if not exists(path):   # another process created it first: fine; anything else is not
            raise
    return True


def in_dates(column: str, dates: Iterable[dt.date]) -> str:
    """A SQL predicate ``column IN ('2026-10-01', ...)`` over batch dates."""
    listed = ", ".join(f"'{d.isoformat()}'" for d in sorted(set(dates)))
    return f"{column} IN ({listed})"


def replace_rows(path: Path, schema: dict[str, pl.DataType], frame: pl.DataFrame, predicate: str) -> None:
    """Replace the rows matching ``predicate`` by ``frame`` in one commit, retrying on a concurrent commit."""
    data = to_arrow(frame.select(list(schema)).cast(schema)).cast(arrow_schema(schema))
    for attempt in range(1, _COMMIT_ATTEMPTS + 1):
        try:
            write_deltalake(str(path), data, mode="overwrite", predicate=predicate)
            return
        except CommitFailedError:
            if attempt == _COMMIT_ATTEMPTS:
                raise
            time.sleep(0.2 * attempt)


def replace_streamed(path: Path, schema: dict[str, pl.DataType], frames: Iterator[pl.DataFrame],
                     predicate: str) -> None:
    """Like :func:`replace_rows` for data produced file by file, so one file at a time is in memory.

    A bronze table has a single writer (its system's ingestion), so there is no retry: the
    frames cannot be produced twice.
    """
    target = arrow_schema(schema)

    def batches() -> Iterator[pa.RecordBatch]:
        for frame in frames:
            if frame.height:
                yield from to_arrow(frame.select(list(schema)).cast(schema)).cast(target).to_batches()

    reader = pa.RecordBatchReader.from_batches(target, batches())
    write_deltalake(str(path), reader, mode="overwrite", predicate=predicate)


def read_table(path: Path, schema: dict[str, pl.DataType], where: pl.Expr | None = None) -> pl.DataFrame:
    """The table's rows (optionally filtered); an empty frame with ``schema`` when it does not exist."""
    if not exists(path):
        return pl.DataFrame(schema=schema)
    scan = pl.scan_delta(str(path))
    if where is not None:
        scan = scan.filter(where)
    return scan.collect()
