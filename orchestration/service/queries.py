"""Questions the service answers over one publication snapshot and the disposition store.

Each function takes the principal and applies ``Principal.alert_filter`` first, so no path can
return an alert outside the caller's scope. The HTTP layer (api.py) and the triage page (ui.py)
both call these; neither filters on its own.
"""
from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import io
import json
from dataclasses import dataclass

import polars as pl

from orchestration.service import dispositions
from orchestration.service.access import Principal, scope_prefix
from orchestration.service.dispositions import INITIAL, State
from orchestration.service.publication import Publication, PublishedLake, change_hashes, empty_alerts
from orchestration.service.store import Store
from orchestration.service.tables import TableError

LIFECYCLES = ("open", "resolved", "stale")
SUMMARY_COLUMNS = ("alert_id", "model_id", "model_version", "rule_branch", "severity", "domain", "region_code",
                   "primary_key", "subject_ref", "title", "amount", "event_date", "status", "stale",
                   "first_detected_as_of", "last_detected_as_of", "resolved_as_of")


class QueryError(ValueError):
    """A request the data cannot answer as asked (HTTP 400 or 410); the message says why."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class AlertFilters:
    model_id: str | None = None
    severity: str | None = None
    region: str | None = None          # a province, city or county code: alerts inside it
    lifecycle: str | None = None       # open (and not stale) | resolved | stale
    disposition: str | None = None     # pushed | verifying | confirmed | dismissed | rectified
    date_from: dt.date | None = None   # event_date range, inclusive
    date_to: dt.date | None = None
    subject_ref: str | None = None

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in self.__dict__.items() if v is not None}


def visible(publication: Publication, principal: Principal) -> pl.DataFrame:
    return publication.alerts.filter(principal.alert_filter())


def _published_filters(frame: pl.DataFrame, f: AlertFilters) -> pl.DataFrame:
    conditions = []
    if f.model_id:
        conditions.append(pl.col("model_id") == f.model_id)
    if f.severity:
        conditions.append(pl.col("severity") == f.severity)
    if f.region:
        conditions.append(pl.col("region_code").str.starts_with(scope_prefix(f.region)))
    if f.lifecycle == "open":
        conditions.append((pl.col("status") == "open") & ~pl.col("stale"))
    elif f.lifecycle == "resolved":
        conditions.append(pl.col("status") == "resolved")
    elif f.lifecycle == "stale":
        conditions.append(pl.col("stale"))
    if f.date_from:
        conditions.append(pl.col("event_date") >= f.date_from)
    if f.date_to:
        conditions.append(pl.col("event_date") <= f.date_to)
    if f.subject_ref:
        conditions.append(pl.col("subject_ref") == f.subject_ref)
    return frame.filter(pl.all_horizontal(conditions).fill_null(False)) if conditions else frame


def _disposition_filter(frame: pl.DataFrame, status: str | None, states: dict[str, State]) -> pl.DataFrame:
    if not status:
        return frame
    if status == INITIAL:  # untouched alerts are pushed too
        moved = [a for a, s in states.items() if s.status != INITIAL]
        return frame.filter(~pl.col("alert_id").is_in(moved))
    return frame.filter(pl.col("alert_id").is_in([a for a, s in states.items() if s.status == status]))


def filtered(publication: Publication, principal: Principal, store: Store, f: AlertFilters) -> pl.DataFrame:
    frame = _published_filters(visible(publication, principal), f)
    if f.disposition:
        frame = _disposition_filter(frame, f.disposition, dispositions.states(store))
    return frame


def summaries(frame: pl.DataFrame, store: Store) -> list[dict]:
    """Rows of ``frame`` as API summaries, with their current disposition."""
    rows = frame.select(SUMMARY_COLUMNS).to_dicts()
    states = dispositions.states(store, [r["alert_id"] for r in rows]) if rows else {}
    for row in rows:
        state = states.get(row["alert_id"], dispositions.UNTOUCHED)
        row["disposition_status"], row["disposition_unit"] = state.status, state.unit
    return rows


def list_alerts(publication: Publication, principal: Principal, store: Store, f: AlertFilters,
                *, limit: int, offset: int) -> dict:
    frame = filtered(publication, principal, store, f)
    return {"total": frame.height, "limit": limit, "offset": offset,
            "publication_version": publication.alerts_version,
            "items": summaries(frame.slice(offset, limit), store)}


def visible_alert(publication: Publication, principal: Principal, alert_id: str) -> dict | None:
    """The alert if it exists AND the principal may see it; otherwise None (the caller answers 404
    either way, so a county user cannot even learn that another county's alert id exists)."""
    alert = publication.alert(alert_id)
    return alert if alert is not None and principal.sees(alert) else None


# --------------------------------------------------------------------------- evidence
def parse_evidence(text: str | None) -> dict:
    """The evidence JSON as a dict; text that is not a JSON object is kept under ``raw``."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return {"raw": text}
    return value if isinstance(value, dict) else {"raw": value}


def findings(evidence: dict) -> list[dict]:
    """The evidence as a list of findings, each with records, relation_path, figures and thresholds.

    Two shapes are published: one finding at the top level ({"records", "relation_path",
    "figures", "thresholds"}), or the alert contract macro's {"findings": [one per rule branch]}
    whose findings may name their relation as a sentence under ``relation``."""
    items = evidence.get("findings") if isinstance(evidence.get("findings"), list) else [evidence]
    out = []
    for item in items:
        if not isinstance(item, dict):
            out.append({"branch": None, "records": [], "relation_path": [str(item)], "figures": {}, "thresholds": {}})
            continue
        path = item.get("relation_path")
        if path is None and item.get("relation") is not None:
            path = [item["relation"]]
        out.append({"branch": item.get("branch"), "records": list(item.get("records") or []),
                    "relation_path": path if isinstance(path, list) else ([path] if path else []),
                    "figures": item.get("figures") or {}, "thresholds": item.get("thresholds") or {}})
    return out


def detail(alert: dict, store: Store) -> dict:
    state = dispositions.state_of(store, alert["alert_id"])
    evidence = parse_evidence(alert["evidence"])
    return {**{k: alert[k] for k in SUMMARY_COLUMNS}, "stale_as_of": alert["stale_as_of"],
            "evidence": evidence, "findings": findings(evidence),
            "disposition_status": state.status, "disposition_unit": state.unit,
            "legal_actions": dispositions.legal_actions(state.status),
            "dispositions": dispositions.history(store, alert["alert_id"])}


# --------------------------------------------------------------------------- export
def export_csv(frame: pl.DataFrame, store: Store) -> str:
    """The filtered alerts as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese titles)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[*SUMMARY_COLUMNS, "disposition_status", "disposition_unit"],
                            lineterminator="\r\n")
    writer.writeheader()
    for start in range(0, frame.height, 1000):
        writer.writerows(summaries(frame.slice(start, 1000), store))
    return "\ufeff" + buffer.getvalue()


