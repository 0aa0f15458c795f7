"""Village models SM01, SM02, SM03, SM08: what is planted agrees with the independent truth oracle,
and the oracle's edge semantics are pinned on tiny hand-built cases."""
from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from orchestration.canonical import entities
from orchestration.world.core import BACKFILL_DATE, WORLD_END, WORLD_START, World, id_check_char, uscc_check_char
from orchestration.world.scenarios import sm01, sm02, sm03, sm08
from orchestration.world.scenarios._common import DEFAULT_PARAMS
from orchestration.world.scenarios._frames import frame, frames

MODULES = {"SM01": sm01, "SM02": sm02, "SM03": sm03, "SM08": sm08}
BRANCHES = {"SM01": "abc", "SM02": "ab", "SM03": ("cadre", "official"), "SM08": "ab"}
D = dt.date(2026, 6, 15)
DAY = dt.timedelta(days=1)


def planted_world(seed: int) -> World:
    world = World(seed, 0.01)
    for module in MODULES.values():
        module.plant(world)
    return world


@pytest.fixture(scope="module")
def world() -> World:
    return planted_world(20261127)


@pytest.fixture(scope="module")
def truths(world) -> dict:
    tables = frames(world)
    return {model: {row["primary_key"]: row for row in module.truth(tables, DEFAULT_PARAMS).iter_rows(named=True)}
            for model, module in MODULES.items()}


# =========================================================================== planted vs truth
@pytest.mark.parametrize("model", MODULES)
def test_every_branch_has_enough_positives_and_decoys(world, model):
    counts = Counter((p.rule_branch, p.decoy) for p in world.planted if p.model_id == model)
    for branch in BRANCHES[model]:
        assert counts[(branch, False)] >= 20, (model, branch, counts)
        assert counts[(branch, True)] >= 20, (model, branch, counts)


@pytest.mark.parametrize("model", ["SM02", "SM08"])
def test_both_severities_planted(world, model):
    severities = Counter((p.rule_branch, p.severity) for p in world.planted if p.model_id == model and not p.decoy)
    for branch in BRANCHES[model]:
        assert severities[(branch, "red")] >= 5 and severities[(branch, "yellow")] >= 5, severities


@pytest.mark.parametrize("model", MODULES)
def test_planted_positives_are_in_the_truth(world, truths, model):
    missed = []
    for p in world.planted:
        if p.model_id == model and not p.decoy:
            row = truths[model].get(p.primary_key)
            if row is None or p.rule_branch not in row["rule_branch"].split(",") or row["severity"] != p.severity:
                missed.append((p, row))
    assert not missed, missed[:5]


@pytest.mark.parametrize("model", MODULES)
def test_decoys_do_not_alert(world, truths, model):
    alerting = [(p, truths[model][p.primary_key]) for p in world.planted
                if p.model_id == model and p.decoy and p.primary_key in truths[model]]
    assert not alerting, alerting[:5]


EVENT_DATES = {"village_project": "approved_date", "village_payment": "pay_date", "village_procurement": "purchase_date",
               "tender_project": "publish_date", "asset_lease": "start_date", "contract": "sign_date"}


def test_event_dates_inside_the_world_with_some_after_the_backfill(world):
    for entity, column in EVENT_DATES.items():
        dates = [row[column] for row in world.tables[entity]]
        assert all(WORLD_START <= d <= WORLD_END for d in dates), entity
        assert entity == "tender_project" or any(d > BACKFILL_DATE for d in dates), entity
    awards = [row["award_date"] for row in world.tables["tender_project"] if row["award_date"]]
    assert any(d > BACKFILL_DATE for d in awards)


def test_no_date_after_the_world_except_ends(world):
    """Registry rows may lie before the history (old weddings, terms); nothing but an end lies after it."""
    for entity, rows in world.tables.items():
        date_columns = [c for c, kind in entities()[entity].columns.items() if kind == "date" and c != "end_date"]
        for row in rows:
            late = [c for c in date_columns if row[c] is not None and row[c] > WORLD_END]
            assert not late, (entity, late, row)


