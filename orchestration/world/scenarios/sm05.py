"""SM05 technical lead absent from site: planted contracts with attendance, and the truth oracle.

Rule (models.md): for each contract with a technical_lead_id and required_onsite_days_per_month
R > 0, for each calendar month wholly inside [sign_date, end_date] whose last day is on or before
the as-of date, count the distinct work_dates of technical_lead_id on that contract's project in
site_attendance. Below R: yellow (branch yellow); below red_ratio x R: red (branch red).
Key: ``<qualified contract_id>|YYYY-MM``.

Readings taken where the text leaves room:
- A month below red_ratio x R is also below R, so both branches fire: rule_branch "red,yellow",
  severity red (the alert contract lists every branch that fired).
- A null end_date is an open interval (shared definition "At date D"): months run to the as-of
  date. A null sign_date holds at no date, so such a contract is not judged.
- "That contract's project" is its project_id within the same city: a project, its contract and
  its attendance are all delivered by the systems of the project's city, and record ids are
  unique only within a system, so the join is on (city of the system, project_id).
- The as-of date is ``params["as_of_date"]`` when given, else the world's last batch date.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import Counter

import polars as pl

from orchestration.world.core import COUNTIES, WORLD_END, World
from orchestration.world.scenarios._common import (
    DEFAULT_PARAMS, alerts_frame, month_add, month_first, month_last, month_of, new_org_code,
    new_tender_project, param, planting_count, world_months,
)
from orchestration.world.scenarios._frames import collect, lazy, matching, slices

MODEL_ID = "SM05"


# =========================================================================== truth oracle
def truth(tables: dict[str, pl.DataFrame | pl.LazyFrame], params: dict) -> pl.DataFrame:
    as_of: dt.date = (params or {}).get("as_of_date", WORLD_END)
    red_ratio = float(param(params, "red_ratio"))
    columns = ["_system_id", "contract_id", "project_id", "technical_lead_id",
               "required_onsite_days_per_month", "sign_date", "end_date"]
    contracts = collect(lazy(tables, "contract").select(columns))
    fired = []
    for group in slices(contracts):  # contracts in groups, with their leads' attendance
        leads = group.select(pl.col("technical_lead_id").alias("id_number"), "project_id").drop_nulls()
        days_present = _days_present(matching(tables, "site_attendance", leads))
        for system, contract, project, lead, required, sign, end in group.iter_rows():
            if lead is None or required is None or required <= 0 or sign is None:
                continue
            for month in whole_months(sign, end, as_of):
                present = days_present.get((city_of_system(system), project, lead, month), 0)
                key = f"{system}:{contract}|{month}"
                if present < required:
                    fired.append((key, "yellow", "yellow"))
                if present < red_ratio * required:
                    fired.append((key, "red", "red"))
    return alerts_frame(MODEL_ID, fired)


def city_of_system(system_id: str) -> str:
    """City code a city-level system id ends with (``site_attendance_330100`` -> ``330100``)."""
    return system_id.rsplit("_", 1)[-1]


def whole_months(start: dt.date, end: dt.date | None, as_of: dt.date) -> list[str]:
    """Months wholly inside [start, end] (end null = open) whose last day is <= as_of."""
    month = month_of(start) if start.day == 1 else month_add(month_of(start), 1)
    limit = as_of if end is None else min(end, as_of)
    months = []
    while month_last(month) <= limit:
        months.append(month)
        month = month_add(month, 1)
    return months


def _days_present(attendance: pl.DataFrame) -> dict[tuple[str, str, str, str], int]:
    """(city, project_id, id_number, 'YYYY-MM') -> number of distinct work_dates."""
    counted = (
        attendance
        .filter(pl.col("project_id").is_not_null() & pl.col("id_number").is_not_null() & pl.col("work_date").is_not_null())
        .with_columns(city=pl.col("_system_id").str.split("_").list.last(), month=pl.col("work_date").dt.strftime("%Y-%m"))
        .group_by(["city", "project_id", "id_number", "month"])
        .agg(pl.col("work_date").n_unique().alias("days"))
        .select("city", "project_id", "id_number", "month", "days"))
    return {(c, p, i, m): d for c, p, i, m, d in counted.iter_rows()}


# =========================================================================== planting
RED_RATIO = DEFAULT_PARAMS["red_ratio"]
KINDS = ("full_months", "mid_month", "past_as_of", "lead_elsewhere", "no_duty", "crew_without_lead")
MONTHS = world_months()


class _Planter:
    """Plants contracts month by month; counts what it registered per (branch, decoy)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.owners: dict[str, str] = {}
        self.registered: Counter = Counter()

    # ------------------------------------------------------------------ rows
    def project(self, region: str, sign: dt.date) -> dict:
        w = self.world
        owner = self.owners.setdefault(region, new_org_code(w, region))
        return new_tender_project(w, owner_code=owner, region_code=region, publish=sign - dt.timedelta(days=30),
                                  award=sign - dt.timedelta(days=5), budget=float(w.rng.integers(500, 5000)) * 1000)

    def contract(self, sign: dt.date, end: dt.date, required: int, *, with_lead: bool = True) -> tuple[dict, dict]:
        """A fresh project and its contract; returns (contract row, project row)."""
        w = self.world
        region = w.pick(COUNTIES)
        project = self.project(region, sign)
        supplier = w.new_company(region_code=region, legal_rep_id=w.new_person(region_code=region))
        row = w.add("contract", contract_id=w.next_id("contract", "HT"), project_id=project["project_id"],
                    supplier_code=supplier, amount=project["budget"], sign_date=sign, end_date=end,
                    technical_lead_id=w.new_person(region_code=region) if with_lead else None,
                    required_onsite_days_per_month=required)
        return row, project

    def attend(self, project_id: str, person: str, month: str, days: int, *, not_before: dt.date | None = None,
               not_after: dt.date | None = None) -> None:
        """``days`` distinct work dates of the person on the project in the month (within the bounds)."""
        w = self.world
        first = max(month_first(month), not_before or month_first(month))
        last = min(month_last(month), not_after or month_last(month), WORLD_END)
        span = (last - first).days + 1
        for offset in sorted(w.rng.choice(span, size=min(days, span), replace=False)):
            day = first + dt.timedelta(days=int(offset))
            check_in = dt.datetime.combine(day, dt.time(int(w.rng.integers(6, 9)), int(w.rng.integers(60))))
            w.add("site_attendance", project_id=project_id, id_number=person, work_date=day, check_in=check_in)

    def required(self) -> int:
        return int(self.world.pick([8, 9, 10, 12, 15, 16, 20, 22]))

    # ------------------------------------------------------------------ registering
    def judged_month(self, contract: dict, month: str, fate: str) -> None:
        """Attendance of the lead in a judged month by fate, and its registration."""
        w, r = self.world, contract["required_onsite_days_per_month"]
        half = math.ceil(RED_RATIO * r)  # fewest days that are not red
        days = {"yellow": int(w.rng.integers(half, r)), "red": int(w.rng.integers(0, half)),
                "exact": r, "over": r + int(w.rng.integers(1, 4))}[fate]
        self.attend(contract["project_id"], contract["technical_lead_id"], month, days)
        if fate in ("yellow", "red"):
            self.register(contract, month, fate, decoy=False, note=f"{days} of {r} days")
        else:  # exactly R is not below R; more than R is not below anything
            self.register(contract, month, "yellow" if fate == "exact" else "red", decoy=True,
                          note=f"{days} of {r} days")

    def register(self, contract: dict, month: str, branch: str, *, decoy: bool, note: str) -> None:
        key = f"{self.world.qualified(contract, 'contract_id')}|{month}"
        self.world.plant(MODEL_ID, branch, key, None if decoy else branch, decoy=decoy, note=note)
        self.registered[(branch, decoy)] += 1

    def fates(self, *fates: str) -> list[str]:
        order = list(fates)
        self.world.rng.shuffle(order)
        return order

    # ------------------------------------------------------------------ kinds
    def full_months(self) -> None:
        a = int(self.world.rng.integers(1, 9))
        contract, _ = self.contract(month_first(MONTHS[a]), month_last(MONTHS[a + 3]), self.required())
        for month, fate in zip(MONTHS[a:a + 4], self.fates("yellow", "red", "exact", "over")):
            self.judged_month(contract, month, fate)

    def mid_month(self) -> None:
        """Signed mid-month and ended mid-month: the partly covered months are not judged."""
        w = self.world
        a = int(w.rng.integers(2, 10))
        sign = month_first(MONTHS[a - 1]) + dt.timedelta(days=int(w.rng.integers(9, 20)))
        end = month_first(MONTHS[a + 2]) + dt.timedelta(days=int(w.rng.integers(4, 20)))
        contract, _ = self.contract(sign, end, self.required())
        for month, fate in zip(MONTHS[a:a + 2], self.fates("yellow", "red")):
            self.judged_month(contract, month, fate)
        for month, bound in ((MONTHS[a - 1], {"not_before": sign}), (MONTHS[a + 2], {"not_after": end})):
            days = int(w.rng.integers(1, 4))
            self.attend(contract["project_id"], contract["technical_lead_id"], month, days, **bound)
            self.register(contract, month, "yellow", decoy=True, note=f"partly covered month, {days} days")

    def past_as_of(self) -> None:
        """Runs beyond the as-of date: later months are not judged yet."""
        last_two = MONTHS[-2:]
        contract, _ = self.contract(month_first(last_two[0]), dt.date(WORLD_END.year + 1, 2, 28), self.required())
        for month, fate in zip(last_two, self.fates("yellow", "red")):
            self.judged_month(contract, month, fate)
        for k in (1, 2):
            self.register(contract, month_add(MONTHS[-1], k), "yellow", decoy=True, note="month after the as-of date")

    def lead_elsewhere(self) -> None:
        """The lead is on another project of the same city most days: those days do not count."""
        w = self.world
        a = int(w.rng.integers(1, 11))
        contract, project = self.contract(month_first(MONTHS[a]), month_last(MONTHS[a + 1]), self.required())
        elsewhere = self.project(project["region_code"], month_first(MONTHS[a]))
        for month, fate in zip(MONTHS[a:a + 2], self.fates("yellow", "red")):
            self.attend(elsewhere["project_id"], contract["technical_lead_id"], month,
                        contract["required_onsite_days_per_month"] + 2)
            self.judged_month(contract, month, fate)

    def no_duty(self) -> None:
        """No onsite requirement (R = 0) or no named lead: nothing is judged, however absent."""
        w = self.world
        a = int(w.rng.integers(1, 10))
        without_lead = w.rng.random() < 0.5
        contract, _ = self.contract(month_first(MONTHS[a]), month_last(MONTHS[a + 2]),
                                    self.required() if without_lead else 0, with_lead=not without_lead)
        for month in MONTHS[a:a + 3]:
            self.register(contract, month, "red", decoy=True,
                          note="no technical lead named" if without_lead else "R = 0")

    def crew_without_lead(self) -> None:
        """The crew is on site every day; only the lead's own days count."""
        w = self.world
        a = int(w.rng.integers(1, 11))
        contract, project = self.contract(month_first(MONTHS[a]), month_last(MONTHS[a + 1]), self.required())
        crew = [w.new_person(region_code=project["region_code"]) for _ in range(2)]
        for month, fate in zip(MONTHS[a:a + 2], self.fates("red", "over")):
            for worker in crew:
                self.attend(project["project_id"], worker, month, 26)
            self.judged_month(contract, month, fate)

    def enough(self, n: int) -> bool:
        return all(self.registered[(b, d)] >= n for b in ("yellow", "red") for d in (False, True))


def plant(world: World) -> None:
    planter = _Planter(world)
    n = planting_count(world)
    i = 0
    while not planter.enough(n):
        getattr(planter, KINDS[i % len(KINDS)])()
        i += 1