# --------------------------------------------------------------------------- scorecard
def scorecard(publication: Publication, principal: Principal, store: Store) -> list[dict]:
    """Per model, rule branch and county: alerts by severity and lifecycle, dispositions, and the
    verified-hit rate (查实率) = confirmed / (confirmed + dismissed), rectified counting as confirmed
    (models.md), over the alerts the principal sees and their current dispositions."""
    frame = visible(publication, principal).select("alert_id", "model_id", "rule_branch", "region_code",
                                                   "severity", "status")
    states = dispositions.states(store, frame["alert_id"].to_list()) if frame.height else {}
    frame = frame.with_columns(pl.col("alert_id").replace_strict(
        {a: s.status for a, s in states.items()}, default=INITIAL, return_dtype=pl.Utf8).alias("disposition"))
    count = lambda expr: expr.sum().cast(pl.Int64)
    grouped = frame.group_by("model_id", "rule_branch", "region_code").agg(
        count(pl.col("severity") == "red").alias("alerts_red"),
        count(pl.col("severity") == "yellow").alias("alerts_yellow"),
        count(pl.col("status") == "open").alias("open"),
        count(pl.col("status") == "resolved").alias("resolved"),
        count(pl.col("disposition") == "confirmed").alias("confirmed"),
        count(pl.col("disposition") == "dismissed").alias("dismissed"),
        count(pl.col("disposition") == "rectified").alias("rectified"))
    hits = pl.col("confirmed") + pl.col("rectified")
    grouped = grouped.with_columns(
        pl.when(hits + pl.col("dismissed") > 0).then(hits / (hits + pl.col("dismissed"))).otherwise(None)
        .alias("verified_hit_rate"))
    return grouped.sort("model_id", "rule_branch", "region_code").to_dicts()


