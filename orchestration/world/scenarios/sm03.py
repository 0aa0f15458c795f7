"""SM03 ineligible work-subsidy payee: planted scenarios and the truth oracle.

Rule (models.md): a village_payment with category work_subsidy whose payee, at pay_date, is a
salaried cadre of the same village (branch cadre: a village_cadre row for that village valid at
pay_date with salaried_from <= pay_date) or an official in post anywhere (branch official: a
public_official row valid at pay_date). Severity red. Key: the qualified payment_id.

The rule is also served as a real-time check before payment, so its semantics are one small pure
function, ``work_subsidy_branches(payment, cadre_rows, official_rows)``, that the batch oracle
calls per payment and the lead can call in tests of the real-time service.

Readings chosen where the text leaves room:
- Each village_cadre row is judged alone: its own term and its own salaried_from (a pay start in
  an earlier, ended term does not make a later unsalaried term salaried).
- Company payees are allowed because a credit_code never equals a person's id_number; payee_type
  is not read (the real-time check does not receive it either).
- A payment without pay_date or payee_id is not judged.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping

import polars as pl

from orchestration.world.core import World
from orchestration.world.scenarios._common import alerts_frame, last_monthly_snapshot, new_org_code, planting_count
from orchestration.world.scenarios._frames import collect, distinct, groups, lazy
from orchestration.world.scenarios._relations import held_at
from orchestration.world.scenarios._village import (
    DAY, Cadre, Party, amount, earlier, event_date, later, new_cadre, new_company, non_relative, other_village, person_party,
    relative)
from orchestration.world.scenarios.sm01 import add_village_payment

MODEL = "SM03"
CATEGORY = "work_subsidy"
PURPOSES = ("消防演练务工", "村庄保洁务工", "防汛值守务工", "道路养护务工", "垃圾分类督导务工", "森林防火巡查务工")


# =========================================================================== the rule
def work_subsidy_branches(payment: Mapping, cadre_rows: Iterable[Mapping], official_rows: Iterable[Mapping]) -> list[str]:
    """SM03's branches that fire on one payment (sorted; empty = allowed).

    ``payment`` needs village_code, payee_id (normalised), category and pay_date. ``cadre_rows``
    and ``official_rows`` are village_cadre / public_official rows (canonical columns); any rows
    may be passed, the function keeps those of the payee itself.
    """
    payee, d = payment.get("payee_id"), payment.get("pay_date")
    if payment.get("category") != CATEGORY or payee is None or d is None:
        return []
    branches = []
    if any(r["id_number"] == payee and r["village_code"] == payment.get("village_code")
           and held_at(r["term_start"], r["term_end"], d)
           and r["salaried_from"] is not None and r["salaried_from"] <= d for r in cadre_rows):
        branches.append("cadre")
    if any(r["id_number"] == payee and held_at(r["start_date"], r["end_date"], d) for r in official_rows):
        branches.append("official")
    return branches


def _rows_by_person(rows: pl.DataFrame) -> dict[str, list[dict]]:
    by_person: dict[str, list[dict]] = defaultdict(list)
    for row in rows.iter_rows(named=True):
        by_person[row["id_number"]].append(row)
    return by_person


def truth(tables: dict[str, pl.DataFrame | pl.LazyFrame], params: dict) -> pl.DataFrame:
    village = pl.col("village_code")
    selections = [village.is_in(villages) for villages in groups(distinct(tables, "village_payment", "village_code"))]
    fired = []
    for selection in [*selections, village.is_null()]:  # payments by village, with their payees' rows
        payments = collect(lazy(tables, "village_payment").filter(selection & (pl.col("category") == CATEGORY))
                           .select("_system_id", "payment_id", "village_code", "payee_id", "category", "pay_date"))
        payees = pl.col("id_number").is_in(payments.get_column("payee_id").drop_nulls().unique().to_list())
        cadres = _rows_by_person(collect(lazy(tables, "village_cadre").filter(payees).select(
            "id_number", "village_code", "term_start", "term_end", "salaried_from")))
        officials = _rows_by_person(collect(lazy(tables, "public_official").filter(payees).select(
            "id_number", "start_date", "end_date")))
        for payment in payments.iter_rows(named=True):
            payee = payment["payee_id"]
            for branch in work_subsidy_branches(payment, cadres.get(payee, ()), officials.get(payee, ())):
                fired.append((f"{payment['_system_id']}:{payment['payment_id']}", branch, "red"))
    return alerts_frame(MODEL, fired)


# =========================================================================== planting
def _subsidy(world: World, village: str, payee: Party, d: dt.date, category: str = CATEGORY) -> dict:
    purpose = world.pick(PURPOSES) if category == CATEGORY else None
    return add_village_payment(world, village, payee, d, category, purpose=purpose, value=amount(world, 150, 3000))


def _salaried_cadre(world: World, village: str, d: dt.date, edge: str = "") -> Cadre:
    """A cadre of the village salaried on D; ``edge`` puts D on the first pay day or the term's last day."""
    start = dt.date(2021, 3, 1) + DAY * int(world.rng.integers(60))
    if edge == "salaried_on_date":
        return new_cadre(world, village, term_start=start, salaried_from=d)
    if edge == "term_ends_on_date":
        return new_cadre(world, village, term_start=start, term_end=d, salaried_from=start + DAY * 30)
    if edge == "term_starts_on_date":
        return new_cadre(world, village, term_start=d, salaried_from=d)
    return new_cadre(world, village, term_start=start, salaried_from=start + DAY * int(world.rng.integers(0, 90)))


