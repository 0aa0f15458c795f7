"""Planting and truth oracles of SM04, SM05, SM06, SM07, SM09 and SM10.

Two halves: (1) a planted world at SF 0.01 — enough positives and decoys per branch, every positive
in the truth with its branch and severity, no decoy in it, determinism; (2) tiny hand-built
registries fed straight into ``truth`` that pin the edge semantics of models.md.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter

import polars as pl
import pytest

from orchestration.canonical import entities
from orchestration.pseudonym import person_ref
from orchestration.world.core import PROVINCE_SYSTEMS, WORLD_END, World
from orchestration.world.scenarios import sm04, sm05, sm06, sm07, sm09, sm10
from orchestration.world.scenarios._common import DEFAULT_PARAMS
from orchestration.world.scenarios._frames import frame, frames

pytestmark = pytest.mark.filterwarnings("ignore:POWERTRACE_PSEUDONYM_KEY")

MODULES = {"SM04": sm04, "SM05": sm05, "SM06": sm06, "SM07": sm07, "SM09": sm09, "SM10": sm10}
BRANCHES = {"SM04": ("yellow", "red"), "SM05": ("yellow", "red"), "SM06": ("a", "b", "c"),
            "SM07": ("a", "b", "c", "d"),
            "SM09": ("client_ip", "client_mac", "doc_hash", "contact_phone", "legal_rep", "company_phone", "same_price"),
            "SM10": ("official", "relative")}
SEED = 20261127


# =========================================================================== the planted world
def planted_world(seed: int = SEED) -> World:
    world = World(seed, 0.01)
    for module in MODULES.values():
        module.plant(world)
    return world


@pytest.fixture(scope="module")
def world() -> World:
    return planted_world()


@pytest.fixture(scope="module")
def truth(world) -> dict[str, dict[str, tuple[str, str]]]:
    """model_id -> primary_key -> (rule_branch, severity), over every planted row of the six models."""
    tables = frames(world)
    out = {}
    for model_id, module in MODULES.items():
        alerts = module.truth(tables, DEFAULT_PARAMS)
        assert alerts.columns == ["model_id", "rule_branch", "primary_key", "severity"]
        assert alerts["primary_key"].n_unique() == alerts.height, f"{model_id}: one row per primary_key"
        assert set(alerts["model_id"]) <= {model_id}
        out[model_id] = {k: (b, s) for k, b, s in alerts.select(["primary_key", "rule_branch", "severity"]).iter_rows()}
    return out


def test_every_branch_has_at_least_20_positives_and_20_decoys(world):
    counts = Counter((p.model_id, p.rule_branch, p.decoy) for p in world.planted)
    for model_id, branches in BRANCHES.items():
        for branch in branches:
            assert counts[(model_id, branch, False)] >= 20, f"{model_id}/{branch}: positives"
            assert counts[(model_id, branch, True)] >= 20, f"{model_id}/{branch}: decoys"


def test_every_planted_positive_alerts_with_its_branch_and_severity(world, truth):
    for p in (p for p in world.planted if not p.decoy and p.model_id in MODULES):
        assert p.primary_key in truth[p.model_id], f"{p.model_id} {p.rule_branch} missing: {p.primary_key} ({p.note})"
        branches, severity = truth[p.model_id][p.primary_key]
        assert p.rule_branch in branches.split(","), f"{p.model_id} {p.primary_key}: {branches} ({p.note})"
        assert severity == p.severity, f"{p.model_id} {p.primary_key}: {severity} != {p.severity} ({p.note})"


def test_no_decoy_alerts(world, truth):
    hits = [(p.model_id, p.rule_branch, p.primary_key, p.note) for p in world.planted
            if p.decoy and p.model_id in MODULES and p.primary_key in truth[p.model_id]]
    assert not hits


def test_planted_keys_are_qualified_and_a_good_share_is_late(world):
    late_months = 0
    for p in (p for p in world.planted if p.model_id in MODULES):
        if p.model_id != "SM04":  # SM04 keys are hospital credit codes, not record ids
            assert ":" in p.primary_key.split("|")[0], p.primary_key
        late_months += "2026-10" in p.primary_key
    assert late_months > 20  # month-keyed scenarios reach the daily batches too


def test_sm06_claims_of_one_accident_are_approved_inside_the_world():
    """A claim approved after the world's last day is never delivered: a planted pair or triple
    would lose a member and its alert (approvals a day apart are capped at the last day)."""
    world = World(SEED, 0.01)
    planter = sm06._Planter(world)
    for _ in range(300):
        planter.branch_c("triple", True)
    assert max(row["approved_date"] for row in world.tables["injury_claim"]) <= WORLD_END


def test_planting_is_deterministic(world):
    again = planted_world()
    assert again.planted == world.planted
    assert again.tables == world.tables


# =========================================================================== hand-built registries
D = dt.date(2026, 5, 10)
DAY = dt.timedelta(days=1)
CITY_SYSTEM = "public_resource_trading_330100"


def tables(**rows: list[dict]) -> dict[str, pl.DataFrame]:
    """Typed frames of every entity from a few hand-written rows (``_system_id`` defaulted for
    province entities)."""
    out = {}
    for entity in entities():
        given = rows.get(entity, [])
        default = PROVINCE_SYSTEMS.get(entity)
        out[entity] = frame(entity, [{"_system_id": default, **row} for row in given])
    return out


def alerts(module, params=None, **rows) -> dict[str, str]:
    """primary_key -> rule_branch of the module's truth over hand-written rows."""
    result = module.truth(tables(**rows), {**DEFAULT_PARAMS, **(params or {})})
    return dict(zip(result["primary_key"], result["rule_branch"]))


