"""What the service database must do alike on SQLite and PostgreSQL, where the two differ by
nature: read snapshots, a fresh database opened by several processes at once, NUL characters and
column lengths. Each test taking the ``store`` fixture runs on both backends (it is parametrised); the
WAL switch's retry is SQLite's alone and is tested on its own."""
from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from orchestration.service import audit, dispositions
from orchestration.service.access import Principal, create_token
from orchestration.service.store import Store, audit_head, audit_log, switch_to_wal
from service_helpers import fixture_alerts

XIHU_OFFICER = Principal("0123456789abcdef", "xihu-jw", "inspection", "330106", None, frozenset({"read", "dispose"}),
                         "西湖区纪委")
SM03_XIHU = fixture_alerts()[0]


def test_a_read_sees_one_snapshot(store):
    """verify_chain reads the head, then the log: an entry committed in between must not show in
    the second read, or a sound chain is reported broken (PostgreSQL's default READ COMMITTED would)."""
    with store.read() as conn:
        head = conn.execute(sa.select(audit_head.c.seq)).scalar_one()
        audit.record(store, actor="someone", action="alert.read", target="x")
        logged = conn.execute(sa.select(sa.func.max(audit_log.c.seq))).scalar_one()
    assert logged == head
    assert audit.verify_chain(store).intact


def test_a_fresh_database_opened_at_once_by_several_processes(store, request, tmp_path):
    """A service and a CLI starting on an empty database at the same time (threads, each with its own
    Store and connections, stand for the processes): one schema, one chain head, no error."""
    if store.is_sqlite:
        url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    else:
        postgres = request.getfixturevalue("postgres")
        url = postgres.url(postgres.create_database())
    start = threading.Barrier(4)

    def open_store(_):
        start.wait()
        return Store(url)

    with ThreadPoolExecutor(4) as pool:
        opened = list(pool.map(open_store, range(4)))  # raises what any of them raised
    with opened[0].read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(audit_head)).scalar_one() == 1
    audit.record(opened[0], actor="someone", action="alert.read", target="x")
    assert audit.verify_chain(opened[0]).intact
    for each in opened:
        each.close()


@pytest.mark.parametrize("field", ["reason", "to_unit"])
def test_a_nul_character_is_refused_alike(store, field):
    """PostgreSQL text cannot hold NUL; SQLite could, so both refuse it, with a 422 and nothing written."""
    dispositions.record(store, XIHU_OFFICER, SM03_XIHU, "verify")
    action = "dismiss" if field == "reason" else "transfer"
    with pytest.raises(dispositions.DispositionError, match=f"{field} contains a NUL character") as refused:
        dispositions.record(store, XIHU_OFFICER, SM03_XIHU, action, **{field: "同名\x00不同人"})
    assert refused.value.status == 422
    assert [e["action"] for e in dispositions.history(store, SM03_XIHU["alert_id"])] == ["verify"]


@pytest.mark.parametrize("field", ["name", "unit"])
def test_an_overlong_token_name_or_unit_is_refused_alike(store, field):
    """PostgreSQL enforces the column's 200 characters, SQLite would not: both refuse it up front."""
    kwargs = {"name": "xihu-jw", field: "x" * 201}
    with pytest.raises(ValueError, match=f"--{field} is 201 characters long; at most 200"):
        create_token(store, role="inspection", region_code="330106", **kwargs)


class _RacingCursor:
    """A cursor whose WAL switch finds the file locked by another connection's switch ``busy`` times."""

    def __init__(self, busy: int, error: str = "database is locked"):
        self.busy, self.error, self.calls = busy, error, 0

    def execute(self, statement: str) -> None:
        assert statement == "PRAGMA journal_mode=WAL"
        self.calls += 1
        if self.calls <= self.busy:
            raise sqlite3.OperationalError(self.error)


def test_the_wal_switch_waits_out_a_concurrent_switch():
    """SQLite answers "database is locked" at once (no busy wait) when two connections switch a fresh
    file to WAL together: the switch is tried again, so the race above cannot fail an opener."""
    cursor = _RacingCursor(busy=2)
    switch_to_wal(cursor)
    assert cursor.calls == 3


def test_the_wal_switch_gives_up_after_its_timeout_and_passes_other_errors():
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        switch_to_wal(_RacingCursor(busy=10**6), timeout=0.2)
    other = _RacingCursor(busy=1, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        switch_to_wal(other)
    assert other.calls == 1