def test_references_are_valid_registered_ids(world):
    persons = {r["id_number"] for r in world.tables["person"]}
    companies = {r["credit_code"] for r in world.tables["company"]}
    assert all(id_check_char(p[:17]) == p[17] for p in persons)
    assert all(uscc_check_char(c[:17]) == c[17] for c in companies)
    named = [(r["contractor_id"], r["contractor_type"]) for r in world.tables["village_project"]]
    named += [(r["payee_id"], r["payee_type"]) for r in world.tables["village_payment"]]
    named += [(r["lessee_id"], r["lessee_type"]) for r in world.tables["asset_lease"]]
    named += [(r["id_number"], "person") for r in world.tables["village_cadre"] + world.tables["public_official"]]
    named += [(r["bidder_code"], "company") for r in world.tables["bid"]]
    for party, kind in named:
        assert party in (persons if kind == "person" else companies), (party, kind)


def test_same_seed_same_world():
    a, b = planted_world(5), planted_world(5)
    assert a.tables == b.tables
    assert a.planted == b.planted
    assert planted_world(6).tables["village_payment"] != a.tables["village_payment"]


# =========================================================================== hand-built cases
SYS = "village_finance_330100"
V, W = "330102001001", "330105001001"
CADRE, CHILD, NAMESAKE, COMPANY, STRANGER = "330102197001010011", "330102199501010022", "330102197501010033", \
    "91330102MA00000001", "330102198001010044"


def tables(**rows) -> dict:
    """Frames for every entity: the given rows (partial dicts) and empty frames elsewhere."""
    return {entity: frame(entity, rows.get(entity, [])) for entity in entities()}


def registry(term_end=None, **extra) -> dict:
    base = {
        "person": [{"id_number": CADRE, "household_id": "H1", "relation_to_head": "head", "name": "王伟"},
                   {"id_number": CHILD, "household_id": "H1", "relation_to_head": "child", "name": "王强"},
                   {"id_number": NAMESAKE, "household_id": "H2", "relation_to_head": "head", "name": "王伟"}],
        "village_cadre": [{"id_number": CADRE, "village_code": V, "term_start": dt.date(2021, 3, 1),
                           "term_end": term_end, "salaried_from": dt.date(2021, 4, 1)}],
        "company": [{"credit_code": COMPANY, "legal_rep_id": CHILD, "established_date": dt.date(2018, 1, 1)}],
    }
    for entity, rows in extra.items():
        base[entity] = base.get(entity, []) + rows
    return base


def keys(model: str, t: dict) -> dict[str, tuple[str, str]]:
    out = MODULES[model].truth(t, DEFAULT_PARAMS)
    return {r["primary_key"]: (r["rule_branch"], r["severity"]) for r in out.iter_rows(named=True)}


def payment(pid, payee, d, category="project", village=V, system=SYS):
    return {"_system_id": system, "payment_id": pid, "village_code": village, "payee_id": payee,
            "category": category, "pay_date": d}


# --------------------------------------------------------------------------- SM01
def test_sm01_term_end_day_counts_the_day_after_does_not():
    t = tables(**registry(term_end=D, village_payment=[payment("P1", CHILD, D), payment("P2", CHILD, D + DAY)]))
    assert keys("SM01", t) == {f"{SYS}:P1": ("b", "red")}


def test_sm01_party_kinds_categories_and_villages():
    t = tables(**registry(village_payment=[
        payment("P1", COMPANY, D, "materials"),          # the child's company
        payment("P2", NAMESAKE, D),                      # same name, another id
        payment("P3", CADRE, D, "welfare"),              # other category
        payment("P4", CADRE, D, village=W)],             # another village
        village_project=[{"_system_id": SYS, "vproject_id": "X1", "village_code": V, "contractor_id": CADRE,
                          "approved_date": D}]))
    assert keys("SM01", t) == {f"{SYS}:P1": ("b", "red"), f"{SYS}:X1": ("a", "red")}


def test_sm01_tender_winner_won_bid_else_contract_and_award_date_needed():
    system = "public_resource_trading_330100"
    project = lambda pid, award: {"_system_id": system, "project_id": pid, "owner_code": V,  # noqa: E731
                                  "owner_type": "village", "award_date": award}
    t = tables(**registry(
        tender_project=[project("T1", D), project("T2", D), project("T3", None), project("T4", D)],
        bid=[{"_system_id": system, "bid_id": "B1", "project_id": "T2", "bidder_code": "91330102MA0000000X",
              "status": "won"},
             {"_system_id": system, "bid_id": "B2", "project_id": "T2", "bidder_code": COMPANY, "status": "valid"},
             {"_system_id": system, "bid_id": "B3", "project_id": "T3", "bidder_code": COMPANY, "status": "won"},
             {"_system_id": system, "bid_id": "B4", "project_id": "T4", "bidder_code": COMPANY, "status": "won"}],
        contract=[{"_system_id": system, "contract_id": "C1", "project_id": "T1", "supplier_code": COMPANY},
                  {"_system_id": system, "contract_id": "C2", "project_id": "T2", "supplier_code": COMPANY}]))
    assert keys("SM01", t) == {f"{system}:T1": ("c", "red"), f"{system}:T4": ("c", "red")}


