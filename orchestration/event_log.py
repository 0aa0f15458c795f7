"""The Dagster instance's event log: Dagster's SQLite storage, with its connections kept.

Dagster's ``SqliteEventLogStorage`` makes a new engine and connection for every event it stores
(two or three for an asset or check event: the run's shard and the index shard), and each commit
waits for the disk (SQLite's default ``synchronous=FULL``). A run here stores about 2,900 events,
so that alone cost about 16 s of every run whatever its size (docs/scaling.md).

This subclass keeps one connection per shard, used under the storage's own lock, and commits with
``synchronous=NORMAL`` in the WAL mode Dagster already sets: a commit reaches the operating system
at once, so a killed process (SIGKILL, the crash-safety tests) loses nothing; only a power cut can
lose the last few events, which a re-run writes again. It also remembers which tables exist,
which Dagster asked anew, through a new connection, before storing each asset or check event.
Files, tables and schema are Dagster's own, so the webserver, ``powertrace backup`` and
Dagster's upgrades read them unchanged.

``KeptConnectionSqliteStorage`` is Dagster's default SQLite storage (runs, event log, schedules
under the instance's folder) with this event log; the instance's dagster.yaml (written by
``powertrace run``, see run_cli.py) selects it as its ``storage``.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from typing import Iterator

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS, create_db_conn_string
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool


def _on_connect(dbapi_connection: sqlite3.Connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class KeptConnectionSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` with one kept connection per shard (see the module docstring)."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: dict[str, Engine] = {}
        self._tables_present: set[str] = set()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is None:
            engine = create_engine(
                create_db_conn_string(self._base_dir, shard),
                # One connection, reused: every use holds the storage's lock, so threads never
                # share it at the same time.
                poolclass=StaticPool,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            event.listen(engine, "connect", _on_connect)
            self._engines[shard] = engine
        return engine

    def has_table(self, table_name: str) -> bool:
        # Dagster asks before storing each asset and check event whether a table exists (~1,200
        # times a run), each time through a new engine and connection (~0.5 ms). A table once
        # present stays (Dagster's migrations add tables; none drops one), so a yes is kept; a
        # no is asked again. Not through _connect: Dagster asks while it holds _db_lock.
        if table_name in self._tables_present:
            return True
        present = super().has_table(table_name)
        if present:
            self._tables_present.add(table_name)
        return present

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn

    def dispose(self) -> None:
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
        super().dispose()


class KeptConnectionSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage, same folders and files, with the kept-connection event log."""

    def __init__(self, base_dir: str, inst_data=None):
        super().__init__(base_dir, inst_data=inst_data)
        # Dagster's constructor builds its own event log on the same files first; this replaces it.
        self._event_log_storage = KeptConnectionSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls.from_local(inst_data=inst_data, **config_value)