def household(hid: str, **members: str) -> list[dict]:
    return [{"id_number": pid, "household_id": hid, "relation_to_head": role.rstrip("0123456789")}
            for role, pid in members.items()]


# ------------------------------------------------------------------ SM04
def purchases(*monthly: int, first: str = "2026-01") -> list[dict]:
    """One order per month from ``first`` (zero = no order that month)."""
    y, m = int(first[:4]), int(first[5:])
    rows = []
    for i, q in enumerate(monthly):
        yy, mm = y + (m - 1 + i) // 12, (m - 1 + i) % 12 + 1
        if q:
            rows.append({"order_id": f"O{i}", "hospital_code": "H", "drug_code": "G", "quantity": q,
                         "order_date": dt.date(yy, mm, 15)})
    return rows


def rx(doctor: str, month: str, quantity: int) -> dict:
    return {"rx_id": f"{doctor}{month}{quantity}", "hospital_code": "H", "doctor_id": doctor, "drug_code": "G",
            "quantity": quantity, "rx_date": dt.date(int(month[:4]), int(month[5:]), 12),
            "_system_id": "hospital_his_001"}


@pytest.mark.parametrize("monthly,alerting", [
    ((40, 40, 40, 120), True),        # exactly spike_factor x baseline
    ((40, 40, 40, 119), False),
    ((50, 50, 500), False),           # only two months of history
    ((33, 33, 33, 99), False),        # 3x but below min_quantity
    ((50, 0, 0, 100), True),          # zero-filled history: median 0, min_quantity decides
    ((90, 90, 90, 90, 90, 30, 30, 30, 30, 90, 90, 100), True),  # only the last six months count
    ((40, 40, 40, 130, 0), True),     # the quiet month after is not judged (quantity 0)
])
def test_sm04_yellow(monthly, alerting):
    first = "2025-11"
    found = alerts(sm04, drug_purchase=purchases(*monthly, first=first))
    spike_month = max((i for i, q in enumerate(monthly) if q), key=lambda i: monthly[i])
    y, m = 2025 + (10 + spike_month) // 12, (10 + spike_month) % 12 + 1
    assert (f"H|G|{y}-{m:02d}" in found) is alerting
    assert all(v == "yellow" for v in found.values())


def test_sm04_red_needs_share_and_personal_spike():
    yellow = purchases(40, 40, 40, 200)  # 2026-04 is yellow
    key = "H|G|2026-04|"
    # D1 has 40 % of the month exactly, D2 60 %; neither prescribed before
    found = alerts(sm04, drug_purchase=yellow, prescription=[rx("D1", "2026-04", 40), rx("D2", "2026-04", 60)])
    assert found[key + person_ref("D1")] == "red" and found[key + person_ref("D2")] == "red"
    found = alerts(sm04, drug_purchase=yellow, prescription=[rx("D1", "2026-04", 39), rx("D2", "2026-04", 61)])
    assert key + person_ref("D1") not in found
    # a steady personal history (median 30 over the 6 months before) needs 90 in M
    steady = [rx("D1", f"{m}", 30) for m in ("2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03")]
    assert key + person_ref("D1") not in alerts(sm04, drug_purchase=yellow, prescription=[*steady, rx("D1", "2026-04", 89)])
    assert key + person_ref("D1") in alerts(sm04, drug_purchase=yellow, prescription=[*steady, rx("D1", "2026-04", 90)])
    # no red outside a yellow month
    quiet = purchases(40, 40, 40, 110)
    assert alerts(sm04, drug_purchase=quiet, prescription=[rx("D1", "2026-04", 50)]) == {}


