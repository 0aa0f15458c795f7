"""The published lake as the service holds it: one immutable snapshot, swapped when a new one lands.

``PublishedLake.refresh`` compares the Delta versions of ``published/alerts`` and
``published/ineligible_payees`` with the ones it holds and reloads what changed; a background
thread calls it every few seconds, so a new publication is served without a restart. A request
takes ``lake.current`` once and works on that snapshot to the end, so it never mixes versions. A
publication that cannot be read leaves the previous snapshot in place and is reported by /health.

The changes feed needs earlier versions of the alerts table; ``alerts_at`` reads them through
Delta's time travel (and keeps the last few in memory).
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from orchestration.service import tables
from orchestration.service.payment_check import PayeeIndex

log = logging.getLogger(__name__)

# Columns that change on every run without anything having happened to the alert: the feed
# ignores them when it decides whether an alert changed.
NOT_A_CHANGE = ("last_detected_as_of",)


@dataclass(frozen=True)
class Publication:
    alerts: pl.DataFrame                      # sorted: newest event first, then alert_id
    alerts_version: int | None
    payees: PayeeIndex | None
    payees_version: int | None
    loaded_at: dt.datetime
    row_of: dict[str, int] = field(repr=False)  # alert_id -> row in ``alerts``

    def alert(self, alert_id: str) -> dict | None:
        row = self.row_of.get(alert_id)
        return None if row is None else self.alerts.row(row, named=True)


def empty_alerts() -> pl.DataFrame:
    return pl.from_arrow(tables.ALERTS.empty_table())


def _prepare(alerts: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, int]]:
    alerts = alerts.sort(["event_date", "alert_id"], descending=[True, False], nulls_last=True)
    return alerts, {a: i for i, a in enumerate(alerts["alert_id"].to_list())}


def change_hashes(alerts: pl.DataFrame) -> dict[str, int]:
    """alert_id -> hash of the columns that make a change (everything but NOT_A_CHANGE)."""
    hashed = alerts.select([c for c in alerts.columns if c not in NOT_A_CHANGE]).hash_rows(seed=0)
    return dict(zip(alerts["alert_id"].to_list(), hashed.to_list()))


class PublishedLake:
    """The lake's published tables for the service (see the module docstring)."""

    def __init__(self, lake: Path, reload_seconds: float = 5.0):
        self.lake = Path(lake)
        self.reload_seconds = reload_seconds
        self.last_error: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._history: OrderedDict[int, pl.DataFrame] = OrderedDict()
        alerts, row_of = _prepare(empty_alerts())
        self._current = Publication(alerts, None, None, None, dt.datetime.now(dt.timezone.utc), row_of)
        self.refresh()

    @property
    def current(self) -> Publication:
        return self._current

    def refresh(self) -> bool:
        """Load whatever was published since the last look; True when the snapshot changed."""
        with self._lock:
            held = self._current
            try:
                alerts_version = tables.table_version(tables.published_path(self.lake, "alerts"))
                payees_version = tables.table_version(tables.published_path(self.lake, "ineligible_payees"))
                if (alerts_version, payees_version) == (held.alerts_version, held.payees_version):
                    return False
                alerts, row_of = held.alerts, held.row_of
                if alerts_version != held.alerts_version:
                    frame = empty_alerts() if alerts_version is None else tables.read_alerts(self.lake, alerts_version)
                    alerts, row_of = _prepare(frame)
                payees = held.payees
                if payees_version != held.payees_version:
                    payees = None if payees_version is None else PayeeIndex(
                        tables.read_ineligible_payees(self.lake, payees_version), payees_version)
            except Exception as exc:  # keep serving the last good snapshot; /health shows why
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("reading the published lake failed; still serving the previous publication")
                return False
            self.last_error = None
            self._current = Publication(alerts, alerts_version, payees, payees_version,
                                        dt.datetime.now(dt.timezone.utc), row_of)
            log.info("serving publication: alerts v%s (%d rows), ineligible_payees v%s",
                     alerts_version, alerts.height, payees_version)
            return True

    def alerts_at(self, version: int) -> pl.DataFrame:
        """The alerts table as published at ``version`` (TableError when it can no longer be read)."""
        current = self._current
        if version == current.alerts_version:
            return current.alerts
        if version in self._history:
            self._history.move_to_end(version)
            return self._history[version]
        frame = tables.read_alerts(self.lake, version)
        self._history[version] = frame
        while len(self._history) > 4:
            self._history.popitem(last=False)
        return frame

    # ------------------------------------------------------------------ background reloading
    def start(self) -> None:
        if self._thread is None and self.reload_seconds > 0:
            self._thread = threading.Thread(target=self._poll, name="publication-reload", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.reload_seconds + 5)
            self._thread = None

    def _poll(self) -> None:
        while not self._stop.wait(self.reload_seconds):
            self.refresh()
