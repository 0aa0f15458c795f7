"""SM07 ineligible social assistance or pension: planted payments and the independent truth oracle.

Rule (models.md):
(a) red: a subsidy_payment or pension_payment for a recipient whose death_date is before the first
    day of pay_month (death within the month is allowed for that month);
(b) red: a subsidy_payment whose recipient, or any member of the recipient's household (same
    household_id), is an official in post or a salaried cadre on any day of pay_month;
(c) yellow: a subsidy_payment whose recipient's household owns a vehicle registered on or before
    the last day of pay_month with value >= vehicle_value, or includes a related-party tie (legal
    rep or shareholder >= min_share, valid on some day of pay_month) to a company established on
    or before the last day of pay_month and not deregistered before its first day;
(d) red: the same recipient and program paid in two different region_codes for the same
    pay_month (every payment of the group alerts).
Key: the qualified subsidy_id or pension_id.

Readings taken where the text leaves room:
- The household is every person sharing the recipient's household_id, the recipient included; a
  recipient missing from the registry is a household of one.
- "Salaried cadre on a day D": a village_cadre row valid at D (any village) with salaried_from <= D.
- (c) vehicle: owner_id in the household, registered_date non-null and <= the month's last day.
  Ties are the shared definition's (``Relations.companies_tied_during``: legal rep from
  established to deregistered date, person shareholder rows >= min_share); the company must in
  addition have established_date <= last day and deregistered_date null or >= first day.
- (d) compares non-null region_codes of payments with equal recipient_id, program and pay_month.
- A pay_month that is not 'YYYY-MM' is not judged.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable

import polars as pl

from orchestration.world.core import COUNTIES, World
from orchestration.world.scenarios._common import (
    alerts_frame, money, month_add, month_first, month_last, new_household, new_org_code, param, person_name,
    plant_situations, planting_count, world_months,
)
from orchestration.world.scenarios._frames import collect, distinct, groups, lazy, slices
from orchestration.world.scenarios._relations import Relations, held_during, registry_around

MODEL_ID = "SM07"
MONTH_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


# =========================================================================== truth oracle
class _Registers:
    """The registries SM07 reads about some recipients, indexed by person (and company): their
    deaths, households and, for every member, posts, salaried terms, vehicles and company ties."""

    def __init__(self, tables: dict[str, pl.DataFrame | pl.LazyFrame], recipients: list[str]) -> None:
        self.death = _deaths(tables, recipients)
        households = registry_around(tables, recipients)["person"]
        self.household_of: dict[str, str] = {}
        self.members: dict[str, list[str]] = defaultdict(list)
        for person, household in households.select(["id_number", "household_id"]).iter_rows():
            if person is not None and household is not None:
                self.household_of[person] = household
                self.members[household].append(person)
        members = sorted(set(recipients) | set(self.household_of))
        self.posts = _intervals(_rows(tables, "public_official", ["id_number", "start_date", "end_date"], members))
        self.salaried_terms = _intervals(_rows(tables, "village_cadre",
                                               ["id_number", "term_start", "term_end", "salaried_from"], members))
        self.vehicles = _intervals(_rows(tables, "vehicle", ["owner_id", "registered_date", "value"], members))
        registry = registry_around(tables, members)  # the members' company ties and those companies' lives
        companies = registry["company"].select(["credit_code", "established_date", "deregistered_date"])
        self.company_life = {code: (established, deregistered) for code, established, deregistered in companies.iter_rows()}
        self.relations = Relations(registry)

    def household(self, person: str) -> set[str]:
        household = self.household_of.get(person)
        return set(self.members[household]) | {person} if household else {person}

    def official_or_salaried(self, person: str, first: dt.date, last: dt.date) -> bool:
        if any(held_during(start, end, first, last) for start, end in self.posts.get(person, ())):
            return True
        return any(salaried is not None and start is not None and held_during(max(start, salaried), end, first, last)
                   for start, end, salaried in self.salaried_terms.get(person, ()))

    def owns_costly_vehicle(self, person: str, last: dt.date, vehicle_value: float) -> bool:
        return any(registered is not None and registered <= last and value is not None and value >= vehicle_value
                   for registered, value in self.vehicles.get(person, ()))

    def company_ties(self, persons: set[str], first: dt.date, last: dt.date, min_share: float) -> set[str]:
        """Companies tied to the persons on some day of the month and in business during it."""
        def in_business(code: str) -> bool:
            established, deregistered = self.company_life.get(code, (None, None))
            return established is not None and established <= last and (deregistered is None or deregistered >= first)
        return {c for c in self.relations.companies_tied_during(persons, first, last, min_share) if in_business(c)}


def _deaths(tables: dict[str, pl.DataFrame | pl.LazyFrame], persons: list[str]) -> dict[str, dt.date]:
    """The earliest death_date of each of ``persons`` who has one."""
    death: dict[str, dt.date] = {}
    for person, died in _rows(tables, "death", ["id_number", "death_date"], persons):
        if person is not None and died is not None:
            death[person] = min(died, death.get(person, died))
    return death


def _rows(tables: dict[str, pl.DataFrame | pl.LazyFrame], entity: str, columns: list[str],
          persons: list[str]) -> Iterable[tuple]:
    """The columns of the entity's rows whose first column is one of ``persons``."""
    return collect(lazy(tables, entity).filter(pl.col(columns[0]).is_in(persons)).select(columns)).iter_rows()


