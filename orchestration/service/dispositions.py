"""The disposition workflow (处置): what verifying units did with an alert, as a state machine.

    pushed ──verify──▶ verifying ──confirm──▶ confirmed ──rectify──▶ rectified
      ▲  │                │  ▲  └──dismiss (reason)──▶ dismissed
      └──┘ transfer       │  └────────reopen (reason)──────┘
           (to a unit)    └─transfer (to a unit)──▶ pushed

Every alert starts ``pushed`` (delivered to the units of its region) without any stored row.
An action is legal only from the states listed in ``ACTIONS``; anything else is refused and
nothing is written. Each accepted action appends one event (never updated: the history) and moves
the alert's current state, with its audit entry, in one transaction.

Dispositions are keyed by alert_id alone, which is a hash of model_id and primary_key (not of the
model version, the run or the lifecycle), so a re-run, a re-detection, a resolution or a new model
version finds its alert's dispositions where they were. The store is outside the lake (store.py).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from orchestration.service import audit
from orchestration.service.access import Principal
from orchestration.service.store import Store, disposition_events, disposition_state

STATUSES = ("pushed", "verifying", "confirmed", "dismissed", "rectified")
INITIAL = "pushed"
MAX_REASON = 2000
MAX_UNIT = 200


@dataclass(frozen=True)
class Action:
    name: str
    sources: tuple[str, ...]
    target: str
    needs_reason: bool = False
    needs_unit: bool = False
    label: str = ""


ACTIONS = {a.name: a for a in (
    Action("verify", ("pushed",), "verifying", label="开始核查"),
    Action("confirm", ("verifying",), "confirmed", label="查实"),
    Action("dismiss", ("verifying",), "dismissed", needs_reason=True, label="排除（须填理由）"),
    Action("rectify", ("confirmed",), "rectified", label="整改完成"),
    Action("reopen", ("dismissed",), "verifying", needs_reason=True, label="重新核查（须填理由）"),
    Action("transfer", ("pushed", "verifying"), "pushed", needs_unit=True, label="转办至其他单位"),
)}


class DispositionError(ValueError):
    """A disposition request that is refused; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class State:
    status: str
    unit: str | None
    updated_at: str | None
    last_event_id: int | None


UNTOUCHED = State(INITIAL, None, None, None)


def legal_actions(status: str) -> list[str]:
    return [a.name for a in ACTIONS.values() if status in a.sources]


def _clean(text: str | None, limit: int, what: str) -> str | None:
    text = (text or "").strip()
    if "\x00" in text:  # PostgreSQL text cannot hold it; refused on SQLite too, so both backends answer alike
        raise DispositionError(f"{what} contains a NUL character, which cannot be stored")
    if len(text) > limit:
        raise DispositionError(f"{what} is {len(text)} characters long; at most {limit} are allowed")
    return text or None


