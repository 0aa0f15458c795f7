"""Request and response bodies of the HTTP API (they make its OpenAPI description).

Identifier patterns are strict on purpose: a value outside them is answered 422 before any data
is touched, which is also what keeps injection and path strings away from the lake and database.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestration.service.dispositions import ACTIONS, STATUSES

ALERT_ID = r"^[0-9a-f]{32}$"                        # md5 hex of model_id|primary_key (alert contract)
SUBJECT_REF = r"^([0-9a-f]{64}|[0-9A-Z]{18})$"      # person_ref (HMAC-SHA256 hex) or credit code
REGION = r"^\d{6}$"
MODEL_ID = r"^[A-Za-z0-9_]{1,32}$"
VILLAGE_CODE = r"^\s*\d{12}\s*$"

Severity = Literal["red", "yellow"]
Lifecycle = Literal["open", "resolved", "stale"]
DispositionStatus = Literal[STATUSES]
ActionName = Literal[tuple(ACTIONS)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Error(BaseModel):
    error: str = Field(description="what was wrong, in one sentence")
    detail: list | None = Field(None, description="per-field problems of a request that failed validation")


class AlertSummary(BaseModel):
    alert_id: str
    model_id: str
    model_version: str | None
    rule_branch: str
    severity: Severity
    domain: str | None
    region_code: str
    primary_key: str
    subject_ref: str | None
    title: str | None
    amount: Decimal | None = Field(description="yuan, exact (a JSON string)")
    event_date: dt.date | None
    status: str
    stale: bool
    first_detected_as_of: dt.date | None
    last_detected_as_of: dt.date | None
    resolved_as_of: dt.date | None
    disposition_status: DispositionStatus
    disposition_unit: str | None


class AlertPage(BaseModel):
    total: int
    limit: int
    offset: int
    publication_version: int | None
    items: list[AlertSummary]


class DispositionEvent(BaseModel):
    event_id: int
    alert_id: str
    action: str
    from_status: str
    to_status: str
    reason: str | None
    unit: str
    actor: str
    recorded_at: str
    model_id: str
    model_version: str | None
    region_code: str


class Finding(BaseModel):
    branch: str | None
    records: list
    relation_path: list
    figures: dict
    thresholds: dict


class AlertDetail(AlertSummary):
    stale_as_of: dt.date | None
    evidence: dict = Field(description="the published evidence JSON, parsed")
    findings: list[Finding] = Field(description="the evidence as findings: records, relation path, figures, thresholds")
    legal_actions: list[str]
    dispositions: list[DispositionEvent]


class FeedItem(AlertSummary):
    change: Literal["new", "changed", "removed", "disposition"]


class FeedPage(BaseModel):
    items: list[FeedItem]
    has_more: bool = Field(description="true: call again at once with next_cursor")
    next_cursor: str = Field(description="opaque; pass it back as ?cursor= on the next poll")
    publication_version: int | None


class DispositionRequest(_Strict):
    action: ActionName
    reason: str | None = Field(None, max_length=2000, description="required for dismiss and reopen")
    to_unit: str | None = Field(None, max_length=200, description="required for transfer")
    expected_status: DispositionStatus | None = Field(
        None, description="refuse (409) unless the alert is still in this status")


class ScorecardRow(BaseModel):
    model_id: str
    rule_branch: str
    region_code: str
    alerts_red: int
    alerts_yellow: int
    open: int
    resolved: int
    confirmed: int
    dismissed: int
    rectified: int
    verified_hit_rate: float | None


class Identity(BaseModel):
    subject_ref: str
    id_number: str
    name: str | None


class PaymentCheckRequest(_Strict):
    village_code: str = Field(pattern=VILLAGE_CODE, description="12-digit code of the paying village")
    payee_id: str = Field(min_length=1, max_length=64, description="payee's id_number or credit code, as spelled")
    category: str = Field(min_length=1, max_length=32,
                          description="canonical category (work_subsidy, materials, ...) or a source's native label")
    amount: Decimal = Field(ge=0, max_digits=18, decimal_places=2, description="yuan")
    pay_date: dt.date


class PaymentCheckResponse(BaseModel):
    decision: Literal["allow", "block", "review"]
    rule: str | None = Field(description="SM03 when the rule was applied to the payee")
    branches: list[str] = Field(description="cadre and/or official, when blocked")
    reason_code: str
    reason: str
    index_version: int | None = Field(description="Delta version of published/ineligible_payees used")


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    alerts_version: int | None
    alerts: int
    ineligible_payees_version: int | None
    loaded_at: dt.datetime
    problem: str | None
