"""SM01 village cadre involved in own village's works: planted scenarios and the truth oracle.

Rule (models.md): for each cadre C of village V valid at the record's date, alert (red) when a
related party of C at that date is (a) contractor_id of a village_project of V (approved_date),
(b) payee of a village_payment of V with category project or materials (pay_date; each payment is
its own alert, also when its project alerts), (c) the winner of a tender_project whose owner_code
is V (award_date). Keys: the qualified vproject_id / payment_id / project_id.

Readings chosen where the text leaves room:
- (c) matches owner_code against village codes; owner_type is not read (an organisation's
  owner_code is an 18-character credit code and can never equal a 12-digit village code).
- Winner: every bidder of a bid with status won of the project (one in practice); only when the
  project has no won bid, every supplier_code of its contracts. Bids and contracts join their
  project within the same source system (record ids are unique only per system).
- A record with a null date or a null contractor/payee/winner is not judged.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

import polars as pl

from orchestration.world.core import WORLD_END, WORLD_START, World
from orchestration.world.scenarios._common import alerts_frame, param, planting_count
from orchestration.world.scenarios._frames import collect, distinct, groups, lazy, matching
from orchestration.world.scenarios._relations import Relations, Roster, registry_around, related_to_a_cadre
from orchestration.world.scenarios._village import (
    DAY, PARTY_DECOYS, Party, amount, event_date, related_cadre_party, stranger, unrelated_party)

MODEL = "SM01"
PAID_CATEGORIES = ("project", "materials")
PROJECT_NAMES = ("村道硬化工程", "文化礼堂修缮工程", "污水管网改造", "河道清淤整治", "村委会办公楼维修",
                 "农田水利沟渠改造", "路灯安装工程", "公厕改造工程")
COMPANY_ONLY = ("legal_rep", "shareholder")   # a tender winner is always a company


# =========================================================================== planting
def add_village_project(world: World, village: str, contractor: Party, d: dt.date, *, kind: str = "works",
                        value=None) -> dict:
    return world.add("village_project", vproject_id=world.next_id("village_project", "XM"), village_code=village,
                     name=world.pick(PROJECT_NAMES), kind=kind, contractor_id=contractor.id,
                     contractor_type=contractor.type, amount=value if value is not None else amount(world, 30000, 280000),
                     approved_date=d)


def add_village_payment(world: World, village: str, payee: Party, d: dt.date, category: str, *,
                        vproject_id: str | None = None, purpose: str | None = None, value=None) -> dict:
    purposes = {"project": "工程进度款", "materials": "材料款", "work_subsidy": "务工补贴", "welfare": "慰问金",
                "lease": "租金退还", "other": "其他支出"}
    return world.add("village_payment", payment_id=world.next_id("village_payment", "ZF"), village_code=village,
                     payee_id=payee.id, payee_type=payee.type, payee_name=payee.name, category=category,
                     purpose=purpose or purposes[category], amount=value if value is not None else amount(world, 5000, 150000),
                     pay_date=d, vproject_id=vproject_id)


def _plant_projects(world: World, n: int) -> None:
    """Branch a: the contractor of a village_project of V is a cadre's related party."""
    for i in range(n):
        village, d = world.village(), event_date(world)
        _, contractor, note = related_cadre_party(world, village, d, i)
        world.plant(MODEL, "a", world.qualified(add_village_project(world, village, contractor, d), "vproject_id"),
                    "red", note=note)
    for i in range(n):
        village, d = world.village(), event_date(world)
        kind = PARTY_DECOYS[i % len(PARTY_DECOYS)]
        _, contractor, note = unrelated_party(world, village, d, kind)
        world.plant(MODEL, "a", world.qualified(add_village_project(world, village, contractor, d), "vproject_id"),
                    decoy=True, note=note)


def _plant_payments(world: World, n: int) -> None:
    """Branch b: the payee of a project/materials payment of V is a cadre's related party."""
    for i in range(n):
        village, d = world.village(), event_date(world)
        _, payee, note = related_cadre_party(world, village, d, i)
        project_id = None
        if i % 4 == 0:  # an advance paid on the approval day: the project alerts (a), the payment still its own (b)
            project = add_village_project(world, village, payee, d)
            world.plant(MODEL, "a", world.qualified(project, "vproject_id"), "red", note=f"{note}; project of a paid payment")
            project_id = project["vproject_id"]
        row = add_village_payment(world, village, payee, d, PAID_CATEGORIES[i % 2], vproject_id=project_id)
        world.plant(MODEL, "b", world.qualified(row, "payment_id"), "red", note=note)
    kinds = ("other_category", *PARTY_DECOYS)
    for i in range(n):
        village, d = world.village(), event_date(world)
        kind = kinds[i % len(kinds)]
        category = PAID_CATEGORIES[i % 2]
        if kind == "other_category":  # a true related party, but paid a welfare/lease/other sum
            _, payee, note = related_cadre_party(world, village, d, i)
            category, note = world.pick(["welfare", "lease", "other"]), f"category other than project/materials; {note}"
        else:
            _, payee, note = unrelated_party(world, village, d, kind)
        row = add_village_payment(world, village, payee, d, category)
        world.plant(MODEL, "b", world.qualified(row, "payment_id"), decoy=True, note=note)