# ------------------------------------------------------------------ SM05
def contract(sign: dt.date, end: dt.date | None, required: int | None = 10, lead: str | None = "L") -> dict:
    return {"contract_id": "C1", "project_id": "P1", "sign_date": sign, "end_date": end, "technical_lead_id": lead,
            "required_onsite_days_per_month": required, "_system_id": CITY_SYSTEM}


def present(month: str, days: int, person: str = "L", project: str = "P1", city: str = "330100") -> list[dict]:
    y, m = int(month[:4]), int(month[5:])
    return [{"project_id": project, "id_number": person, "work_date": dt.date(y, m, 1 + k),
             "_system_id": f"site_attendance_{city}"} for k in range(days)]


def test_sm05_branches_by_days_present():
    found = alerts(sm05, contract=[contract(dt.date(2026, 1, 1), dt.date(2026, 3, 31))],
                   site_attendance=present("2026-01", 10) + present("2026-02", 5) + present("2026-03", 4))
    key = f"{CITY_SYSTEM}:C1|"
    assert found == {key + "2026-02": "yellow", key + "2026-03": "red,yellow"}


def test_sm05_only_whole_months_up_to_the_as_of_date():
    partial = contract(dt.date(2026, 1, 2), dt.date(2026, 3, 30))
    assert set(alerts(sm05, contract=[partial])) == {f"{CITY_SYSTEM}:C1|2026-02"}
    assert alerts(sm05, {"as_of_date": dt.date(2026, 2, 27)}, contract=[partial]) == {}
    open_ended = contract(dt.date(2026, 9, 1), None)
    assert set(alerts(sm05, contract=[open_ended])) == {f"{CITY_SYSTEM}:C1|2026-09", f"{CITY_SYSTEM}:C1|2026-10"}


def test_sm05_only_the_leads_days_on_this_project_in_this_city_count():
    found = alerts(sm05, contract=[contract(dt.date(2026, 1, 1), dt.date(2026, 1, 31))],
                   site_attendance=present("2026-01", 20, project="P2") + present("2026-01", 20, city="330200")
                   + present("2026-01", 20, person="WORKER"))
    assert found == {f"{CITY_SYSTEM}:C1|2026-01": "red,yellow"}


def test_sm05_no_requirement_or_no_lead_is_not_judged():
    for row in (contract(dt.date(2026, 1, 1), dt.date(2026, 3, 31), required=0),
                contract(dt.date(2026, 1, 1), dt.date(2026, 3, 31), required=None),
                contract(dt.date(2026, 1, 1), dt.date(2026, 3, 31), lead=None)):
        assert alerts(sm05, contract=[row]) == {}


# ------------------------------------------------------------------ SM06
def claim(claim_id: str = "K1", injured: str = "I", accident: dt.date = D, handler: str = "OFFICER",
          approved: dt.date = D + 30 * DAY) -> dict:
    return {"claim_id": claim_id, "injured_id": injured, "employer_code": "E", "accident_date": accident,
            "handler_id": handler, "approved_date": approved}


def paid(month: str, employer: str = "E", person: str = "I") -> dict:
    return {"id_number": person, "employer_code": employer, "month": month}


@pytest.mark.parametrize("contributions,alerting", [
    ([paid("2026-03")], False),                  # M-2 counts
    ([paid("2026-05")], False),                  # M counts
    ([paid("2026-02"), paid("2026-06")], True),  # M-3 and M+1 do not
    ([paid("2026-05", employer="OTHER")], True),  # another employer does not
    ([], True),
])
def test_sm06_a_contribution_window(contributions, alerting):
    found = alerts(sm06, injury_claim=[claim()], insurance_contribution=contributions)
    assert (found.get("work_injury_330000:K1") == "a") is alerting