def record(store: Store, principal: Principal, alert: dict, action: str, *, reason: str | None = None,
           to_unit: str | None = None, expected_status: str | None = None) -> dict:
    """Apply ``action`` to ``alert`` (a published alert row the principal may see); returns the event.

    ``expected_status``, when given, must equal the current status (optimistic concurrency for a
    form that showed an older state). Refusals raise DispositionError and write nothing."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise DispositionError(f"unknown action {action!r}; actions: {', '.join(ACTIONS)}")
    reason = _clean(reason, MAX_REASON, "reason")
    to_unit = _clean(to_unit, MAX_UNIT, "to_unit")
    if spec.needs_reason and not reason:
        raise DispositionError(f"action {action} needs a reason")
    if spec.needs_unit and not to_unit:
        raise DispositionError(f"action {action} needs to_unit, the unit the alert is transferred to")
    if not spec.needs_unit and to_unit:
        raise DispositionError(f"to_unit applies to the transfer action only, not {action}")
    alert_id = alert["alert_id"]
    with store.write() as conn:
        current = _state(conn, alert_id)
        if expected_status is not None and expected_status != current.status:
            raise DispositionError(f"alert {alert_id} is {current.status}, not {expected_status}: "
                                   "someone acted on it meanwhile; reload it", status=409)
        if current.status not in spec.sources:
            allowed = legal_actions(current.status)
            raise DispositionError(
                f"illegal transition: alert {alert_id} is {current.status}; {action} applies to "
                f"{' or '.join(spec.sources)} alerts (from {current.status}: {', '.join(allowed) or 'no action'})",
                status=409)
        unit = to_unit if spec.needs_unit else (current.unit or principal.unit)
        now = _after(store.now(), current.updated_at)
        event = {"alert_id": alert_id, "action": action, "from_status": current.status, "to_status": spec.target,
                 "reason": reason, "unit": unit, "actor": principal.name, "actor_token": principal.token_id,
                 "recorded_at": now, "model_id": alert["model_id"], "model_version": alert.get("model_version"),
                 "region_code": alert["region_code"]}
        event_id = conn.execute(disposition_events.insert().values(**event)).inserted_primary_key[0]
        values = {"status": spec.target, "unit": unit, "last_event_id": event_id, "updated_at": now}
        if current.last_event_id is None:
            conn.execute(disposition_state.insert().values(alert_id=alert_id, **values))
        else:
            conn.execute(disposition_state.update().where(disposition_state.c.alert_id == alert_id).values(**values))
        audit.append(conn, store, actor=principal.name, action="disposition.record", target=alert_id,
                     detail={"event_id": event_id, "action": action, "from": current.status, "to": spec.target,
                             "reason": reason, "unit": unit, "token": principal.token_id})
    return {"event_id": event_id, **event}


def _after(now: str, previous: str | None) -> str:
    """``now``, or a microsecond after ``previous`` when the clock has not moved past it: the
    feedback entity is keyed by (alert_id, recorded_at), so one alert's events must differ in time."""
    if previous is None or dt.datetime.fromisoformat(now) > dt.datetime.fromisoformat(previous):
        return now
    return (dt.datetime.fromisoformat(previous) + dt.timedelta(microseconds=1)).isoformat(timespec="microseconds")


def _state(conn: sa.Connection, alert_id: str) -> State:
    row = conn.execute(sa.select(disposition_state).where(disposition_state.c.alert_id == alert_id)).mappings().first()
    return State(row["status"], row["unit"], row["updated_at"], row["last_event_id"]) if row else UNTOUCHED


def states(store: Store, alert_ids: list[str] | None = None) -> dict[str, State]:
    """Current states of ``alert_ids`` (all stored states when None); untouched alerts are absent."""
    query = sa.select(disposition_state)
    out: dict[str, State] = {}
    with store.read() as conn:
        if alert_ids is None:
            chunks = [None]
        else:
            chunks = [alert_ids[i:i + 500] for i in range(0, len(alert_ids), 500)]
        for chunk in chunks:
            q = query if chunk is None else query.where(disposition_state.c.alert_id.in_(chunk))
            for row in conn.execute(q).mappings():
                out[row["alert_id"]] = State(row["status"], row["unit"], row["updated_at"], row["last_event_id"])
    return out


def state_of(store: Store, alert_id: str) -> State:
    with store.read() as conn:
        return _state(conn, alert_id)


def history(store: Store, alert_id: str) -> list[dict]:
    """Every event of one alert, oldest first."""
    with store.read() as conn:
        rows = conn.execute(sa.select(disposition_events).where(disposition_events.c.alert_id == alert_id)
                            .order_by(disposition_events.c.event_id)).mappings().all()
    return [dict(r) for r in rows]


def latest_event_id(store: Store) -> int:
    with store.read() as conn:
        return conn.execute(sa.select(sa.func.coalesce(sa.func.max(disposition_events.c.event_id), 0))).scalar_one()


def alerts_changed_between(store: Store, after_event: int, up_to_event: int) -> set[str]:
    """Alert ids with an event in (after_event, up_to_event]."""
    with store.read() as conn:
        return set(conn.execute(sa.select(disposition_events.c.alert_id).distinct().where(
            disposition_events.c.event_id > after_event, disposition_events.c.event_id <= up_to_event)).scalars())