# --------------------------------------------------------------------------- tenders
def _ip(world: World) -> str:
    return f"{world.pick([36, 60, 115, 122, 183, 218])}.{int(world.rng.integers(256))}.{int(world.rng.integers(256))}.{int(world.rng.integers(1, 255))}"


def _mac(world: World) -> str:
    return ":".join(f"{int(world.rng.integers(256)):02x}" for _ in range(6))


def add_tender(world: World, *, owner_code: str, owner_type: str, region_code: str, award: dt.date | None,
               winner: Party | None, losers: list[Party], contract_supplier: Party | None = None) -> dict:
    """A tender_project with bids (the winner's won, each loser's valid) and optionally a contract.

    Bids carry distinct IPs, MACs, document hashes, phones and prices so they never look collusive.
    """
    # published 30-59 days before the award (or, without one, before a date in the world)
    publish = (award or event_date(world, lo=WORLD_START + DAY * 60)) - DAY * (30 + int(world.rng.integers(30)))
    budget = float(amount(world, 500000, 3000000))
    project = world.add("tender_project", project_id=world.next_id("tender_project", "ZB"),
                        name=f"村{world.pick(['道路提升', '安置房', '水利', '美丽乡村'])}工程", owner_code=owner_code,
                        owner_type=owner_type, region_code=region_code, category="works", method="open",
                        budget=round(budget, 2), publish_date=publish, bid_deadline=publish + DAY * 21, award_date=award)
    bidders = ([(winner, "won")] if winner else []) + [(loser, "valid") for loser in losers]
    for k, (bidder, status) in enumerate(bidders):
        world.add("bid", bid_id=world.next_id("bid", "TB"), project_id=project["project_id"], bidder_code=bidder.id,
                  bid_price=round(budget * (0.86 + 0.03 * k + 0.001 * int(world.rng.integers(10))), 2),
                  submitted_at=dt.datetime.combine(publish + DAY * (10 + k), dt.time(9 + k, int(world.rng.integers(60)))),
                  contact_name=world.name(), contact_phone=world.phone(), client_ip=_ip(world), client_mac=_mac(world),
                  doc_hash=f"{int(world.rng.integers(2**62)):016x}{int(world.rng.integers(2**62)):016x}", status=status)
    if contract_supplier and award:
        world.add("contract", contract_id=world.next_id("contract", "HT"), project_id=project["project_id"],
                  supplier_code=contract_supplier.id, amount=round(budget * 0.9, 2), sign_date=min(award + DAY * 5, WORLD_END),
                  end_date=award + DAY * 365, technical_lead_id=None, required_onsite_days_per_month=0)
    return project


def _village_tender(world: World, village: str, winner: Party, d: dt.date, *, via_contract: bool) -> dict:
    """A village-owned tender won by ``winner``: by a won bid, or (no won bid) by its contract."""
    losers = [stranger(world, village) for _ in range(1 + int(world.rng.integers(2)))]
    if via_contract:
        return add_tender(world, owner_code=village, owner_type="village", region_code=village[:6], award=d,
                          winner=None, losers=losers, contract_supplier=winner)
    return add_tender(world, owner_code=village, owner_type="village", region_code=village[:6], award=d,
                      winner=winner, losers=losers, contract_supplier=winner)


TENDER_DECOYS = ("lost_bid", "contract_but_won_bid_elsewhere", "no_award_date", "org_owner")


def _tender_decoy(world: World, village: str, d: dt.date, kind: str, i: int) -> tuple[dict, str]:
    if kind in TENDER_DECOYS:
        _, related, note = related_cadre_party(world, village, d, i, COMPANY_ONLY)
        if kind == "lost_bid":          # the related company bid but a stranger won
            return add_tender(world, owner_code=village, owner_type="village", region_code=village[:6], award=d,
                              winner=stranger(world, village), losers=[related]), f"related bidder lost; {note}"
        if kind == "contract_but_won_bid_elsewhere":  # the won bid decides; the contract is not read
            return add_tender(world, owner_code=village, owner_type="village", region_code=village[:6], award=d,
                              winner=stranger(world, village), losers=[stranger(world, village)],
                              contract_supplier=related), f"contract supplier related, won bid a stranger; {note}"
        if kind == "no_award_date":     # not judged
            return add_tender(world, owner_code=village, owner_type="village", region_code=village[:6], award=None,
                              winner=related, losers=[stranger(world, village)]), f"no award_date; {note}"
        org = stranger(world, village)  # owned by an organisation, not by the village
        return add_tender(world, owner_code=org.id, owner_type="org", region_code=village[:6], award=d,
                          winner=related, losers=[stranger(world, village)]), f"owner is an organisation; {note}"
    _, winner, note = unrelated_party(world, village, d, kind, COMPANY_ONLY)
    return _village_tender(world, village, winner, d, via_contract=i % 3 == 0), note