def _official(world: World, person: str, d: dt.date, *, start: dt.date | None = None, end: dt.date | None = None,
              region_code: str | None = None) -> None:
    """A public_official post of the person (township government, an institution, an SOE...)."""
    region = region_code or person[:6]
    org_type = world.pick(["government", "government", "institution", "soe"])
    org_name = {"government": "镇人民政府", "institution": "农业技术推广中心", "soe": "城市建设投资集团有限公司"}[org_type]
    name = world.recent("person", "id_number", person)["name"]
    world.add("public_official", id_number=person, name=name, org_code=new_org_code(world, region), org_name=org_name,
              org_type=org_type, position=world.pick(["科员", "副主任", "干事", "站长"]),
              rank=world.pick(["一级科员", "四级主任科员", "专技十级"]), region_code=region,
              start_date=start or dt.date(2008, 9, 1) + DAY * int(world.rng.integers(365 * 15)), end_date=end)


def _plant_cadre(world: World, n: int) -> None:
    edges = ("", "", "salaried_on_date", "term_ends_on_date", "term_starts_on_date")
    for i in range(n):
        village, d = world.village(), event_date(world)
        cadre = _salaried_cadre(world, village, d, edges[i % len(edges)])
        row = _subsidy(world, village, person_party(world, cadre.id_number), d)
        world.plant(MODEL, "cadre", world.qualified(row, "payment_id"), "red", note=edges[i % len(edges)] or "salaried cadre")
    decoys = ("not_salaried", "salaried_after_pay_date", "term_ended", "term_not_started", "cadre_of_another_village",
              "namesake", "other_category", "company_payee", "relative_of_cadre", "salaried_only_in_ended_term")
    for i in range(n):
        village, d = world.village(), event_date(world)
        kind = decoys[i % len(decoys)]
        payee, category, pay_village = _cadre_decoy(world, village, d, kind)
        row = _subsidy(world, pay_village, payee, d, category)
        world.plant(MODEL, "cadre", world.qualified(row, "payment_id"), decoy=True, note=kind)