def test_sm06_b_handler_self_or_close_relative_at_approval():
    approved = D + 30 * DAY
    ok = [paid("2026-05")]
    assert alerts(sm06, injury_claim=[claim(handler="I")], insurance_contribution=ok) == {"work_injury_330000:K1": "b"}
    for dissolved, alerting in ((approved, False), (approved + DAY, True)):
        found = alerts(sm06, injury_claim=[claim(handler="S")], insurance_contribution=ok,
                       marriage=[{"marriage_id": "M", "person_a_id": "S", "person_b_id": "I",
                                  "registered_date": dt.date(2010, 1, 1), "dissolved_date": dissolved}])
        assert bool(found) is alerting
    in_law = household("H", head="X", spouse="I", parent="PARENT")
    assert alerts(sm06, injury_claim=[claim(handler="PARENT")], insurance_contribution=ok, person=in_law) == {}
    child = household("H", head="I", child="CHILD")
    assert alerts(sm06, injury_claim=[claim(handler="CHILD")], insurance_contribution=ok, person=child)


def test_sm06_c_same_person_same_accident_date():
    ok = [paid("2026-05")]
    found = alerts(sm06, injury_claim=[claim("K1"), claim("K2")], insurance_contribution=ok)
    assert found == {"work_injury_330000:K1": "c", "work_injury_330000:K2": "c"}
    assert alerts(sm06, injury_claim=[claim("K1"), claim("K2", accident=D + DAY)], insurance_contribution=ok) == {}


# ------------------------------------------------------------------ SM07
def subsidy(subsidy_id: str = "S1", month: str = "2026-05", region: str = "330102", program: str = "dibao",
            recipient: str = "R") -> dict:
    return {"subsidy_id": subsidy_id, "recipient_id": recipient, "program": program, "region_code": region,
            "pay_month": month, "_system_id": f"social_assistance_{region[:4]}00"}


S1 = "social_assistance_330100:S1"
FAMILY = household("H", head="R", child="M")


def test_sm07_a_death_before_the_pay_month():
    death = [{"id_number": "R", "death_date": dt.date(2026, 5, 1)}]
    pension = lambda month: {"pension_id": "P1", "recipient_id": "R", "pay_month": month}  # noqa: E731
    within = alerts(sm07, death=death, subsidy_payment=[subsidy(month="2026-05")], pension_payment=[pension("2026-05")])
    assert within == {}
    found = alerts(sm07, death=death, subsidy_payment=[subsidy(month="2026-06")], pension_payment=[pension("2026-06")])
    assert found == {S1: "a", "pension_330000:P1": "a"}


@pytest.mark.parametrize("official,cadre,alerting", [
    ({"start_date": dt.date(2020, 1, 1), "end_date": dt.date(2026, 5, 1)}, None, True),   # ended on the 1st
    ({"start_date": dt.date(2020, 1, 1), "end_date": dt.date(2026, 4, 30)}, None, False),
    ({"start_date": dt.date(2026, 5, 31), "end_date": None}, None, True),                  # started on the last day
    (None, {"term_start": dt.date(2020, 1, 1), "salaried_from": dt.date(2026, 5, 31)}, True),
    (None, {"term_start": dt.date(2020, 1, 1), "salaried_from": None}, False),
    (None, {"term_start": dt.date(2020, 1, 1), "salaried_from": dt.date(2026, 6, 1)}, False),
])
def test_sm07_b_household_member_in_post_or_salaried(official, cadre, alerting):
    rows = {"public_official": [{"id_number": "M", "org_code": "O", **official}] if official else [],
            "village_cadre": [{"id_number": "M", "village_code": "330102001001", **cadre}] if cadre else []}
    assert (alerts(sm07, person=FAMILY, subsidy_payment=[subsidy()], **rows).get(S1) == "b") is alerting


