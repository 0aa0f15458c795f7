"""Bronze ingestion: landed batches → bronze Delta tables, quarantine and ledger (docs/ingestion.md).

Modules, in the order data walks through them:
- ``landing``: which batch folders and files have landed (names, sha256, symlink guard);
- ``readers``: one file → header + raw string records (csv, xlsx, jsonl, parquet);
- ``apply``: the contract's mapping, parse rules and row rules → typed rows or quarantine;
- ``delta``: the bronze, quarantine and ledger Delta tables and their batch-replacing writes;
- ``system``: :func:`ingest_system`, one system end to end;
- ``ledger`` and ``quarantine``: reading them back, pending batches, replay;
- ``cli``: ``powertrace ingest`` and ``powertrace quarantine``.
"""
from orchestration.ingest.ledger import ledger_fingerprints, ledger_frame, pending_batches, unreconciled_files
from orchestration.ingest.quarantine import ReplayResult, quarantine_counts, quarantine_frame, replay_quarantine
from orchestration.ingest.system import (FileOutcome, SharedWrites, SystemIngestResult, TableSummary, ensure_tables,
                                         freshness, ingest_system)

__all__ = [
    "FileOutcome", "ReplayResult", "SharedWrites", "SystemIngestResult", "TableSummary", "ensure_tables", "freshness",
    "ingest_system", "ledger_fingerprints", "ledger_frame", "pending_batches", "quarantine_counts", "quarantine_frame",
    "replay_quarantine", "unreconciled_files",
]
