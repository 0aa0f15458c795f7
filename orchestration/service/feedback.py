"""Dispositions flow back into the lakehouse as a source system like any other.

The registry holds ``disposition_feedback_330000`` (the province's 线索处置反馈 system), which
delivers the canonical ``disposition`` entity in the standard exchange format: UTF-8 CSV, comma,
a header of canonical names (alert_id, status, reason, actor, recorded_at). ``export_dispositions``
writes one such delivery into ``<lake>/landing/<system>/<batch date>/``, named after the
contract's file pattern, so the next pipeline run ingests it and the scorecard counts it.

Which events a batch holds: every event not yet exported that was recorded on or before the batch
date (Asia/Shanghai; the contract quarantines a recorded_at after its batch), plus the events an
earlier export of the same batch date already held. Exporting a date again therefore rewrites the
same file with the same rows (and any new ones), which is what re-ingesting a batch expects.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from orchestration.atomic_files import write_atomically
from orchestration.service.store import CHINA, Store, disposition_events

SYSTEM_ID = "disposition_feedback_330000"
TABLE = "disposition"
COLUMNS = ("alert_id", "status", "reason", "actor", "recorded_at")


@dataclass(frozen=True)
class Export:
    path: Path
    events: int


def feedback_file_name() -> str:
    """The delivery's file name, from the contract's file pattern (``disposition*.csv`` -> disposition.csv)."""
    from orchestration.contracts import registry

    contract = registry().get(SYSTEM_ID)
    if contract is None or TABLE not in contract.tables:
        raise RuntimeError(f"the source registry has no system {SYSTEM_ID} with table {TABLE}: "
                           "dispositions cannot flow back")
    delivery = contract.delivery
    if (delivery.format, delivery.encoding, delivery.delimiter) != ("csv", "utf-8", ","):
        raise RuntimeError(f"{SYSTEM_ID}: expected the standard exchange format (csv, utf-8, ','), the contract "
                           f"says {delivery.format}, {delivery.encoding}, {delivery.delimiter!r}")
    return contract.tables[TABLE].file_pattern.replace("*", "")


def _local_timestamp(stored: str) -> str:
    """A stored ISO timestamp as the contract reads it: Asia/Shanghai wall time, microseconds, no offset."""
    return dt.datetime.fromisoformat(stored).astimezone(CHINA).replace(tzinfo=None).isoformat(timespec="microseconds")


def _feedback_row(event: dict) -> dict:
    reason = event["reason"] or ""
    if event["action"] == "transfer":  # the canonical entity has no unit column: the reason carries it
        reason = f"转办至{event['unit']}" + (f"：{reason}" if reason else "")
    return {"alert_id": event["alert_id"], "status": event["to_status"], "reason": reason,
            "actor": event["actor"], "recorded_at": _local_timestamp(event["recorded_at"])}


def export_dispositions(store: Store, lake: Path, batch_date: dt.date) -> Export:
    """Write the feedback delivery of ``batch_date``; returns its path and number of events."""
    end_of_day = dt.datetime.combine(batch_date + dt.timedelta(days=1), dt.time(), CHINA)
    batch = batch_date.isoformat()
    target = Path(lake) / "landing" / SYSTEM_ID / batch / feedback_file_name()
    with store.write() as conn:
        candidates = conn.execute(sa.select(disposition_events).where(sa.or_(
            disposition_events.c.export_batch == batch, disposition_events.c.export_batch.is_(None)))
            .order_by(disposition_events.c.event_id)).mappings().all()
        events = [dict(e) for e in candidates
                  if e["export_batch"] == batch or dt.datetime.fromisoformat(e["recorded_at"]) < end_of_day]
        new_ids = [e["event_id"] for e in events if e["export_batch"] is None]
        for start in range(0, len(new_ids), 500):
            conn.execute(disposition_events.update().where(disposition_events.c.event_id.in_(new_ids[start:start + 500]))
                         .values(export_batch=batch))
        _write_atomically(target, [_feedback_row(e) for e in events])  # inside the transaction: both or neither
    return Export(target, len(events))


def _write_atomically(target: Path, rows: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomically(target, buffer.getvalue().encode("utf-8"))