@pytest.mark.parametrize("rows,alerting", [
    ({"vehicle": [{"plate": "V", "owner_id": "M", "value": 100000.0, "registered_date": dt.date(2026, 5, 31)}]}, True),
    ({"vehicle": [{"plate": "V", "owner_id": "M", "value": 99999.99, "registered_date": dt.date(2025, 1, 1)}]}, False),
    ({"vehicle": [{"plate": "V", "owner_id": "M", "value": 300000.0, "registered_date": dt.date(2026, 6, 1)}]}, False),
    ({"vehicle": [{"plate": "V", "owner_id": "STRANGER", "value": 300000.0, "registered_date": dt.date(2025, 1, 1)}]}, False),
    ({"company": [{"credit_code": "C", "legal_rep_id": "X", "established_date": dt.date(2020, 1, 1)}],
      "shareholder": [{"credit_code": "C", "holder_id": "M", "holder_type": "person", "share_ratio": 0.05,
                       "from_date": dt.date(2020, 1, 1), "to_date": dt.date(2026, 5, 1)}]}, True),
    ({"company": [{"credit_code": "C", "legal_rep_id": "X", "established_date": dt.date(2020, 1, 1)}],
      "shareholder": [{"credit_code": "C", "holder_id": "M", "holder_type": "person", "share_ratio": 0.049,
                       "from_date": dt.date(2020, 1, 1)}]}, False),
    ({"company": [{"credit_code": "C", "legal_rep_id": "M", "established_date": dt.date(2020, 1, 1),
                   "deregistered_date": dt.date(2026, 5, 1)}]}, True),
    ({"company": [{"credit_code": "C", "legal_rep_id": "M", "established_date": dt.date(2020, 1, 1),
                   "deregistered_date": dt.date(2026, 4, 30)}]}, False),
    ({"company": [{"credit_code": "C", "legal_rep_id": "M", "established_date": dt.date(2026, 6, 1)}]}, False),
])
def test_sm07_c_household_vehicle_or_company_tie(rows, alerting):
    found = alerts(sm07, person=FAMILY, subsidy_payment=[subsidy()], **rows)
    assert (found.get(S1) == "c") is alerting


def test_sm07_d_two_regions_same_month_and_program():
    two = [subsidy("S1", region="330102"), subsidy("S2", region="330105")]
    assert alerts(sm07, subsidy_payment=two) == {S1: "d", "social_assistance_330100:S2": "d"}
    assert alerts(sm07, subsidy_payment=[subsidy("S1"), subsidy("S2")]) == {}
    assert alerts(sm07, subsidy_payment=[subsidy("S1"), subsidy("S2", region="330105", program="tekun")]) == {}
    assert alerts(sm07, subsidy_payment=[subsidy("S1"), subsidy("S2", region="330105", month="2026-06")]) == {}


# ------------------------------------------------------------------ SM09
def bid(bid_id: str, bidder: str, project: str = "P1", **values) -> dict:
    base = {"client_ip": f"10.0.0.{bid_id[-1]}", "client_mac": f"02:00:00:00:00:0{bid_id[-1]}",
            "doc_hash": f"h{bid_id}", "contact_phone": f"1380000000{bid_id[-1]}", "bid_price": 100.0 + int(bid_id[-1])}
    return {"bid_id": bid_id, "project_id": project, "bidder_code": bidder, "_system_id": CITY_SYSTEM, **base, **values}


PROJECTS = [{"project_id": p, "_system_id": CITY_SYSTEM} for p in ("P1", "P2")]
COMPANIES = [{"credit_code": c, "legal_rep_id": f"REP{c}", "phone": f"05718888000{i}"} for i, c in enumerate("AB")]
P1 = f"{CITY_SYSTEM}:P1"


@pytest.mark.parametrize("a,b,branch", [
    ({"client_mac": "AA-BB-CC-DD-EE-01"}, {"client_mac": "aa:bb:cc:dd:ee:01"}, "client_mac"),
    ({"contact_phone": "+86 138-1234-5678"}, {"contact_phone": "13812345678"}, "contact_phone"),
    ({"client_ip": "1.2.3.4"}, {"client_ip": " 1.2.3.4"}, "client_ip"),
    ({"doc_hash": "abc"}, {"doc_hash": "abc"}, "doc_hash"),
    ({"bid_price": 99.5}, {"bid_price": 99.5}, "same_price"),
    ({"client_ip": "0.0.0.0"}, {"client_ip": "0.0.0.0"}, None),
    ({"client_mac": "00:00:00:00:00:00"}, {"client_mac": "00-00-00-00-00-00"}, None),
    ({"doc_hash": "unknown"}, {"doc_hash": "UNKNOWN"}, None),
    ({"contact_phone": "-"}, {"contact_phone": "-"}, None),
    ({"client_ip": ""}, {"client_ip": None}, None),
])
def test_sm09_bid_fingerprints(a, b, branch):
    found = alerts(sm09, tender_project=PROJECTS, company=COMPANIES,
                   bid=[bid("B1", "A", **a), bid("B2", "B", **b)])
    assert found == ({P1: branch} if branch else {})