def _intervals(rows: Iterable[tuple]) -> dict[str, list[tuple]]:
    """First value -> list of the remaining values' tuples (rows with a null first value dropped)."""
    out: dict[str, list[tuple]] = defaultdict(list)
    for person, *rest in rows:
        if person is not None:
            out[person].append(tuple(rest))
    return out


def truth(tables: dict[str, pl.DataFrame | pl.LazyFrame], params: dict) -> pl.DataFrame:
    vehicle_value, min_share = float(param(params, "vehicle_value")), float(param(params, "min_share"))
    subsidy_columns = ["_system_id", "subsidy_id", "recipient_id", "program", "region_code", "pay_month"]
    fired = []
    for recipients in groups(distinct(tables, "subsidy_payment", "recipient_id")):  # a recipient's payments together
        reg = _Registers(tables, recipients)
        subsidies = collect(lazy(tables, "subsidy_payment").filter(pl.col("recipient_id").is_in(recipients))
                            .select(subsidy_columns))
        regions_paid: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        for _, _, recipient, program, region, month in subsidies.iter_rows():
            if None not in (recipient, program, region, month):
                regions_paid[(recipient, program, month)].add(region)
        for system, subsidy, recipient, program, _, month in subsidies.iter_rows():
            if month is None or not MONTH_PATTERN.match(month):
                continue
            key, first, last = f"{system}:{subsidy}", month_first(month), month_last(month)
            if _died_before(reg.death, recipient, first):
                fired.append((key, "a", "red"))
            household = reg.household(recipient)
            if any(reg.official_or_salaried(p, first, last) for p in household):
                fired.append((key, "b", "red"))
            if any(reg.owns_costly_vehicle(p, last, vehicle_value) for p in household) or \
                    reg.company_ties(household, first, last, min_share):
                fired.append((key, "c", "yellow"))
            if len(regions_paid.get((recipient, program, month), ())) >= 2:
                fired.append((key, "d", "red"))
    # A pension alerts only when its recipient has a death row.
    dead = distinct(tables, "death", "id_number")
    pensions = collect(lazy(tables, "pension_payment").filter(pl.col("recipient_id").is_in(dead))
                       .select(["_system_id", "pension_id", "recipient_id", "pay_month"]))
    for group in slices(pensions):
        death = _deaths(tables, group.get_column("recipient_id").unique().to_list())
        for system, pension, recipient, month in group.iter_rows():
            if month is not None and MONTH_PATTERN.match(month) and _died_before(death, recipient, month_first(month)):
                fired.append((f"{system}:{pension}", "a", "red"))
    return alerts_frame(MODEL_ID, fired)


def _died_before(death: dict[str, dt.date], person: str, first: dt.date) -> bool:
    died = death.get(person)
    return died is not None and died < first


# =========================================================================== planting
MONTHS = world_months()
PROGRAMS = ("dibao", "tekun", "temporary", "disability")
SITUATIONS = {
    "a": {True: ("died_last_day_before", "died_months_before"), False: ("died_first_day", "died_within_month")},
    "b": {True: ("member_official", "post_starts_last_day", "post_ended_first_day", "recipient_salaried_cadre",
                 "member_salaried_from_last_day"),
          False: ("post_ended_before", "cadre_unsalaried", "salaried_after", "official_in_other_household",
                  "namesake_official", "post_starts_after")},
    "c": {True: ("vehicle_at_threshold", "vehicle_registered_last_day", "member_legal_rep", "member_shareholder_at_min",
                 "shareholding_ends_first_day", "company_deregistered_first_day"),
          False: ("vehicle_below_value", "vehicle_registered_after", "vehicle_of_relative_elsewhere",
                  "shareholder_below_min", "shareholding_ended_before", "company_deregistered_before",
                  "company_established_after")},
    "d": {True: ("two_counties_one_city", "two_cities"),
          False: ("same_region_twice", "different_programs", "different_months")},
}
SEVERITY = {"a": "red", "b": "red", "c": "yellow", "d": "red"}
# Situations paid at the latest in the world's second-to-last month: their decisive date lies in the
# month after the pay month, or on its last day in a monthly-snapshot registry (official roster,
# vehicles), whose last snapshot is taken on the first day of the world's last month.
NOT_IN_LAST_MONTH = {"post_starts_after", "salaried_after", "vehicle_registered_after", "company_established_after",
                     "different_months", "post_starts_last_day", "vehicle_registered_last_day"}


