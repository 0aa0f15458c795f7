"""Helpers of the alert service tests: a small published lake written with the published schemas
(orchestration/service/tables.py)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from orchestration.pseudonym import person_ref
from orchestration.service import tables

KEY = "service-test-key"
AS_OF = dt.date(2026, 10, 31)

# Persons of the fixture (valid id_numbers) and their refs under the test key.
CADRE_ID = "33012019630404004X"       # salaried cadre of village 330106001001 from 2024-01-01
OFFICIAL_ID = "330102199003070035"    # official in post 2020-01-01 .. 2026-06-30
CADRE_REF = person_ref(CADRE_ID, key=KEY)
OFFICIAL_REF = person_ref(OFFICIAL_ID, key=KEY)
COMPANY = "91330102MA27XL4N06"


def alert_id(model_id: str, primary_key: str) -> str:
    """The alert contract's id: md5 hex of model_id|primary_key."""
    return hashlib.md5(f"{model_id}|{primary_key}".encode()).hexdigest()


def make_alert(model_id: str, primary_key: str, *, severity: str = "red", domain: str = "village",
               region_code: str = "330106", subject_ref: str = CADRE_REF, rule_branch: str = "cadre",
               status: str = "open", event_date: dt.date = dt.date(2026, 9, 1), **extra) -> dict:
    evidence = {"records": [{"entity": "village_payment", "key": primary_key}, {"entity": "person", "key": subject_ref}],
                "relation_path": [{"from": "payee", "relation": "is", "to": "salaried cadre"}],
                "figures": {"amount": "1200.00"}, "thresholds": {"min_share": 0.05}}
    row = {"alert_id": alert_id(model_id, primary_key), "model_id": model_id, "model_version": "1.0.0",
           "rule_branch": rule_branch, "severity": severity, "domain": domain, "region_code": region_code,
           "primary_key": primary_key, "subject_ref": subject_ref, "title": "村干部违规领取务工补贴",
           "evidence": json.dumps(evidence, ensure_ascii=False), "amount": None, "event_date": event_date,
           "status": status, "first_detected_as_of": AS_OF, "last_detected_as_of": AS_OF,
           "resolved_as_of": AS_OF if status == "resolved" else None, "stale": False, "stale_as_of": None}
    row.update(extra)
    return row


def fixture_alerts() -> list[dict]:
    from decimal import Decimal

    return [
        make_alert("SM03", "village_finance_330100:ZF1", amount=Decimal("1200.00")),                     # Xihu
        make_alert("SM03", "village_finance_330300:ZF2", region_code="330381"),                          # Rui'an
        make_alert("SM08", "asset_trading_330100:L1", severity="yellow", domain="assets", rule_branch="a",
                   subject_ref=COMPANY),
        make_alert("SM04", "H1|G1|2026-08", severity="yellow", domain="medical", rule_branch="yellow",
                   subject_ref=COMPANY, event_date=dt.date(2026, 8, 1)),
        make_alert("SM04", "H1|G1|2026-08|D1", severity="red", domain="medical", rule_branch="red",
                   subject_ref=OFFICIAL_REF, event_date=dt.date(2026, 8, 1)),
        make_alert("SM02", "village_finance_330100:XM9", severity="yellow", region_code="330102",
                   rule_branch="b", status="resolved", event_date=dt.date(2026, 3, 5)),
        make_alert("SM05", "C1|2026-09", severity="yellow", domain="bidding", region_code="330108",
                   rule_branch="yellow", stale=True, stale_as_of=dt.date(2026, 10, 20), subject_ref=COMPANY),
    ]


def fixture_payees() -> list[dict]:
    return [
        {"person_ref": CADRE_REF, "branch": "cadre", "village_code": "330106001001",
         "valid_from": dt.date(2024, 1, 1), "valid_to": None},
        {"person_ref": OFFICIAL_REF, "branch": "official", "village_code": None,
         "valid_from": dt.date(2020, 1, 1), "valid_to": dt.date(2026, 6, 30)},
    ]


def write_lake(lake: Path) -> Path:
    tables.write_published(lake, "alerts", fixture_alerts())
    tables.write_published(lake, "ineligible_payees", fixture_payees())
    tables.write_person_identity(lake, [{"person_ref": CADRE_REF, "id_number": CADRE_ID, "name": "张三"},
                                        {"person_ref": OFFICIAL_REF, "id_number": OFFICIAL_ID, "name": "李四"}])
    return lake


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
