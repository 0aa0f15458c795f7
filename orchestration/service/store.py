"""The alert service's own database: API tokens, dispositions and the audit log.

SQLite in WAL mode by default (one file, ``<lake>/service/service.sqlite``), PostgreSQL when a
URL is configured (``--db`` or ``POWERTRACE_SERVICE_DB``, e.g.
``postgresql+psycopg://user@host/powertrace``; needs the ``psycopg`` package). The database lives
beside the lake, not in it: the pipeline never writes it, and ``make clean-lake`` keeps it, so no
disposition is lost when the lake is rebuilt. Dispositions reach the lakehouse only through the
feedback export (feedback.py).

Every write is one transaction that first takes the database's write lock (SQLite
``BEGIN IMMEDIATE``; PostgreSQL a row lock on the audit chain's head), so that the check of a
disposition's current state, the new state and its audit entry are decided together and the audit
chain has one writer at a time. Where the two backends differ by nature, the code below says how it
keeps them alike (tests/service runs every store test on both).
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

CHINA = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai keeps no daylight saving time

metadata = sa.MetaData()

tokens = sa.Table(
    "tokens", metadata,
    sa.Column("token_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),          # who holds it (shown in the audit log)
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("region_code", sa.String(6), nullable=False),     # scope: province, city or county code
    sa.Column("domain", sa.String(32)),                         # departments: the one domain they regulate
    sa.Column("permissions", sa.String(200), nullable=False),   # comma-joined
    sa.Column("unit", sa.String(200), nullable=False),          # the verifying unit acting with it
    sa.Column("secret_hash", sa.String(64), nullable=False),    # sha256 hex of the secret part
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("expires_at", sa.String(40)),
    sa.Column("revoked_at", sa.String(40)),
)

disposition_events = sa.Table(
    "disposition_events", metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.String(64), nullable=False, index=True),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("from_status", sa.String(32), nullable=False),
    sa.Column("to_status", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("unit", sa.String(200), nullable=False),          # the unit in charge after the event
    sa.Column("actor", sa.String(200), nullable=False),         # token name
    sa.Column("actor_token", sa.String(32), nullable=False),
    sa.Column("recorded_at", sa.String(40), nullable=False),
    sa.Column("model_id", sa.String(32), nullable=False),
    sa.Column("model_version", sa.String(32)),
    sa.Column("region_code", sa.String(6), nullable=False),
    sa.Column("export_batch", sa.String(10), index=True),       # feedback batch date it left in
)

disposition_state = sa.Table(
    "disposition_state", metadata,
    sa.Column("alert_id", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(32), nullable=False, index=True),
    sa.Column("unit", sa.String(200), nullable=False),
    sa.Column("last_event_id", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),               # canonical JSON
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
)

audit_head = sa.Table(
    "audit_head", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # always 1
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
)

GENESIS_HASH = "0" * 64
SCHEMA_LOCK = 7_106_803_661  # PostgreSQL advisory lock key held while creating the schema (any fixed number)
SQLITE_LOCK_TIMEOUT = 30.0   # seconds a SQLite connection waits for another's lock before failing


def now_in_china() -> dt.datetime:
    return dt.datetime.now(CHINA)


def default_url(lake: Path) -> str:
    return os.environ.get("POWERTRACE_SERVICE_DB") or f"sqlite:///{Path(lake) / 'service' / 'service.sqlite'}"


class Store:
    """One database connection pool with the service's schema; ``clock`` is injectable for tests."""

    def __init__(self, url: str, clock: Callable[[], dt.datetime] = now_in_china):
        self.url = url
        self.clock = clock
        self.engine = _engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.token_cache: dict[str, tuple[float, dict | None]] = {}  # access.py: token rows read lately
        self._create_schema()

    def _create_schema(self) -> None:
        """The tables and the chain's head, made once even when several processes open a fresh
        database at the same moment (a service and a CLI, say)."""
        with self.engine.connect() as conn:
            # SQLite: BEGIN IMMEDIATE, else a creator that read the catalogue first cannot upgrade to
            # writing once another committed ("database is locked", without waiting). PostgreSQL:
            # concurrent CREATE TABLEs collide in its catalogue (duplicate pg_type row), so the
            # creators queue on an advisory lock that ends with the transaction.
            with conn.execution_options(immediate=True).begin():
                if not self.is_sqlite:
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(SCHEMA_LOCK)))
                metadata.create_all(conn)
                if conn.execute(sa.select(audit_head.c.id)).first() is None:
                    conn.execute(audit_head.insert().values(id=1, seq=0, entry_hash=GENESIS_HASH))

    @classmethod
    def for_lake(cls, lake: Path, url: str | None = None, **kwargs) -> "Store":
        return cls(url or default_url(lake), **kwargs)

    def now(self) -> str:
        """The current time as stored: ISO 8601 in Asia/Shanghai with its offset, microseconds."""
        return self.clock().astimezone(CHINA).isoformat(timespec="microseconds")

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A read-only transaction that sees one snapshot throughout (verify_chain reads the head,
        then the log, and must not see an entry committed in between)."""
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                # SQLite's read transaction in WAL mode keeps the snapshot of its first read;
                # PostgreSQL's default READ COMMITTED takes a new one per statement.
                conn.execution_options(isolation_level="REPEATABLE READ")
            yield conn

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A transaction holding the write lock from its first statement; commits on success."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(immediate=True)
            with conn.begin():
                if not self.is_sqlite:
                    # READ COMMITTED (the default) on purpose: once the lock is held, each statement
                    # sees what the writer before committed; REPEATABLE READ would fail here instead.
                    conn.execute(sa.select(audit_head.c.seq).where(audit_head.c.id == 1).with_for_update())
                yield conn

    def close(self) -> None:
        self.engine.dispose()


def switch_to_wal(cursor, timeout: float = SQLITE_LOCK_TIMEOUT) -> None:
    """``PRAGMA journal_mode=WAL``, waiting out a concurrent switch. Switching a fresh file takes an
    exclusive lock, and when several connections race for it (a service and a CLI starting on an
    empty database) SQLite answers "database is locked" at once instead of waiting, since waiting
    could deadlock. WAL is a property of the file: once one of them has switched it, the others'
    switch is a no-op, so trying again shortly is enough."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def _engine(url: str) -> sa.Engine:
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    database = sa.engine.make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_LOCK_TIMEOUT})

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # transactions are begun below, not by the driver
        cursor = dbapi_connection.cursor()
        switch_to_wal(cursor)
        cursor.execute("PRAGMA synchronous=FULL")   # a committed disposition survives a power cut
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("immediate") else "BEGIN")

    return engine
