"""The append-only audit log: who read, re-identified, exported or disposed of what, and when.

Each entry carries the hash of the entry before it, and its own hash covers its fields and that
link: entry_hash = sha256(prev_hash + canonical JSON of (seq, at, actor, action, target, detail)).
Editing an entry breaks its own hash; deleting one breaks the sequence and the next entry's link;
deleting the latest entries is seen against ``audit_head``, the chain's head, which every append
updates in the same transaction. ``verify_chain`` reports every break.

The head lives in the same database, so someone who can rewrite the whole database can forge a
consistent chain; against that, publish the head (``powertrace audit verify`` prints it) where
they cannot reach it and compare later.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import sqlalchemy as sa

from orchestration.service.store import GENESIS_HASH, Store, audit_head, audit_log

# What is audited (issue #6): reads of an alert's detail, re-identification, export, disposition;
# and changes to who may do those.
ACTIONS = ("alert.read", "subject.reidentify", "alerts.export", "disposition.record", "token.create", "token.revoke")


def entry_hash(prev_hash: str, seq: int, at: str, actor: str, action: str, target: str, detail: str) -> str:
    body = json.dumps([seq, at, actor, action, target, detail], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def canonical_json(detail: dict) -> str:
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def append(conn: sa.Connection, store: Store, *, actor: str, action: str, target: str, detail: dict | None = None) -> int:
    """Append one entry inside the caller's write transaction (``store.write()``); returns its seq."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r} (known: {', '.join(ACTIONS)})")
    head = conn.execute(sa.select(audit_head.c.seq, audit_head.c.entry_hash).where(audit_head.c.id == 1)).one()
    seq, at, text = head.seq + 1, store.now(), canonical_json(detail or {})
    digest = entry_hash(head.entry_hash, seq, at, actor, action, target, text)
    conn.execute(audit_log.insert().values(seq=seq, at=at, actor=actor, action=action, target=target, detail=text,
                                           prev_hash=head.entry_hash, entry_hash=digest))
    conn.execute(audit_head.update().where(audit_head.c.id == 1).values(seq=seq, entry_hash=digest))
    return seq


def record(store: Store, *, actor: str, action: str, target: str, detail: dict | None = None) -> int:
    """Append one entry in its own transaction."""
    with store.write() as conn:
        return append(conn, store, actor=actor, action=action, target=target, detail=detail)


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head_seq: int
    head_hash: str
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_chain(store: Store) -> ChainReport:
    """Walk the whole log in order and report every entry whose hash, link or place is wrong."""
    problems: list[str] = []
    expected_prev, expected_seq, count = GENESIS_HASH, 1, 0
    with store.read() as conn:
        head = conn.execute(sa.select(audit_head.c.seq, audit_head.c.entry_hash).where(audit_head.c.id == 1)).one()
        for row in conn.execute(sa.select(audit_log).order_by(audit_log.c.seq)):
            count += 1
            if row.seq != expected_seq:
                problems.append(f"entry {expected_seq}" + (f"..{row.seq - 1}" if row.seq - 1 > expected_seq else "")
                                + f" missing (next present entry is {row.seq})")
            if row.prev_hash != expected_prev:
                problems.append(f"entry {row.seq}: does not link to the entry before it (prev_hash differs)")
            recomputed = entry_hash(row.prev_hash, row.seq, row.at, row.actor, row.action, row.target, row.detail)
            if recomputed != row.entry_hash:
                problems.append(f"entry {row.seq}: content altered (hash {row.entry_hash[:12]}… does not match "
                                f"its fields, which hash to {recomputed[:12]}…)")
            expected_prev, expected_seq = row.entry_hash, row.seq + 1
    if head.seq != expected_seq - 1 or head.entry_hash != expected_prev:
        problems.append(f"the chain head says entry {head.seq} ({head.entry_hash[:12]}…) is the latest, "
                        f"the log ends at entry {expected_seq - 1} ({expected_prev[:12]}…): entries were removed "
                        "or appended outside the service")
    return ChainReport(count, head.seq, head.entry_hash, tuple(problems))


def entries(store: Store, *, limit: int = 100, actor: str | None = None, action: str | None = None) -> list[dict]:
    """The latest entries, newest first (for the CLI and tests)."""
    query = sa.select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
    if actor:
        query = query.where(audit_log.c.actor == actor)
    if action:
        query = query.where(audit_log.c.action == action)
    with store.read() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
