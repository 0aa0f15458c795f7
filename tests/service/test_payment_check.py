"""The real-time payment check (SM03 before payment) and the ineligible-payee index it reads."""
from __future__ import annotations

import pytest

from orchestration.service import tables
from orchestration.service.payment_check import canonical_category
from service_helpers import CADRE_ID, COMPANY, KEY, OFFICIAL_ID, auth

XIHU_VILLAGE = "330106001001"
OTHER_VILLAGE = "330106002001"


def check(client, token, **overrides):
    body = {"village_code": XIHU_VILLAGE, "payee_id": CADRE_ID, "category": "work_subsidy", "amount": "300.00",
            "pay_date": "2026-09-01"} | overrides
    return client.post("/checks/payment", json=body, headers=auth(token))


def decision(client, token, **overrides) -> tuple[str, str]:
    response = check(client, token, **overrides)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["decision"], body["reason_code"]


def test_salaried_cadre_of_the_paying_village_is_blocked(client, tokens):
    body = check(client, tokens.payment).json()
    assert body["decision"] == "block" and body["rule"] == "SM03" and body["branches"] == ["cadre"]
    assert "领薪村干部" in body["reason"] and body["index_version"] == 0


def test_cadre_of_another_village_or_before_pay_start_is_allowed(client, tokens):
    assert decision(client, tokens.payment, village_code=OTHER_VILLAGE) == ("allow", "eligible")
    assert decision(client, tokens.payment, pay_date="2023-12-31") == ("allow", "eligible")
    assert decision(client, tokens.payment, pay_date="2024-01-01") == ("block", "cadre")


def test_official_in_post_is_blocked_anywhere_until_the_post_ends(client, tokens):
    assert decision(client, tokens.payment, payee_id=OFFICIAL_ID, village_code=OTHER_VILLAGE,
                    pay_date="2026-05-01") == ("block", "official")
    assert decision(client, tokens.payment, payee_id=OFFICIAL_ID, pay_date="2026-06-30") == ("block", "official")
    assert decision(client, tokens.payment, payee_id=OFFICIAL_ID, pay_date="2026-07-01") == ("allow", "eligible")


@pytest.mark.parametrize("spelling", [
    "33012019630404004x", "３３０１２０１９６３０４０４００４Ｘ", " 330120 19630404\u3000004X ", "330120630404004",
])
def test_any_source_spelling_finds_the_person(client, tokens, spelling):
    assert decision(client, tokens.payment, payee_id=spelling) == ("block", "cadre")


def test_bad_check_character_is_review(client, tokens):
    body = check(client, tokens.payment, payee_id="33012019630404004Y").json()
    assert (body["decision"], body["reason_code"], body["rule"]) == ("review", "invalid_payee_id", None)
    assert decision(client, tokens.payment, payee_id="330120196304040041") == ("review", "invalid_payee_id")


def test_company_payee_and_other_categories_are_allowed(client, tokens):
    assert decision(client, tokens.payment, payee_id=COMPANY) == ("allow", "company_payee")
    assert decision(client, tokens.payment, payee_id=COMPANY.lower()) == ("allow", "company_payee")
    for category in ("materials", "project", "lease", "welfare", "other", "材料款"):
        assert decision(client, tokens.payment, category=category) == ("allow", "not_work_subsidy")


def test_native_category_labels_of_the_sources(client, tokens):
    assert canonical_category("务工补贴") == "work_subsidy" and canonical_category("01") == "work_subsidy"
    assert decision(client, tokens.payment, category="务工补贴") == ("block", "cadre")
    response = check(client, tokens.payment, category="subsidy")
    assert response.status_code == 422 and "unknown category" in response.json()["error"]


def test_scope_of_the_paying_system(client, tokens):
    response = check(client, tokens.payment, village_code="330381001001")
    assert response.status_code == 403 and "outside" in response.json()["error"]
    assert decision(client, tokens.payment_province, village_code="330381001001") == ("allow", "eligible")
    assert check(client, tokens.county).status_code == 403   # an inspection token does not check payments


def test_no_published_index_means_review(tmp_path, store, tokens):
    from fastapi.testclient import TestClient

    from orchestration.service.api import Service, create_app
    from orchestration.service.publication import PublishedLake

    app = create_app(Service(PublishedLake(tmp_path / "empty", reload_seconds=0), store, pseudonym_key=KEY))
    with TestClient(app) as c:
        assert decision(c, tokens.payment) == ("review", "index_unavailable")
        assert decision(c, tokens.payment, category="materials") == ("allow", "not_work_subsidy")


def test_a_new_index_is_used_without_restart(lake, service, client, tokens):
    assert decision(client, tokens.payment) == ("block", "cadre")
    tables.write_published(lake, "ineligible_payees", [])
    service.lake.refresh()
    assert check(client, tokens.payment).json()["index_version"] == 1
    assert decision(client, tokens.payment) == ("allow", "eligible")


def test_fast_path_and_route_answer_alike(lake, store, tokens):
    """The payment check's fast path (PaymentCheckFastPath) and the FastAPI route give the same
    status and body for good and bad requests alike."""
    from fastapi.testclient import TestClient

    from orchestration.service.api import Service, create_app
    from orchestration.service.publication import PublishedLake

    cases = [({}, tokens.payment), ({"payee_id": OFFICIAL_ID, "pay_date": "2026-05-01"}, tokens.payment),
             ({"payee_id": "33012019630404004Y"}, tokens.payment), ({"payee_id": COMPANY}, tokens.payment),
             ({"category": "01"}, tokens.payment), ({"category": "nope"}, tokens.payment),
             ({"village_code": "330381001001"}, tokens.payment), ({}, tokens.county), ({"amount": -5}, tokens.payment),
             ({"extra": 1}, tokens.payment), ({}, "pt_0123456789abcdef_" + "x" * 43)]
    answers = []
    for fast in (True, False):
        app = create_app(Service(PublishedLake(lake, reload_seconds=0), store, pseudonym_key=KEY, payment_fast_path=fast))
        with TestClient(app) as c:
            answers.append([(r.status_code, r.json()) for r in (check(c, token, **o) for o, token in cases)])
    assert answers[0] == answers[1]
    assert [status for status, _ in answers[0]] == [200, 200, 200, 200, 200, 422, 403, 403, 422, 422, 401]