def _cadre_decoy(world: World, village: str, d: dt.date, kind: str) -> tuple[Party, str, str]:
    """(payee, category, paying village) of a payment that looks like a salaried cadre's but is allowed."""
    start = dt.date(2021, 3, 1)
    if kind == "not_salaried":
        return person_party(world, new_cadre(world, village, term_start=start).id_number), CATEGORY, village
    if kind == "salaried_after_pay_date":
        cadre = new_cadre(world, village, term_start=start, salaried_from=later(world, d, 60))
        return person_party(world, cadre.id_number), CATEGORY, village
    if kind == "term_ended":
        cadre = new_cadre(world, village, term_start=start, term_end=earlier(world, d, 90),
                          salaried_from=start)
        return person_party(world, cadre.id_number), CATEGORY, village
    if kind == "term_not_started":
        start = later(world, d, 60)
        return person_party(world, new_cadre(world, village, term_start=start, salaried_from=start).id_number), CATEGORY, village
    if kind == "cadre_of_another_village":  # a salaried cadre of V paid by another village
        cadre = _salaried_cadre(world, village, d)
        return person_party(world, cadre.id_number), CATEGORY, other_village(world, village)
    if kind == "namesake":
        cadre = _salaried_cadre(world, village, d)
        return person_party(world, non_relative(world, cadre, "namesake", d)), CATEGORY, village
    if kind == "other_category":
        cadre = _salaried_cadre(world, village, d)
        return person_party(world, cadre.id_number), world.pick(["welfare", "other"]), village
    if kind == "company_payee":             # the salaried cadre's own company is paid
        cadre = _salaried_cadre(world, village, d)
        return new_company(world, village[:6], cadre.id_number), CATEGORY, village
    if kind == "relative_of_cadre":         # SM03 asks about the payee only, not relatives
        cadre = _salaried_cadre(world, village, d)
        return person_party(world, relative(world, cadre, world.pick(["spouse_married", "child"]), d)), CATEGORY, village
    if kind == "salaried_only_in_ended_term":  # salaried in the ended term; the current term row is not
        cadre = new_cadre(world, village, term_start=dt.date(2016, 3, 1), term_end=dt.date(2021, 2, 28),
                          salaried_from=dt.date(2016, 6, 1))
        world.add("village_cadre", id_number=cadre.id_number, name=cadre.name, village_code=village, role="member",
                  term_start=dt.date(2021, 3, 1), term_end=None, salaried_from=None)
        return person_party(world, cadre.id_number), CATEGORY, village
    raise ValueError(f"unknown SM03 cadre decoy {kind!r}")


def _villager(world: World, village: str) -> str:
    return world.new_person(village_code=village, birth=dt.date(1970, 1, 1) + DAY * int(world.rng.integers(365 * 25)))


def _plant_official(world: World, n: int) -> None:
    for i in range(n):
        village, d = world.village(), event_date(world)
        person = _villager(world, village)
        edge = ("open", "open", "ends_on_date", "starts_on_date", "elsewhere", "also_salaried_cadre")[i % 6]
        if edge == "starts_on_date":  # the roster is a monthly snapshot: a post begun after its last one is unseen
            d = min(d, last_monthly_snapshot())
        if edge == "also_salaried_cadre":   # both branches fire on one payment
            person = _salaried_cadre(world, village, d).id_number
        _official(world, person, d, start=d if edge == "starts_on_date" else None,
                  end=d if edge == "ends_on_date" else None,
                  region_code=other_village(world, village)[:6] if edge == "elsewhere" else None)
        row = _subsidy(world, village, person_party(world, person), d)
        key = world.qualified(row, "payment_id")
        world.plant(MODEL, "official", key, "red", note=edge)
        if edge == "also_salaried_cadre":
            world.plant(MODEL, "cadre", key, "red", note="also an official")
    decoys = ("post_ended", "post_not_started", "namesake", "other_category", "company_payee", "relative_of_official",
              "retired_long_ago")
    for i in range(n):
        village, d = world.village(), event_date(world)
        kind = decoys[i % len(decoys)]
        official = _villager(world, village)
        payee, category = person_party(world, official), CATEGORY
        if kind == "post_ended":  # an end after the roster's last monthly snapshot would be unseen
            _official(world, official, d, end=min(earlier(world, d, 60), last_monthly_snapshot()))
        elif kind == "post_not_started":
            _official(world, official, d, start=later(world, d, 60))
        elif kind == "retired_long_ago":
            _official(world, official, d, start=dt.date(1990, 9, 1), end=dt.date(2020, 12, 31))
        else:
            _official(world, official, d)
        if kind == "namesake":
            payee = person_party(world, world.new_person(village_code=village, name=payee.name))
        elif kind == "other_category":
            category = world.pick(["welfare", "other", "lease"])
        elif kind == "company_payee":
            payee = new_company(world, village[:6], official)
        elif kind == "relative_of_official":
            spouse = world.new_person(village_code=village)
            world.add("marriage", marriage_id=world.next_id("marriage", "HY"), person_a_id=official, person_b_id=spouse,
                      registered_date=dt.date(2000, 5, 1) + DAY * int(world.rng.integers(3000)), dissolved_date=None)
            payee = person_party(world, spouse)
        row = _subsidy(world, village, payee, d, category)
        world.plant(MODEL, "official", world.qualified(row, "payment_id"), decoy=True, note=kind)


def plant(world: World) -> None:
    n = planting_count(world)
    _plant_cadre(world, n)
    _plant_official(world, n)