def _plant_tenders(world: World, n: int) -> None:
    """Branch c: the winner of a village-owned tender_project is a cadre's related party."""
    for i in range(n):
        village, d = world.village(), event_date(world, lo=WORLD_START + DAY * 60)
        _, winner, note = related_cadre_party(world, village, d, i, COMPANY_ONLY)
        via_contract = i % 4 == 3
        project = _village_tender(world, village, winner, d, via_contract=via_contract)
        world.plant(MODEL, "c", world.qualified(project, "project_id"), "red",
                    note=f"{note}; winner by {'contract' if via_contract else 'won bid'}")
    kinds = (*TENDER_DECOYS, *PARTY_DECOYS)
    for i in range(n):
        village, d = world.village(), event_date(world, lo=WORLD_START + DAY * 60)
        project, note = _tender_decoy(world, village, d, kinds[i % len(kinds)], i)
        world.plant(MODEL, "c", world.qualified(project, "project_id"), decoy=True, note=note)


def plant(world: World) -> None:
    n = planting_count(world)
    _plant_projects(world, n)
    _plant_payments(world, n)
    _plant_tenders(world, n)


# =========================================================================== truth
def tender_winners(tables: dict[str, pl.DataFrame | pl.LazyFrame],
                   projects: pl.DataFrame) -> dict[tuple[str, str], set[str]]:
    """Winner(s) of ``projects`` (a frame with _system_id and project_id) by (system, project_id):
    won bidders, else contract suppliers."""
    keys = projects.select("project_id", "_system_id")
    won: dict[tuple[str, str], set[str]] = defaultdict(set)
    for system, project, bidder, status in matching(
            tables, "bid", keys, ["_system_id", "project_id", "bidder_code", "status"]).iter_rows():
        if status == "won" and bidder is not None:
            won[(system, project)].add(bidder)
    contracted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for system, project, supplier in matching(
            tables, "contract", keys, ["_system_id", "project_id", "supplier_code"]).iter_rows():
        if supplier is not None:
            contracted[(system, project)].add(supplier)
    return {key: won.get(key) or contracted[key] for key in set(won) | set(contracted)}


def truth(tables: dict[str, pl.DataFrame | pl.LazyFrame], params: dict) -> pl.DataFrame:
    min_share = param(params, "min_share")
    fired: list[tuple[str, str, str]] = []
    for villages in groups(distinct(tables, "village_cadre", "village_code")):  # no cadres, no alert
        fired += _judge_villages(tables, villages, min_share)
    return alerts_frame(MODEL, fired)


def _judge_villages(tables: dict[str, pl.DataFrame | pl.LazyFrame], villages: list[str],
                    min_share: float) -> list[tuple[str, str, str]]:
    """SM01 over the records of ``villages``, with the cadres of those villages."""
    of_group = pl.col("village_code").is_in(villages)
    cadres = collect(lazy(tables, "village_cadre").filter(of_group))
    projects = collect(lazy(tables, "village_project").filter(of_group).select(
        "_system_id", "vproject_id", "village_code", "contractor_id", "approved_date"))
    payments = collect(lazy(tables, "village_payment").filter(of_group & pl.col("category").is_in(PAID_CATEGORIES))
                       .select("_system_id", "payment_id", "village_code", "payee_id", "pay_date"))
    tenders = collect(lazy(tables, "tender_project").filter(pl.col("owner_code").is_in(villages))
                      .select("_system_id", "project_id", "owner_code", "award_date"))
    winners = tender_winners(tables, tenders)
    parties = [*projects.get_column("contractor_id"), *payments.get_column("payee_id"),
               *(w for found in winners.values() for w in found)]
    roster = Roster({"village_cadre": cadres})
    relations = Relations(registry_around(tables, cadres.get_column("id_number"), parties))

    def involved(party: str | None, village: str | None, d: dt.date | None) -> bool:
        return d is not None and village is not None and related_to_a_cadre(party, village, d, roster, relations, min_share)

    fired: list[tuple[str, str, str]] = []
    for system, rid, village, contractor, d in projects.iter_rows():
        if involved(contractor, village, d):
            fired.append((f"{system}:{rid}", "a", "red"))
    for system, rid, village, payee, d in payments.iter_rows():
        if involved(payee, village, d):
            fired.append((f"{system}:{rid}", "b", "red"))
    for system, rid, owner, d in tenders.iter_rows():
        if d is not None and owner in roster.terms_by_village and \
                any(involved(w, owner, d) for w in winners.get((system, rid), ())):
            fired.append((f"{system}:{rid}", "c", "red"))
    return fired