# --------------------------------------------------------------------------- SM02
def project(vid, value, d, kind="works", contractor=STRANGER, village=V, system=SYS):
    return {"_system_id": system, "vproject_id": vid, "village_code": village, "kind": kind,
            "contractor_id": contractor, "amount": value, "approved_date": d}


def procurement(pid, vid, value, d=D, supplier="91330102MA00000002", system=SYS):
    return {"_system_id": system, "purchase_id": pid, "vproject_id": vid, "supplier_code": supplier,
            "amount": value, "purchase_date": d}


def test_sm02a_sum_at_threshold_alerts_a_row_at_threshold_does_not():
    t = tables(**registry(
        village_project=[project("L1", 100000.0, D, "labour_only"), project("L2", 100000.0, D, "labour_only"),
                         project("L3", 100000.0, D, "labour_only")],
        village_procurement=[procurement("G1", "L1", 150000.0), procurement("G2", "L1", 150000.0),
                             procurement("G3", "L2", 400000.0),
                             procurement("G4", "L3", 150000.0), procurement("G5", "L3", 149999.99),
                             procurement("G6", "L3", 900000.0, system="village_finance_330200")]))
    assert keys("SM02", t) == {f"{SYS}:L1": ("a", "yellow")}


def test_sm02a_red_when_a_supplier_is_a_cadres_related_party_on_its_date():
    t = tables(**registry(
        term_end=D,
        village_project=[project("L1", 100000.0, D - DAY * 10, "labour_only"), project("L2", 100000.0, D, "labour_only")],
        village_procurement=[procurement("G1", "L1", 350000.0, D + DAY, COMPANY),    # after the term: no
                             procurement("G2", "L2", 350000.0, D, COMPANY)]))         # on the term's last day: yes
    assert keys("SM02", t) == {f"{SYS}:L1": ("a", "yellow"), f"{SYS}:L2": ("a", "red")}


def test_sm02b_window_edges_and_greedy_series():
    c1, c2, c3 = "91330102MA00000011", "91330102MA00000012", "91330102MA00000013"
    start = dt.date(2025, 11, 10)
    t = tables(**registry(village_project=[
        project("S1", 200000.0, start, contractor=c1), project("S2", 200000.0, start + DAY * 180, contractor=c1),
        project("S3", 200000.0, start, contractor=c2), project("S4", 200000.0, start + DAY * 181, contractor=c2),
        # greedy: day 0 + day 150 = 200k (no); day 250 alone; a sliding window would pair day 150 and 250
        project("S5", 100000.0, start, contractor=c3), project("S6", 100000.0, start + DAY * 150, contractor=c3),
        project("S7", 350000.0, start + DAY * 250, contractor=c3),
        # another village or another kind never joins a series
        project("S8", 300000.0, start, contractor=c1, village=W, system=SYS),
        project("S9", 300000.0, start + DAY, contractor=c1, kind="repair")]))
    assert keys("SM02", t) == {f"{SYS}:S1": ("b", "yellow")}


def test_sm02b_same_day_rows_order_by_id_and_red_at_a_later_rows_date():
    t = tables(**registry(
        village_cadre=[{"id_number": STRANGER, "village_code": V, "term_start": D + DAY * 30}],
        village_project=[project("R2", 250000.0, D, contractor=STRANGER), project("R1", 250000.0, D, contractor=STRANGER),
                         project("R3", 10000.0, D + DAY * 30, contractor=STRANGER)]))
    # the contractor is a cadre himself only from the third row's date on: red
    assert keys("SM02", t) == {f"{SYS}:R1": ("b", "red")}


