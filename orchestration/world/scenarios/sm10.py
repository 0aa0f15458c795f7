"""SM10 official's conflict of interest in a tender: planted awards and the truth oracle.

Rule (models.md): a tender_project with owner_type org whose winner is, at award_date, a company
related to an official in post at the owning organisation (owner_code = org_code): the official
(branch official) or a close relative (branch relative) is its legal rep or a shareholder >=
min_share. Winner: the bidder of its bid with status won; where it has none, the supplier_code of
its contract. A project without award_date is not judged. Key: the qualified project_id; red.

Readings taken where the text leaves room:
- Several won bids (or, without one, several contracts) make several winners; each is judged.
- Bids and contracts belong to the project with that project_id in the same system.
- Legal rep at D: established_date <= D and (deregistered_date null or D <= deregistered_date);
  shareholder: a person row with share_ratio >= min_share valid at D (shared definitions, via
  ``_relations.Relations``). Close relatives at D as ``_relations`` defines them.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

import polars as pl

from orchestration.world.core import COUNTIES, WORLD_END, WORLD_START, World
from orchestration.world.scenarios._common import (
    alerts_frame, last_monthly_snapshot, money, new_household, new_org_code, new_tender_project, param, person_name,
    planting_count,
)
from orchestration.world.scenarios._frames import collect, lazy, slices
from orchestration.world.scenarios._relations import Relations, held_at, registry_around
from orchestration.world.scenarios.sm01 import tender_winners

MODEL_ID = "SM10"


# =========================================================================== truth oracle
def truth(tables: dict[str, pl.DataFrame | pl.LazyFrame], params: dict) -> pl.DataFrame:
    min_share = float(param(params, "min_share"))
    projects = collect(lazy(tables, "tender_project")
                       .filter((pl.col("owner_type") == "org") & pl.col("award_date").is_not_null())
                       .select(["_system_id", "project_id", "owner_code", "award_date"]))
    fired = []
    for group in slices(projects):  # projects in groups, with their owners' officials and their winners
        owners = group.get_column("owner_code").drop_nulls().unique().to_list()
        officials = _officials_by_org(collect(lazy(tables, "public_official").filter(pl.col("org_code").is_in(owners))))
        winners = tender_winners(tables, group)
        staff = [p for posts in officials.values() for p, _, _ in posts]
        relations = Relations(registry_around(tables, staff, [w for found in winners.values() for w in found]))
        for system, project_id, owner, award in group.iter_rows():
            in_post = [p for p, start, end in officials.get(owner, ()) if held_at(start, end, award)]
            if not in_post:
                continue
            tied = set().union(*(relations.persons_tied(winner, award, min_share)
                                 for winner in winners.get((system, project_id), ())))
            key = f"{system}:{project_id}"
            if any(p in tied for p in in_post):
                fired.append((key, "official", "red"))
            if any(not tied.isdisjoint(relations.close_relatives(p, award)) for p in in_post):
                fired.append((key, "relative", "red"))
    return alerts_frame(MODEL_ID, fired)


def _officials_by_org(officials: pl.DataFrame) -> dict[str, list[tuple[str, dt.date | None, dt.date | None]]]:
    out: dict[str, list] = defaultdict(list)
    for person, org, start, end in officials.select(["id_number", "org_code", "start_date", "end_date"]).iter_rows():
        if person is not None and org is not None:
            out[org].append((person, start, end))
    return out


# =========================================================================== planting
# Each situation: (name, branch, positive?). The branch of a decoy is the one it imitates.
SITUATIONS = {
    "official": [
        ("legal_rep", True), ("shareholder", True), ("post_starts_on_award", True), ("via_contract", True),
        ("share_ends_on_award", True),
        ("post_ended", False), ("share_below_min", False), ("namesake", False), ("other_org", False),
        ("share_ended", False), ("losing_bidder", False), ("no_award_date", False),
    ],
    "relative": [
        ("child", True), ("spouse_by_marriage", True), ("household_spouse", True), ("sibling", True),
        ("parent", True), ("divorced_after_award", True),
        ("divorced_before_award", False), ("divorced_on_award", False), ("in_law", False),
        ("relative_share_below_min", False), ("relative_of_former_official", False), ("grandchild", False),
        ("relative_namesake", False),
    ],
}


ROSTER_DATED = {"post_starts_on_award", "post_ended", "relative_of_former_official"}


class _Planter:
    def __init__(self, world: World) -> None:
        self.world = world

    # ------------------------------------------------------------------ rows
    def org(self, region: str) -> str:
        return new_org_code(self.world, region)

    def post(self, person: str, org: str, region: str, start: dt.date, end: dt.date | None = None) -> None:
        self.world.add("public_official", id_number=person, name=person_name(self.world, person), org_code=org,
                       org_name=f"{region}发展和改革局", org_type="government", position="科长", rank="正科级",
                       region_code=region, start_date=start, end_date=end)

    def company(self, region: str, award: dt.date, legal_rep: str | None = None) -> str:
        w = self.world
        established = award - dt.timedelta(days=int(w.rng.integers(400, 3000)))
        return w.new_company(region_code=region, legal_rep_id=legal_rep or w.new_person(region_code=region),
                             established=established)

    def hold(self, company: str, holder: str, ratio: float, start: dt.date, end: dt.date | None = None) -> None:
        self.world.add("shareholder", credit_code=company, holder_id=holder, holder_type="person",
                       share_ratio=ratio, from_date=start, to_date=end)

    def award(self, owner: str, region: str, award: dt.date | None, winner: str, *, via_contract: bool = False,
              losers: list[str] | None = None) -> dict:
        """A tender won by ``winner`` (a won bid, or only a contract when ``via_contract``); the project row."""
        w = self.world
        day = award or w.date(WORLD_START + dt.timedelta(days=40), WORLD_END)
        budget = float(w.rng.integers(500, 6000)) * 1000
        project = new_tender_project(w, owner_code=owner, region_code=region, publish=day - dt.timedelta(days=35),
                                     award=award, budget=budget)
        bidders = [winner, *(losers or []), *(self.company(region, day) for _ in range(2))]
        for rank, bidder in enumerate(bidders):
            w.add("bid", bid_id=w.next_id("bid", "TB"), project_id=project["project_id"], bidder_code=bidder,
                  bid_price=money(budget * (0.9 + 0.02 * rank)),
                  submitted_at=dt.datetime.combine(day - dt.timedelta(days=20 - rank), dt.time(9, 30)),
                  contact_name=w.name(), contact_phone=w.phone(),
                  client_ip=f"10.{rank}.{w.next_seq('sm10:ip') % 250}.{1 + rank}",
                  client_mac=":".join(f"{int(b):02x}" for b in [2, rank, *w.rng.integers(256, size=4)]),
                  doc_hash=w.rng.bytes(32).hex(),
                  status="won" if rank == 0 and not via_contract else "valid")
        if award is not None:
            w.add("contract", contract_id=w.next_id("contract", "HT"), project_id=project["project_id"],
                  supplier_code=winner, amount=money(budget * 0.9),
                  sign_date=min(award + dt.timedelta(days=7), WORLD_END),
                  end_date=award + dt.timedelta(days=372), technical_lead_id=None,
                  required_onsite_days_per_month=None)
        return project

    # ------------------------------------------------------------------ situations
    def situation(self, branch: str, name: str, positive: bool) -> None:
        w = self.world
        region = w.pick(COUNTIES)
        day = dt.timedelta(days=1)
        # a post dated on or the day before the award must be in the roster's last monthly snapshot;
        # a divorce the day after the award must still be inside the world
        latest = last_monthly_snapshot() if name in ROSTER_DATED else WORLD_END - day
        award = w.date(dt.date(2026, 9, 15), latest) if w.rng.random() < 0.35 else \
            w.date(WORLD_START + dt.timedelta(days=40), latest)
        long_ago = award - dt.timedelta(days=int(w.rng.integers(800, 4000)))
        org = self.org(region)
        owner, via_contract, losers, project_award = org, False, None, award
        # household members (official first, then the relative the situation is about)
        relations = {"parent": ["child", "head"], "in_law": ["spouse", "parent"],
                     "grandchild": ["head", "grandchild"], "sibling": ["head", "sibling"],
                     "household_spouse": ["head", "spouse"]}.get(name, ["head", "child"])
        official, relative = new_household(w, relations, region_code=region)
        post_start, post_end = long_ago, None

        if name in ("legal_rep", "post_starts_on_award", "via_contract", "post_ended", "other_org"):
            winner = self.company(region, award, legal_rep=official)
            post_start = award if name == "post_starts_on_award" else long_ago
            post_end = award - day if name == "post_ended" else None
            via_contract = name == "via_contract"
            if name == "other_org":
                owner = self.org(region)
        elif name in ("shareholder", "share_ends_on_award", "share_below_min", "share_ended"):
            winner = self.company(region, award)
            ratio = {"share_below_min": 0.04}.get(name, float(w.pick([0.05, 0.1, 0.2, 0.35])))
            end = {"share_ends_on_award": award, "share_ended": award - day}.get(name)
            self.hold(winner, official, ratio, long_ago, end)
        elif name == "namesake":
            namesake = w.new_person(region_code=region, name=person_name(w, official))
            winner = self.company(region, award, legal_rep=namesake)
        elif name == "losing_bidder":
            winner = self.company(region, award)
            losers = [self.company(region, award, legal_rep=official)]
        elif name == "no_award_date":
            winner = self.company(region, award, legal_rep=official)
            project_award = None
        elif name in ("spouse_by_marriage", "divorced_after_award", "divorced_before_award", "divorced_on_award"):
            spouse = new_household(w, ["head"], region_code=region)[0]
            dissolved = {"divorced_after_award": award + day, "divorced_before_award": award - dt.timedelta(days=30),
                         "divorced_on_award": award}.get(name)
            w.add("marriage", marriage_id=w.next_id("marriage", "HY"), person_a_id=official, person_b_id=spouse,
                  registered_date=long_ago, dissolved_date=dissolved)
            winner = self.company(region, award)
            self.hold(winner, spouse, 0.1, long_ago)
        elif name == "relative_share_below_min":
            winner = self.company(region, award)
            self.hold(winner, relative, 0.04, long_ago)
        else:  # the household relative (or namesake of one) is the legal rep
            rep = w.new_person(region_code=region, name=person_name(w, relative)) if name == "relative_namesake" \
                else relative
            winner = self.company(region, award, legal_rep=rep)
            post_end = award - day if name == "relative_of_former_official" else None
        self.post(official, org, region, post_start, post_end)
        project = self.award(owner, region, project_award, winner, via_contract=via_contract, losers=losers)
        key = w.qualified(project, "project_id")
        w.plant(MODEL_ID, branch, key, "red" if positive else None, decoy=not positive, note=name.replace("_", " "))


def plant(world: World) -> None:
    planter = _Planter(world)
    n = planting_count(world)
    for branch, situations in SITUATIONS.items():
        positives = [s for s in situations if s[1]]
        decoys = [s for s in situations if not s[1]]
        for i in range(n):
            for name, positive in (positives[i % len(positives)], decoys[i % len(decoys)]):
                planter.situation(branch, name, positive)