def test_sm09_company_fields():
    same_rep = [{**COMPANIES[0]}, {**COMPANIES[1], "legal_rep_id": "REPA"}]
    two_bids = [bid("B1", "A"), bid("B2", "B")]
    assert alerts(sm09, tender_project=PROJECTS, company=same_rep, bid=two_bids) == {P1: "legal_rep"}
    same_phone = [{**COMPANIES[0], "phone": "+86 13800001111"}, {**COMPANIES[1], "phone": "13800001111"}]
    assert alerts(sm09, tender_project=PROJECTS, company=same_phone, bid=two_bids) == {P1: "company_phone"}
    no_rep = [{**c, "legal_rep_id": None} for c in COMPANIES]
    assert alerts(sm09, tender_project=PROJECTS, company=no_rep, bid=two_bids) == {}


def test_sm09_same_bidder_single_bidder_and_other_projects_never_match():
    shared = {"client_ip": "9.9.9.9"}
    assert alerts(sm09, tender_project=PROJECTS, company=COMPANIES,
                  bid=[bid("B1", "A", **shared), bid("B2", "A", **shared), bid("B3", "B")]) == {}
    assert alerts(sm09, tender_project=PROJECTS, company=COMPANIES,
                  bid=[bid("B1", "A", **shared), bid("B2", "A", **shared)]) == {}
    assert alerts(sm09, tender_project=PROJECTS, company=COMPANIES,
                  bid=[bid("B1", "A", **shared), bid("B2", "B"), bid("B3", "A", project="P2"),
                       bid("B4", "B", project="P2", **shared)]) == {}


# ------------------------------------------------------------------ SM10
def project(award: dt.date | None = D, owner_type: str = "org") -> dict:
    return {"project_id": "P1", "owner_code": "ORG", "owner_type": owner_type, "award_date": award,
            "_system_id": CITY_SYSTEM}


def post(person: str = "OFF", end: dt.date | None = None, org: str = "ORG") -> dict:
    return {"id_number": person, "org_code": org, "start_date": dt.date(2015, 1, 1), "end_date": end}


def won(bidder: str = "W", status: str = "won") -> dict:
    return {"bid_id": f"B{bidder}", "project_id": "P1", "bidder_code": bidder, "status": status, "_system_id": CITY_SYSTEM}


def firm(code: str = "W", rep: str = "OFF") -> dict:
    return {"credit_code": code, "legal_rep_id": rep, "established_date": dt.date(2018, 1, 1)}


def test_sm10_official_in_post_at_award_is_the_winners_legal_rep():
    base = {"tender_project": [project()], "bid": [won()], "company": [firm()]}
    assert alerts(sm10, public_official=[post(end=D)], **base) == {P1: "official"}
    assert alerts(sm10, public_official=[post(end=D - DAY)], **base) == {}
    assert alerts(sm10, public_official=[post(org="OTHER")], **base) == {}
    assert alerts(sm10, public_official=[post()], **{**base, "tender_project": [project(award=None)]}) == {}
    assert alerts(sm10, public_official=[post()], **{**base, "tender_project": [project(owner_type="village")]}) == {}


def test_sm10_winner_is_the_won_bidder_else_the_contract_supplier():
    rows = {"tender_project": [project()], "public_official": [post()], "company": [firm("W"), firm("X", rep="NOBODY")],
            "contract": [{"contract_id": "C", "project_id": "P1", "supplier_code": "W", "_system_id": CITY_SYSTEM}]}
    assert alerts(sm10, bid=[won("W", "valid")], **rows) == {P1: "official"}   # no won bid: the contract decides
    assert alerts(sm10, bid=[won("X")], **rows) == {}                          # the won bid decides


@pytest.mark.parametrize("ratio,relation,alerting", [
    (0.05, "child", True), (0.049, "child", False), (0.3, "grandchild", False),
])
def test_sm10_close_relative_shareholder(ratio, relation, alerting):
    found = alerts(sm10, tender_project=[project()], bid=[won()], public_official=[post()],
                   company=[firm(rep="NOBODY")], person=household("H", head="OFF", **{relation: "REL"}),
                   shareholder=[{"credit_code": "W", "holder_id": "REL", "holder_type": "person", "share_ratio": ratio,
                                 "from_date": dt.date(2020, 1, 1)}])
    assert (found == {P1: "relative"}) is alerting
