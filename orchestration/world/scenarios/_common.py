"""Helpers several scenario modules share: calendar months, the alert frame, planting building blocks.

Oracle side: ``month_*`` (models.md speaks in calendar months 'YYYY-MM'), ``DEFAULT_PARAMS`` (the
defaults models.md names, read through ``param``) and ``alerts_frame`` (one row per (model_id,
primary_key), branches sorted and comma-joined, the highest severity).
Planting side: ``planting_count`` (how many positives/decoys per branch at a scale),
``last_monthly_snapshot`` (the last day monthly-snapshot registries can show), ``new_household``
(a family with plausible birth dates), ``new_org_code`` and ``new_tender_project`` (an
organisation-owned tender project, as SM05, SM09 and SM10 need), ``person_name`` /
``company_row`` (look up a row planted a moment ago), ``money`` (2-dp Decimal).
"""
from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

import polars as pl

from orchestration.world.core import WORLD_END, WORLD_START, World, make_credit_code

# --------------------------------------------------------------------------- parameters
DEFAULT_PARAMS: dict[str, float] = {
    "tender_threshold": 400000, "split_window_days": 180, "spike_factor": 3.0, "min_quantity": 100,
    "doctor_share": 0.4, "red_ratio": 0.5, "vehicle_value": 100000, "min_share": 0.05, "rent_ratio": 0.8,
}


def param(params: dict, name: str):
    """A model parameter from ``params``, falling back to models.md's default."""
    return params.get(name, DEFAULT_PARAMS.get(name)) if params else DEFAULT_PARAMS[name]


# --------------------------------------------------------------------------- calendar months
def month_of(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def month_number(month: str) -> int:
    """'YYYY-MM' as a running month number (year * 12 + month - 1), so months subtract."""
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def month_from_number(n: int) -> str:
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def month_add(month: str, k: int) -> str:
    return month_from_number(month_number(month) + k)


def month_first(month: str) -> dt.date:
    return dt.date(int(month[:4]), int(month[5:7]), 1)


def month_last(month: str) -> dt.date:
    return month_first(month_add(month, 1)) - dt.timedelta(days=1)


# Monthly-snapshot registries (official roster, vehicle and property registries) deliver their last
# full snapshot on the first day of the last month: a post, vehicle or end date after it is never
# seen by the platform, so planted rows of those registries keep their dates on or before it.
def last_monthly_snapshot() -> dt.date:
    return month_first(month_of(WORLD_END))


def world_months() -> list[str]:
    """The calendar months of the world's history, oldest first."""
    first, last = month_number(month_of(WORLD_START)), month_number(month_of(WORLD_END))
    return [month_from_number(n) for n in range(first, last + 1)]


# --------------------------------------------------------------------------- alerts
ALERT_SCHEMA = {"model_id": pl.Utf8, "rule_branch": pl.Utf8, "primary_key": pl.Utf8, "severity": pl.Utf8}
SEVERITY_RANK = {"yellow": 1, "red": 2}


def alerts_frame(model_id: str, fired: Iterable[tuple[str, str, str]]) -> pl.DataFrame:
    """The alert contract's truth shape from fired (primary_key, branch, severity) triples.

    One row per primary_key: rule_branch lists every branch that fired on it (sorted,
    comma-joined) and severity is the highest of theirs.
    """
    branches: dict[str, set[str]] = defaultdict(set)
    severity: dict[str, str] = {}
    for key, branch, sev in fired:
        branches[key].add(branch)
        if SEVERITY_RANK[sev] > SEVERITY_RANK.get(severity.get(key, ""), 0):
            severity[key] = sev
    rows = [{"model_id": model_id, "rule_branch": ",".join(sorted(branches[k])), "primary_key": k,
             "severity": severity[k]} for k in sorted(branches)]
    return pl.DataFrame(rows, schema=ALERT_SCHEMA)


# --------------------------------------------------------------------------- planting
def planting_count(world: World) -> int:
    """Positives (and decoys) to plant per rule branch: 24 at SF 0.01 and below, growing with scale."""
    return max(24, math.ceil(2400 * world.scale))


def plant_situations(planter, situations: dict[str, dict[bool, list[str]]], n: int) -> None:
    """Cycle through each branch's named situations, positives and decoys apart, calling
    ``planter.branch_<branch>(name, positive)`` until ``planter.registered[(branch, positive)]``
    reaches ``n`` (a situation may register several alerts, or none)."""
    for branch, by_outcome in situations.items():
        for positive, names in by_outcome.items():
            i = 0
            while planter.registered[(branch, positive)] < n:
                getattr(planter, f"branch_{branch}")(names[i % len(names)], positive)
                i += 1


def money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def new_household(world: World, relations: Iterable[str], *, village_code: str | None = None,
                  region_code: str | None = None) -> list[str]:
    """A fresh household with one member per entry of ``relations``; their id_numbers, in order.

    Birth years follow the relations (parents a generation above the head, children and
    grandchildren below) so that the registry looks plausible; the rules never read them.
    """
    if village_code is None and region_code is None:
        village_code = world.village()
    region = region_code or village_code[:6]
    household = world.new_household_id(region)
    head_birth = dt.date(1955, 1, 1) + dt.timedelta(days=int(world.rng.integers(365 * 25)))
    offsets = {"head": 0, "spouse": 0, "sibling": 0, "other": 0, "parent": -27, "child": 27, "grandchild": 52}
    members: list[str] = []
    for relation in relations:
        years = offsets.get(relation, 0) + int(world.rng.integers(-3, 4))
        birth = dt.date(min(max(head_birth.year + years, 1930), 2010), head_birth.month, min(head_birth.day, 28))
        pid = world.new_person(village_code=village_code, region_code=region, household_id=household,
                               relation=relation, birth=birth)
        members.append(pid)
    return members


def new_org_code(world: World, region_code: str) -> str:
    """Credit code of a fresh government organisation (type 11); drawn from the company sequence
    so it can never coincide with a company's or another organisation's code."""
    return make_credit_code(region_code, world.next_seq("company"), "11")


def new_tender_project(world: World, *, owner_code: str, region_code: str, publish: dt.date,
                       award: dt.date | None, budget: float, category: str = "works",
                       name: str = "工程施工项目") -> dict:
    """An organisation-owned tender_project row (bid deadline three weeks after publication)."""
    return world.add("tender_project", project_id=world.next_id("tender_project", "ZB"), name=name,
                     owner_code=owner_code, owner_type="org", region_code=region_code, category=category,
                     method="open", budget=money(budget), publish_date=publish,
                     bid_deadline=publish + dt.timedelta(days=21), award_date=award)


def person_name(world: World, id_number: str) -> str:
    """The registered name of a person planted a moment ago (searched from the newest row back)."""
    return world.recent("person", "id_number", id_number)["name"]


def company_row(world: World, credit_code: str) -> dict:
    """The company row of a company planted a moment ago (searched from the newest row back)."""
    return world.recent("company", "credit_code", credit_code)