class _Planter:
    def __init__(self, world: World) -> None:
        self.world = world
        self.orgs: dict[str, str] = {}
        self.registered: dict[tuple[str, bool], int] = defaultdict(int)
        self.pension_turn = False

    # ------------------------------------------------------------------ rows
    def family(self, relations=("head", "spouse", "child")) -> list[str]:
        return new_household(self.world, relations, village_code=self.world.village())

    def region_of(self, person: str) -> str:
        """County of registration of a person planted a moment ago."""
        return self.world.recent("person", "id_number", person)["region_code"]

    def pay(self, recipient: str, month: str, *, region: str | None = None, program: str | None = None) -> dict:
        w = self.world
        return w.add("subsidy_payment", subsidy_id=w.next_id("subsidy_payment", "JZ"), recipient_id=recipient,
                     program=program or PROGRAMS[0], region_code=region or self.region_of(recipient),
                     amount=money(float(w.rng.integers(600, 1600))), pay_month=month)

    def pension(self, recipient: str, month: str) -> dict:
        w = self.world
        return w.add("pension_payment", pension_id=w.next_id("pension_payment", "YL"), recipient_id=recipient,
                     amount=money(float(w.rng.integers(1800, 5200))), pay_month=month)

    def post(self, person: str, start: dt.date, end: dt.date | None = None) -> None:
        w = self.world
        region = self.region_of(person)
        org = self.orgs.setdefault(region, new_org_code(w, region))
        w.add("public_official", id_number=person, name=person_name(w, person), org_code=org,
              org_name=f"{region}市场监督管理局", org_type="government", position="科员", rank="一级科员",
              region_code=region, start_date=start, end_date=end)

    def cadre(self, person: str, term_start: dt.date, salaried_from: dt.date | None) -> None:
        w = self.world
        village = w.recent("person", "id_number", person)["village_code"]
        w.add("village_cadre", id_number=person, name=person_name(w, person), village_code=village,
              role=w.pick(["member", "accountant", "cashier"]), term_start=term_start, term_end=None,
              salaried_from=salaried_from)

    def vehicle(self, owner: str, value: float, registered: dt.date) -> None:
        w = self.world
        w.add("vehicle", plate=w.next_id("vehicle", "浙A"), owner_id=owner, vehicle_type="小型轿车",
              value=money(value), registered_date=registered)

    def month(self, *, earliest: int = 0, latest: int = len(MONTHS) - 1) -> str:
        w = self.world
        index = latest if w.rng.random() < 0.35 else int(w.rng.integers(earliest, latest + 1))
        return MONTHS[index]

    def register(self, branch: str, row: dict, positive: bool, note: str) -> None:
        id_column = "subsidy_id" if "subsidy_id" in row else "pension_id"
        self.world.plant(MODEL_ID, branch, self.world.qualified(row, id_column), SEVERITY[branch] if positive else None,
                         decoy=not positive, note=note)
        self.registered[(branch, positive)] += 1

    # ------------------------------------------------------------------ branch a
    def branch_a(self, name: str, positive: bool) -> None:
        w = self.world
        month = self.month(earliest=3)
        first, last = month_first(month), month_last(month)
        died = {"died_last_day_before": first - dt.timedelta(days=1),
                "died_months_before": w.date(month_first(month_add(month, -3)), month_last(month_add(month, -2))),
                "died_first_day": first, "died_within_month": w.date(first + dt.timedelta(days=1), last)}[name]
        recipient = self.family(("head", "spouse"))[0]
        w.add("death", id_number=recipient, death_date=died, source_ref=w.next_id("death", "SW"))
        self.pension_turn = not self.pension_turn
        row = self.pension(recipient, month) if self.pension_turn else self.pay(recipient, month)
        self.register("a", row, positive, f"{name.replace('_', ' ')} ({died})")

    # ------------------------------------------------------------------ branch b
    def branch_b(self, name: str, positive: bool) -> None:
        w = self.world
        month = self.month(latest=len(MONTHS) - 2) if name in NOT_IN_LAST_MONTH else self.month()
        first, last = month_first(month), month_last(month)
        day = dt.timedelta(days=1)
        recipient, _, member = self.family()
        long_ago = first - dt.timedelta(days=int(w.rng.integers(400, 3000)))
        if name == "member_official":
            self.post(member, long_ago)
        elif name == "post_starts_last_day":
            self.post(member, last)
        elif name == "post_ended_first_day":
            self.post(member, long_ago, first)
        elif name == "post_ended_before":
            self.post(member, long_ago, first - day)
        elif name == "post_starts_after":
            self.post(member, last + day)
        elif name == "recipient_salaried_cadre":
            self.cadre(recipient, long_ago, long_ago)
        elif name == "member_salaried_from_last_day":
            self.cadre(member, long_ago, last)
        elif name == "cadre_unsalaried":
            self.cadre(member, long_ago, None)
        elif name == "salaried_after":
            self.cadre(member, long_ago, last + day)
        elif name == "official_in_other_household":
            self.post(self.family(("head",))[0], long_ago)
        else:  # namesake_official: someone else of the member's name is in post
            namesake = w.new_person(village_code=w.village(), name=person_name(w, member))
            self.post(namesake, long_ago)
        self.register("b", self.pay(recipient, month), positive, name.replace("_", " "))

    # ------------------------------------------------------------------ branch c
    def branch_c(self, name: str, positive: bool) -> None:
        w = self.world
        month = self.month(latest=len(MONTHS) - 2) if name in NOT_IN_LAST_MONTH else self.month()
        first, last = month_first(month), month_last(month)
        day = dt.timedelta(days=1)
        recipient, _, member = self.family()
        long_ago = first - dt.timedelta(days=int(w.rng.integers(400, 3000)))
        vehicles = {"vehicle_at_threshold": (member, 100000.00, long_ago),
                    "vehicle_registered_last_day": (recipient, 150000.00, last),
                    "vehicle_below_value": (member, 99999.99, long_ago),
                    "vehicle_registered_after": (member, 180000.00, last + day)}
        if name in vehicles:
            self.vehicle(*vehicles[name])
        elif name == "vehicle_of_relative_elsewhere":
            self.vehicle(self.family(("head",))[0], 300000.00, long_ago)
        elif name in ("member_legal_rep", "company_deregistered_first_day", "company_deregistered_before",
                      "company_established_after"):
            established = last + day if name == "company_established_after" else long_ago
            deregistered = {"company_deregistered_first_day": first,
                            "company_deregistered_before": first - day}.get(name)
            w.new_company(region_code=self.region_of(member), legal_rep_id=member, established=established,
                          deregistered=deregistered)
        else:  # shareholdings of the member in a company run by someone else
            company = w.new_company(region_code=self.region_of(member), legal_rep_id=w.new_person(),
                                    established=long_ago)
            ratio = {"member_shareholder_at_min": 0.05, "shareholder_below_min": 0.049}.get(name, 0.2)
            to_date = {"shareholding_ends_first_day": first, "shareholding_ended_before": first - day}.get(name)
            w.add("shareholder", credit_code=company, holder_id=member, holder_type="person", share_ratio=ratio,
                  from_date=long_ago, to_date=to_date)
        self.register("c", self.pay(recipient, month), positive, name.replace("_", " "))

    # ------------------------------------------------------------------ branch d
    def branch_d(self, name: str, positive: bool) -> None:
        w = self.world
        month = self.month(latest=len(MONTHS) - 2) if name in NOT_IN_LAST_MONTH else self.month()
        recipient = self.family(("head", "child"))[0]
        home = self.region_of(recipient)
        same_city = [c for c in COUNTIES if c[:4] == home[:4] and c != home]
        elsewhere = w.pick(same_city) if name == "two_counties_one_city" and same_city else \
            w.pick([c for c in COUNTIES if c[:4] != home[:4]])
        program = w.pick(PROGRAMS)
        if name == "same_region_twice":
            rows = [self.pay(recipient, month, program=program), self.pay(recipient, month, program=program)]
        elif name == "different_programs":
            rows = [self.pay(recipient, month, program="dibao"),
                    self.pay(recipient, month, region=elsewhere, program="temporary")]
        elif name == "different_months":
            rows = [self.pay(recipient, month, program=program),
                    self.pay(recipient, month_add(month, 1), region=elsewhere, program=program)]
        else:
            rows = [self.pay(recipient, month, program=program),
                    self.pay(recipient, month, region=elsewhere, program=program)]
        for row in rows:
            self.register("d", row, positive, f"{name.replace('_', ' ')}: {row['region_code']} {row['pay_month']}")


def plant(world: World) -> None:
    plant_situations(_Planter(world), SITUATIONS, planting_count(world))
