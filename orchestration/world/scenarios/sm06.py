"""SM06 work-injury insurance fraud: planted claims and the independent truth oracle.

Rule (models.md): an injury_claim when (a) the injured person has no insurance_contribution with
the claim's employer_code in any of the months M-2, M-1 and M, M being the accident month; or
(b) handler_id is the injured person or a close relative of them at approved_date; or (c) another
claim has the same injured_id and accident_date (every claim of the group alerts).
Key: the qualified claim_id; severity red.

Readings taken where the text leaves room:
- (a) needs injured_id, employer_code and accident_date; a claim missing one is not judged on (a)
  (there is nothing to look the contribution up by; silver flags the null).
- (b) "the injured person" is a date-free identity; "a close relative at approved_date" needs
  approved_date (no date, no relatives). Close relatives as ``_relations`` defines them.
- (c) counts claims (qualified claim ids) with equal non-null injured_id and accident_date.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter

import polars as pl

from orchestration.world.core import COUNTIES, WORLD_END, World
from orchestration.world.scenarios._common import (
    alerts_frame, money, month_add, month_first, month_last, month_of, new_household, new_org_code,
    person_name, plant_situations, planting_count, world_months,
)
from orchestration.world.scenarios._frames import collect, lazy, slices
from orchestration.world.scenarios._relations import Relations, registry_around

MODEL_ID = "SM06"
CLAIM_COLUMNS = ["_system_id", "claim_id", "injured_id", "employer_code", "accident_date", "handler_id",
                 "approved_date"]


# =========================================================================== truth oracle
def truth(tables: dict[str, pl.DataFrame | pl.LazyFrame], params: dict) -> pl.DataFrame:
    claims = collect(lazy(tables, "injury_claim").select(CLAIM_COLUMNS))
    group_size = Counter(pair for pair in claims.select(["injured_id", "accident_date"]).iter_rows() if None not in pair)
    fired = []
    for group in slices(claims):  # claims in groups, with their injured persons' contributions and families
        persons = group.get_column("injured_id").drop_nulls().unique().to_list()
        contributed = _contribution_months(lazy(tables, "insurance_contribution"), persons)
        relations = Relations(registry_around(tables, persons))
        for system, claim, injured, employer, accident, handler, approved in group.iter_rows():
            key = f"{system}:{claim}"
            if injured is not None and employer is not None and accident is not None:
                month = month_of(accident)
                if not any((injured, employer, month_add(month, -k)) in contributed for k in (0, 1, 2)):
                    fired.append((key, "a", "red"))
            if injured is not None and handler is not None and (handler == injured or (
                    approved is not None and handler in relations.close_relatives(injured, approved))):
                fired.append((key, "b", "red"))
            if group_size.get((injured, accident), 0) >= 2:
                fired.append((key, "c", "red"))
    return alerts_frame(MODEL_ID, fired)


def _contribution_months(contributions: pl.LazyFrame, persons: list[str]) -> set[tuple[str, str, str]]:
    """(id_number, employer_code, 'YYYY-MM') of every contribution of the given persons."""
    rows = collect(contributions.filter(pl.col("id_number").is_in(persons)).select(["id_number", "employer_code", "month"]))
    return set(rows.iter_rows())


# =========================================================================== planting
MONTHS = world_months()
SITUATIONS = {
    "a": {True: ("no_contributions", "other_employer", "lapsed", "enrolled_after"),
          False: ("only_m_minus_2", "only_m_minus_1", "only_accident_month", "every_month")},
    "b": {True: ("self", "child", "sibling", "sibling_parent", "spouse_by_marriage", "household_spouse",
                 "divorced_after_approval"),
          False: ("in_law", "divorced_before_approval", "divorced_in_household", "divorced_on_approval",
                  "married_after_approval", "grandchild", "namesake")},
    "c": {True: ("pair", "triple"), False: ("different_dates", "namesakes")},
}
# Household members for branch b situations: the injured person first, the handler second.
HOUSEHOLDS_B = {"child": ["head", "child"], "sibling": ["head", "sibling"], "sibling_parent": ["sibling", "parent"],
                "household_spouse": ["head", "spouse"], "divorced_in_household": ["head", "spouse"],
                "in_law": ["spouse", "parent"], "grandchild": ["head", "grandchild"], "namesake": ["head", "child"]}
DIAGNOSES = ["右手食指离断伤", "左胫腓骨骨折", "腰椎压缩性骨折", "右足跟骨骨折", "头皮裂伤", "左前臂烫伤"]


class _Planter:
    def __init__(self, world: World) -> None:
        self.world = world
        self.bureau = new_org_code(world, "330000")
        self.handlers = [self.appoint(world.new_person(region_code="330100")) for _ in range(6)]
        self.registered: Counter = Counter()

    # ------------------------------------------------------------------ rows
    def appoint(self, person: str) -> str:
        """Make the person a claims handler of the provincial social insurance bureau."""
        self.world.add("public_official", id_number=person, name=person_name(self.world, person),
                       org_code=self.bureau, org_name="浙江省社会保险管理服务中心", org_type="institution",
                       position="工伤待遇审核员", rank="科员", region_code="330000",
                       start_date=dt.date(2018, 3, 1), end_date=None)
        return person

    def employer(self, region: str) -> str:
        w = self.world
        return w.new_company(region_code=region, legal_rep_id=w.new_person(region_code=region),
                             name=f"{w.name()[:1]}{w.pick(list('永华鼎新恒通'))}制造有限公司")

    def contribute(self, person: str, employer: str, months: list[str]) -> None:
        for month in months:
            if MONTHS[0] <= month <= MONTHS[-1]:
                self.world.add("insurance_contribution", id_number=person, employer_code=employer, month=month,
                               amount=money(float(self.world.rng.integers(300, 900))))

    def accident(self, earliest: int = 2, latest: int = 11) -> tuple[dt.date, dt.date]:
        """(accident_date, approved_date): accident month index in [earliest, latest], approval within 10-70 days."""
        w = self.world
        month_index = 11 if w.rng.random() < 0.3 and latest == 11 else int(w.rng.integers(earliest, latest + 1))
        month = MONTHS[month_index]
        accident = w.date(month_first(month), min(month_last(month), WORLD_END - dt.timedelta(days=12)))
        # approved before the last day, so that a marriage dissolved the day after is still in the world
        latest = min(accident + dt.timedelta(days=70), WORLD_END - dt.timedelta(days=1))
        approved = w.date(accident + dt.timedelta(days=10), latest)
        return accident, approved

    def claim(self, injured: str, employer: str, accident: dt.date, approved: dt.date,
              handler: str | None = None) -> dict:
        w = self.world
        return w.add("injury_claim", claim_id=w.next_id("injury_claim", "GS"), injured_id=injured,
                     employer_code=employer, accident_date=accident, diagnosis=w.pick(DIAGNOSES),
                     hospital_code=w.pick(w.hospitals), payout=money(float(w.rng.integers(8000, 160000))),
                     handler_id=handler or w.pick(self.handlers), approved_date=approved)

    def insured(self, region: str, accident: dt.date, person: str | None = None) -> tuple[str, str]:
        """A person (fresh unless given) and employer with contributions from M-3 to M."""
        person = person or self.world.new_person(region_code=region)
        employer = self.employer(region)
        self.contribute(person, employer, [month_add(month_of(accident), -k) for k in range(4)])
        return person, employer

    def register(self, branch: str, claim: dict, positive: bool, note: str) -> None:
        self.world.plant(MODEL_ID, branch, self.world.qualified(claim, "claim_id"), "red" if positive else None,
                         decoy=not positive, note=note)
        self.registered[(branch, positive)] += 1

    # ------------------------------------------------------------------ branch a
    def branch_a(self, name: str, positive: bool) -> None:
        w = self.world
        region = w.pick(COUNTIES)
        accident, approved = self.accident(earliest=3 if name == "lapsed" else 2,
                                           latest=10 if name == "enrolled_after" else 11)
        m = month_of(accident)
        person, employer = w.new_person(region_code=region), self.employer(region)
        months_with_employer = {"lapsed": [month_add(m, -k) for k in (3, 4, 5)], "enrolled_after": [month_add(m, 1)],
                                "only_m_minus_2": [month_add(m, -2)], "only_m_minus_1": [month_add(m, -1)],
                                "only_accident_month": [m], "every_month": [month_add(m, -k) for k in range(-1, 4)]}
        self.contribute(person, employer, months_with_employer.get(name, []))
        if name == "other_employer":
            self.contribute(person, self.employer(region), [month_add(m, -k) for k in range(3)])
        claim = self.claim(person, employer, accident, approved)
        self.register("a", claim, positive, name.replace("_", " "))

    # ------------------------------------------------------------------ branch b
    def branch_b(self, name: str, positive: bool) -> None:
        w = self.world
        region = w.pick(COUNTIES)
        accident, approved = self.accident(latest=8 if name == "married_after_approval" else 11)
        if name == "self":
            injured = handler = w.new_person(region_code=region)
        elif name in HOUSEHOLDS_B:
            injured, handler = new_household(w, HOUSEHOLDS_B[name], region_code=region)
            if name == "namesake":  # the handler only shares the injured person's child's name
                handler = w.new_person(region_code=region, name=person_name(w, handler))
        else:  # spouses living in two households, tied (or not) by a marriage row
            injured = new_household(w, ["head"], region_code=region)[0]
            handler = new_household(w, ["head"], region_code=region)[0]
        marriage = self.marriage_dates(name, accident, approved)
        if marriage:
            registered, dissolved = marriage
            w.add("marriage", marriage_id=w.next_id("marriage", "HY"), person_a_id=injured, person_b_id=handler,
                  registered_date=registered, dissolved_date=dissolved)
        self.appoint(handler)
        _, employer = self.insured(region, accident, injured)
        claim = self.claim(injured, employer, accident, approved, handler)
        self.register("b", claim, positive, name.replace("_", " "))

    def marriage_dates(self, name: str, accident: dt.date, approved: dt.date) -> tuple[dt.date, dt.date | None] | None:
        """(registered_date, dissolved_date) of the marriage row a branch b situation has, if any."""
        day = dt.timedelta(days=1)
        if name == "spouse_by_marriage":
            return dt.date(2010, 5, 1), None
        if name == "divorced_after_approval":
            return dt.date(2009, 5, 1), approved + day
        if name == "divorced_before_approval":
            return dt.date(2008, 5, 1), approved - dt.timedelta(days=40)
        if name == "divorced_in_household":  # a marriage row exists, so head-spouse no longer counts
            return dt.date(2008, 5, 1), accident - dt.timedelta(days=200)
        if name == "divorced_on_approval":  # dissolved_date must be AFTER D to hold at D
            return dt.date(2011, 5, 1), approved
        if name == "married_after_approval":
            return self.world.date(approved + day, min(approved + dt.timedelta(days=30), WORLD_END)), None
        return None

    # ------------------------------------------------------------------ branch c
    def branch_c(self, name: str, positive: bool) -> None:
        w = self.world
        region = w.pick(COUNTIES)
        accident, approved = self.accident(earliest=2, latest=10)
        person, employer = self.insured(region, accident)
        if name in ("pair", "triple"):  # approved a day apart, never after the world's last day (undelivered)
            claims = [self.claim(person, employer, accident, min(approved + dt.timedelta(days=k), WORLD_END))
                      for k in range(2 if name == "pair" else 3)]
        elif name == "different_dates":
            claims = [self.claim(person, employer, accident, approved),
                      self.claim(person, employer, accident + dt.timedelta(days=int(w.rng.integers(1, 9))), approved)]
        else:  # namesakes: two people of one name, injured the same day
            namesake = w.new_person(region_code=region, name=person_name(w, person))
            other, other_employer = self.insured(region, accident, namesake)
            claims = [self.claim(person, employer, accident, approved),
                      self.claim(other, other_employer, accident, approved)]
        for claim in claims:
            self.register("c", claim, positive, name.replace("_", " "))


def plant(world: World) -> None:
    plant_situations(_Planter(world), SITUATIONS, planting_count(world))