def per_model(rows: list[dict]) -> list[dict]:
    """Scorecard rows summed per model (the triage page's chart)."""
    models: dict[str, dict] = {}
    for r in rows:
        m = models.setdefault(r["model_id"], {"model_id": r["model_id"], "alerts": 0, "confirmed": 0,
                                              "dismissed": 0, "rectified": 0})
        m["alerts"] += r["alerts_red"] + r["alerts_yellow"]
        for k in ("confirmed", "dismissed", "rectified"):
            m[k] += r[k]
    for m in models.values():
        hits = m["confirmed"] + m["rectified"]
        m["verified_hit_rate"] = hits / (hits + m["dismissed"]) if hits + m["dismissed"] else None
    return sorted(models.values(), key=lambda m: m["model_id"])


# --------------------------------------------------------------------------- changes feed
@dataclass(frozen=True)
class Cursor:
    """Where a consumer is in the feed: the publication version and disposition event it has seen
    (``version`` -1: nothing yet), and while paging through one batch of changes, the batch's end
    (``to_version``, ``to_event``) and the last alert id returned."""
    version: int
    event: int
    to_version: int | None = None
    to_event: int | None = None
    after: str | None = None

    def encode(self) -> str:
        data = {"v": self.version, "e": self.event}
        if self.to_version is not None:
            data.update(tv=self.to_version, te=self.to_event, a=self.after)
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        try:
            data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            cursor = cls(int(data["v"]), int(data["e"]), data.get("tv"), data.get("te"), data.get("a"))
            ok = (cursor.version >= -1 and cursor.event >= 0
                  and (cursor.to_version is None) == (cursor.to_event is None)
                  and all(isinstance(x, int) for x in (cursor.to_version, cursor.to_event) if x is not None)
                  and (cursor.after is None or isinstance(cursor.after, str)))
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
            ok = False
        if not ok:
            raise QueryError("invalid cursor: pass back a next_cursor exactly as the feed returned it, or omit it "
                             "to start from the beginning")
        return cursor


def feed(lake: PublishedLake, principal: Principal, store: Store, cursor: Cursor | None, limit: int) -> dict:
    """Alerts new, changed (any published column but last_detected_as_of), removed, or disposed of
    since ``cursor``, in alert_id order, ``limit`` at a time."""
    publication = lake.current
    cursor = cursor or Cursor(-1, 0)
    if cursor.to_version is None:  # a new batch of changes: up to what is published now
        head = publication.alerts_version if publication.alerts_version is not None else -1
        cursor = Cursor(cursor.version, cursor.event, head, dispositions.latest_event_id(store), None)
    if cursor.version > cursor.to_version or cursor.event > cursor.to_event:
        raise QueryError("invalid cursor: it is ahead of the publication")
    new = _frame_at(lake, cursor.to_version)
    old = _frame_at(lake, cursor.version)
    new_hashes, old_hashes = change_hashes(new), change_hashes(old)
    kinds: dict[str, str] = {a: ("changed" if a in old_hashes else "new")
                             for a, h in new_hashes.items() if old_hashes.get(a) != h}
    kinds.update({a: "removed" for a in old_hashes if a not in new_hashes})
    for alert_id in dispositions.alerts_changed_between(store, cursor.event, cursor.to_event):
        kinds.setdefault(alert_id, "disposition")
    rows = pl.concat([new.filter(pl.col("alert_id").is_in(list(kinds))),
                      old.filter(pl.col("alert_id").is_in([a for a, k in kinds.items() if k == "removed"]))])
    rows = rows.filter(principal.alert_filter())
    if cursor.after is not None:
        rows = rows.filter(pl.col("alert_id") > cursor.after)
    rows = rows.sort("alert_id")
    page, more = rows.head(limit), rows.height > limit
    items = summaries(page, store)
    for item in items:
        item["change"] = kinds[item["alert_id"]]
    if more:
        next_cursor = Cursor(cursor.version, cursor.event, cursor.to_version, cursor.to_event, items[-1]["alert_id"])
    else:
        next_cursor = Cursor(cursor.to_version, cursor.to_event)
    return {"items": items, "has_more": more, "next_cursor": next_cursor.encode(),
            "publication_version": cursor.to_version}


def _frame_at(lake: PublishedLake, version: int) -> pl.DataFrame:
    if version < 0:
        return empty_alerts()
    try:
        return lake.alerts_at(version)
    except TableError as exc:
        raise QueryError(f"the cursor's publication (version {version}) can no longer be read ({exc}); "
                         "start again without a cursor", status=410) from exc