# --------------------------------------------------------------------------- SM03
def test_sm03_salaried_from_and_term_edges():
    cadre_row = {"id_number": CADRE, "village_code": V, "term_start": dt.date(2021, 3, 1), "term_end": D,
                 "salaried_from": D - DAY}
    pay = lambda d, **kw: {"village_code": V, "payee_id": CADRE, "category": "work_subsidy", "pay_date": d, **kw}  # noqa: E731
    assert sm03.work_subsidy_branches(pay(D - DAY), [cadre_row], []) == ["cadre"]    # first salaried day
    assert sm03.work_subsidy_branches(pay(D - DAY * 2), [cadre_row], []) == []       # not yet salaried
    assert sm03.work_subsidy_branches(pay(D), [cadre_row], []) == ["cadre"]          # term's last day
    assert sm03.work_subsidy_branches(pay(D + DAY), [cadre_row], []) == []           # term over
    assert sm03.work_subsidy_branches(pay(D, village_code=W), [cadre_row], []) == []  # another village
    assert sm03.work_subsidy_branches(pay(D, category="welfare"), [cadre_row], []) == []
    assert sm03.work_subsidy_branches(pay(D, payee_id=NAMESAKE), [cadre_row], []) == []
    unsalaried = {**cadre_row, "salaried_from": None}
    assert sm03.work_subsidy_branches(pay(D), [unsalaried], []) == []


def test_sm03_officials_anywhere_and_both_branches():
    post = {"id_number": CADRE, "start_date": D, "end_date": D + DAY}
    cadre_row = {"id_number": CADRE, "village_code": V, "term_start": D, "term_end": None, "salaried_from": D}
    pay = lambda d: {"village_code": W, "payee_id": CADRE, "category": "work_subsidy", "pay_date": d}  # noqa: E731
    assert sm03.work_subsidy_branches(pay(D - DAY), [], [post]) == []
    assert sm03.work_subsidy_branches(pay(D + DAY), [], [post]) == ["official"]
    assert sm03.work_subsidy_branches(pay(D + DAY * 2), [], [post]) == []
    both = {**pay(D), "village_code": V}
    assert sm03.work_subsidy_branches(both, [cadre_row], [post]) == ["cadre", "official"]
    t = tables(village_cadre=[cadre_row], public_official=[post],
               village_payment=[payment("P1", CADRE, D, "work_subsidy"), payment("P2", COMPANY, D, "work_subsidy")])
    assert keys("SM03", t) == {f"{SYS}:P1": ("cadre,official", "red")}


# --------------------------------------------------------------------------- SM08
LSYS = "asset_trading_330100"


def lease(lid, rent, start, method="public_auction", area=100.0, village=V, asset_type="shop", lessee=STRANGER,
          previous=None, system=LSYS):
    return {"_system_id": system, "lease_id": lid, "village_code": village, "asset_type": asset_type,
            "area_m2": area, "lessee_id": lessee, "annual_rent": rent, "start_date": start, "method": method,
            "previous_lease_id": previous}


def test_sm08a_three_comparables_median_window_and_ratio():
    sibling = V[:9] + "002"                                      # same town, another village
    comps = [lease("C1", 10000.0, D - DAY * 365), lease("C2", 30000.0, D + DAY * 365, "public_bidding", village=sibling),
             lease("C3", 20000.0, D, area=200.0), lease("C4", 40000.0, D + DAY * 10),
             lease("X1", 1.0, D - DAY * 366), lease("X2", 1.0, D, area=0.0), lease("X3", 1.0, D, area=None),
             lease("X4", 1.0, D, asset_type="land"), lease("X5", 1.0, D, village="330102002001"),
             lease("X6", 1.0, D, method="negotiated", area=None)]
    # comparables per m2: 100, 300, 100, 400 -> median (100 + 300) / 2 = 200; 80 % = 160
    t = tables(**registry(asset_lease=[*comps, lease("N1", 15999.0, D, "negotiated"), lease("N2", 16000.0, D, "negotiated"),
                                       lease("N3", 3000.0, D, "negotiated", area=None)]))
    assert keys("SM08", t) == {f"{LSYS}:N1": ("a", "yellow")}
    only_two = tables(asset_lease=[*comps[:2], lease("N1", 100.0, D, "negotiated")])
    assert keys("SM08", only_two) == {}


def test_sm08b_renewal_below_previous_in_the_same_system_and_severity():
    t = tables(**registry(asset_lease=[
        lease("P1", 20000.0, D - DAY * 300), lease("R1", 19999.0, D, "renewal", previous="P1", lessee=COMPANY),
        lease("R2", 20000.0, D, "renewal", previous="P1"),
        lease("R3", 100.0, D, "negotiated", previous="P1"),
        lease("R4", 100.0, D, "renewal", previous="P9"),
        lease("P9", 90000.0, D - DAY * 300, system="asset_trading_330200"),
        lease("R5", 100.0, D, "renewal", previous="P1", area=0.0)]))
    # R1's lessee is the company of the cadre's child: red
    assert keys("SM08", t) == {f"{LSYS}:R1": ("b", "red")}
