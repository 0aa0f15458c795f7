"""SM08 collective asset leased below market: planted scenarios and the truth oracle.

Rule (models.md): an asset_lease with method negotiated or renewal alerts when
(a) its annual rent per m2 is below rent_ratio (0.8) x the median rent per m2 of its comparables
    (public_auction or public_bidding leases of the same asset_type in the same town, the first
    9 digits of village_code, whose start_date is within 365 days of its own), given >= 3; or
(b) it is a renewal whose annual_rent is below that of its previous_lease_id.
Leases with area_m2 null or 0 are neither judged nor comparables. Severity red when the lessee is
a related party of a cadre of the lease's village at start_date, else yellow. Key: the qualified
lease_id.

Readings chosen where the text leaves room:
- previous_lease_id joins within the lease's own source system (record ids are unique per system).
- In (b) the previous lease's own area does not matter: it is neither judged nor a comparable
  there, only its annual_rent is read. A previous lease that is missing, or has no annual_rent,
  makes (b) not fire.
- Leases with a null annual_rent or start_date are neither judged nor comparables. "Within 365
  days": |start - own start| <= 365. "Below": strictly less.

Every planted scenario gets a town of its own (``isolated_village``): comparables are town-wide,
so a town holding only planted leases keeps each scenario's median what the scenario made it.
"""
from __future__ import annotations

import bisect
import datetime as dt
import statistics
from collections import defaultdict
from decimal import Decimal

import polars as pl

from orchestration.world.core import WORLD_END, WORLD_START, World
from orchestration.world.scenarios._common import alerts_frame, money, param, planting_count
from orchestration.world.scenarios._frames import collect, distinct, groups, lazy, matching
from orchestration.world.scenarios._relations import Relations, Roster, registry_around, related_to_a_cadre
from orchestration.world.scenarios._village import (
    COMPANY_LOOKALIKES, DAY, NON_RELATIVES, Party, event_date, isolated_village, related_cadre_party, stranger,
    unrelated_party)

MODEL = "SM08"
JUDGED = ("negotiated", "renewal")
COMPARABLE = ("public_auction", "public_bidding")
WINDOW_DAYS = 365
# Plausible rent per m2 a year and areas by asset type (yuan, m2).
RENT_PER_M2 = {"land": (1.5, 4.0), "pond": (1.2, 3.0), "shop": (180.0, 480.0), "warehouse": (60.0, 180.0),
               "parking": (40.0, 120.0)}
AREA = {"land": (2000, 30000), "pond": (3000, 20000), "shop": (30, 300), "warehouse": (200, 2000), "parking": (500, 3000)}
SEVERITY_LOOKALIKES = (*NON_RELATIVES, *COMPANY_LOOKALIKES, "ended_term", "not_yet_in_term", "another_village")


# =========================================================================== truth
class _Lease:
    __slots__ = ("key", "system", "village", "asset_type", "area", "lessee", "rent", "start", "method", "previous")

    def __init__(self, system, lease_id, village, asset_type, area, lessee, rent, start, method, previous) -> None:
        self.key, self.system, self.village, self.asset_type = f"{system}:{lease_id}", system, village, asset_type
        self.area, self.lessee, self.rent, self.start, self.method, self.previous = area, lessee, rent, start, method, previous

    @property
    def measurable(self) -> bool:
        """Judged and comparable only with a positive area, a rent and a start date."""
        return bool(self.area) and self.area > 0 and self.rent is not None and self.start is not None \
            and self.village is not None

    @property
    def rent_per_m2(self) -> float:
        return self.rent / self.area


def _comparables_index(leases: list[_Lease]) -> dict[tuple[str, str], tuple[list[dt.date], list[float]]]:
    """(town, asset_type) -> (start dates sorted, rent per m2 in the same order) of comparable leases."""
    groups: dict[tuple[str, str], list[tuple[dt.date, float]]] = defaultdict(list)
    for lease in leases:
        if lease.method in COMPARABLE and lease.measurable:
            groups[(lease.village[:9], lease.asset_type)].append((lease.start, lease.rent_per_m2))
    out = {}
    for key, items in groups.items():
        items.sort()
        out[key] = ([d for d, _ in items], [r for _, r in items])
    return out


def _below_market(lease: _Lease, comparables: dict, ratio: float) -> bool:
    dates, rents = comparables.get((lease.village[:9], lease.asset_type), ([], []))
    lo = bisect.bisect_left(dates, lease.start - dt.timedelta(days=WINDOW_DAYS))
    hi = bisect.bisect_right(dates, lease.start + dt.timedelta(days=WINDOW_DAYS))
    if hi - lo < 3:
        return False
    return lease.rent_per_m2 < ratio * statistics.median(rents[lo:hi])


LEASE_COLUMNS = ["_system_id", "lease_id", "village_code", "asset_type", "area_m2", "lessee_id", "annual_rent",
                 "start_date", "method", "previous_lease_id"]


def truth(tables: dict[str, pl.DataFrame | pl.LazyFrame], params: dict) -> pl.DataFrame:
    ratio, min_share = float(param(params, "rent_ratio")), param(params, "min_share")
    town = pl.col("village_code").str.slice(0, 9)
    fired = []
    for towns in groups(distinct(tables, "asset_lease", town)):  # comparables are town-wide
        leases = [_Lease(*row) for row in collect(lazy(tables, "asset_lease").filter(town.is_in(towns))
                                                  .select(LEASE_COLUMNS)).iter_rows()]
        fired += _judge_leases(tables, leases, ratio, min_share)
    return alerts_frame(MODEL, fired)


def _judge_leases(tables: dict[str, pl.DataFrame | pl.LazyFrame], leases: list[_Lease], ratio: float,
                  min_share: float) -> list[tuple[str, str, str]]:
    """SM08 over ``leases`` (every lease of some towns): previous leases wherever they are, the
    cadres of the alerting leases' villages for their severity."""
    comparables = _comparables_index(leases)
    previous = pl.DataFrame([(lease.previous, lease.system) for lease in leases
                             if lease.method == "renewal" and lease.previous is not None],
                            schema={"lease_id": pl.Utf8, "_system_id": pl.Utf8}, orient="row")
    rent_by_id = {f"{system}:{lease_id}": rent for system, lease_id, rent in matching(
        tables, "asset_lease", previous, ["_system_id", "lease_id", "annual_rent"]).iter_rows()}
    alerting: list[tuple[_Lease, list[str]]] = []
    for lease in leases:
        if lease.method not in JUDGED or not lease.measurable:
            continue
        branches = []
        if _below_market(lease, comparables, ratio):
            branches.append("a")
        if lease.method == "renewal" and lease.previous is not None:
            previous_rent = rent_by_id.get(f"{lease.system}:{lease.previous}")
            if previous_rent is not None and lease.rent < previous_rent:
                branches.append("b")
        if branches:
            alerting.append((lease, branches))
    cadres = collect(lazy(tables, "village_cadre").filter(
        pl.col("village_code").is_in(sorted({lease.village for lease, _ in alerting}))))
    roster = Roster({"village_cadre": cadres})
    relations = Relations(registry_around(tables, cadres.get_column("id_number"), [lease.lessee for lease, _ in alerting]))
    fired = []
    for lease, branches in alerting:
        red = related_to_a_cadre(lease.lessee, lease.village, lease.start, roster, relations, min_share)
        fired += [(lease.key, b, "red" if red else "yellow") for b in branches]
    return fired


# =========================================================================== planting
class _Town:
    """An isolated town for one scenario: its main village and a market rent level per asset type."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.village = isolated_village(world)
        self.asset_type = world.pick(list(RENT_PER_M2))
        lo, hi = RENT_PER_M2[self.asset_type]
        self.market = lo + (hi - lo) * float(world.rng.random())   # rent per m2 of a market lease here

    def sibling_village(self) -> str:
        return isolated_village(self.world, self.village[:9])

    def area(self) -> float:
        lo, hi = AREA[self.asset_type]
        return float(round(lo + (hi - lo) * float(self.world.rng.random())))

    def lease(self, *, rent_per_m2: float | None = None, annual_rent: Decimal | None = None, start: dt.date,
              method: str, lessee: Party | None = None, area: float | None = -1.0, village: str | None = None,
              asset_type: str | None = None, asset_id: str | None = None, previous: dict | None = None,
              previous_lease_id: str | None = None) -> dict:
        """Add an asset_lease; ``area`` -1 draws one, None or 0 plant an unmeasured lease."""
        world = self.world
        area = self.area() if area == -1.0 else area
        if annual_rent is None:
            annual_rent = money(rent_per_m2 * (area or self.area()))
        lessee = lessee or stranger(world, self.village, world.pick(["company", "person"]))
        village = village or self.village
        return world.add("asset_lease", lease_id=world.next_id("asset_lease", "ZL"), village_code=village,
                         asset_id=asset_id or f"{village}-{self.asset_type[:2].upper()}{world.next_seq('asset'):05d}",
                         asset_type=asset_type or self.asset_type, area_m2=area, lessee_id=lessee.id,
                         lessee_type=lessee.type, annual_rent=annual_rent, start_date=start,
                         end_date=start + DAY * (365 * int(world.rng.integers(1, 6)) - 1), method=method,
                         previous_lease_id=previous["lease_id"] if previous else previous_lease_id)

    def comparables(self, k: int, *, start_lo: dt.date = WORLD_START, start_hi: dt.date = WORLD_END) -> list[dict]:
        """k market leases (auction/bidding) spread +-10 % around the town's market rent."""
        return [self.lease(rent_per_m2=self.market * (0.9 + 0.2 * float(self.world.rng.random())),
                           start=self.world.date(start_lo, start_hi), method=self.world.pick(list(COMPARABLE)),
                           village=self.world.pick([self.village, self.sibling_village()]))
                for _ in range(k)]


def _median_rent(rows: list[dict]) -> float:
    return statistics.median(float(r["annual_rent"]) / r["area_m2"] for r in rows)


def _lessee(world: World, town: _Town, d: dt.date, i: int, red: bool) -> tuple[Party, str]:
    """Red: a related party of a cadre of the town's village at D; yellow: a stranger or a lookalike."""
    if red:
        _, party, note = related_cadre_party(world, town.village, d, i)
        return party, f"red: {note}"
    if i % 4 == 3:
        _, party, note = unrelated_party(world, town.village, d, SEVERITY_LOOKALIKES[(i // 4) % len(SEVERITY_LOOKALIKES)])
        return party, f"yellow despite a lookalike lessee: {note}"
    return stranger(world, town.village, world.pick(["company", "person"])), "yellow: lessee a stranger"


def _plant_a(world: World, n: int) -> None:
    for i in range(n):
        town, d, red = _Town(world), event_date(world, lo=WORLD_START + DAY * 30), i % 2 == 0
        lessee, note = _lessee(world, town, d, i, red)
        comps = town.comparables(3 + i % 4)
        if i % 3 == 2:   # a renewal priced above its previous (cheap, auctioned) lease, still far below market
            previous = town.lease(rent_per_m2=town.market * 0.3, start=world.date(WORLD_START, d - DAY),
                                  method="public_auction")
            market = _median_rent([*comps, previous])   # the previous auction is a comparable too
            rent = max(float(previous["annual_rent"]) * 1.02, market * previous["area_m2"] * 0.55)
            row = town.lease(annual_rent=money(rent), area=previous["area_m2"], start=d, method="renewal",
                             lessee=lessee, asset_id=previous["asset_id"], previous=previous)
            note += "; renewal above its previous rent"
        else:
            market = _median_rent(comps)
            ratio = 0.3 + 0.45 * float(world.rng.random())
            row = town.lease(rent_per_m2=market * ratio, start=d, method="negotiated", lessee=lessee)
        world.plant(MODEL, "a", world.qualified(row, "lease_id"), "red" if red else "yellow", note=note)
    decoys = ("only_two_comparables", "above_ratio", "area_null", "area_zero", "comparable_area_zero",
              "comparable_other_type", "comparable_other_town", "comparable_negotiated", "auction_itself_cheap")
    for i in range(n):
        kind = decoys[i % len(decoys)]
        town, d = _Town(world), event_date(world)
        row = _a_decoy(world, town, d, kind)
        world.plant(MODEL, "a", world.qualified(row, "lease_id"), decoy=True, note=kind)


def _far_below(rows: list[dict]) -> float:
    """A rent per m2 far below the rows' median: what a decoy would be judged at, were it judged."""
    return _median_rent(rows) * 0.4


def _a_decoy(world: World, town: _Town, d: dt.date, kind: str) -> dict:
    lessee = stranger(world, town.village) if kind != "above_ratio" else related_cadre_party(world, town.village, d, 0)[1]
    if kind == "only_two_comparables":
        return town.lease(rent_per_m2=_far_below(town.comparables(2)), start=d, method="negotiated", lessee=lessee)
    if kind == "above_ratio":   # a cadre's relative, but at 82-95 % of the median: not below 80 %
        comps = town.comparables(3 + int(world.rng.integers(3)))
        return town.lease(rent_per_m2=_median_rent(comps) * (0.82 + 0.13 * float(world.rng.random())), start=d,
                          method=world.pick(list(JUDGED)), lessee=lessee)
    if kind in ("area_null", "area_zero"):
        comps = town.comparables(4)
        return town.lease(annual_rent=money(_median_rent(comps) * town.area() * 0.3), area=None if kind == "area_null" else 0.0,
                          start=d, method="negotiated", lessee=lessee)
    comps = town.comparables(2)
    if kind == "comparable_area_zero":
        town.lease(annual_rent=money(town.market * 0.2 * town.area()), area=0.0, start=d, method="public_auction")
    elif kind == "comparable_other_type":
        other = world.pick([t for t in RENT_PER_M2 if t != town.asset_type])
        town.lease(rent_per_m2=town.market, start=d, method="public_bidding", asset_type=other)
    elif kind == "comparable_other_town":
        town.lease(rent_per_m2=town.market, start=d, method="public_auction", village=isolated_village(world))
    elif kind == "comparable_negotiated":   # a third lease that is negotiated, not auctioned (and itself at market)
        town.lease(rent_per_m2=town.market, start=d, method="negotiated")
    elif kind == "auction_itself_cheap":    # auctions are never judged, however cheap
        comps = comps + town.comparables(2)
        return town.lease(rent_per_m2=_far_below(comps), start=d, method="public_auction", lessee=lessee)
    return town.lease(rent_per_m2=_far_below(comps), start=d, method="negotiated", lessee=lessee)


def _previous_and_renewal_dates(world: World) -> tuple[dt.date, dt.date]:
    renewal = event_date(world, lo=WORLD_START + DAY * 60)
    return world.date(WORLD_START, renewal - DAY * 30), renewal


def _plant_b(world: World, n: int) -> None:
    for i in range(n):
        town, red = _Town(world), i % 2 == 0
        previous_start, d = _previous_and_renewal_dates(world)
        lessee, note = _lessee(world, town, d, i, red)
        previous = town.lease(rent_per_m2=town.market, start=previous_start, method=world.pick(list(COMPARABLE)))
        if i % 3 == 1:   # in a town with a market too, renewed at or above 80 % of it: only (b) fires
            town.comparables(3)
        # with a market: 90-98 % of a previous rent at market stays above 80 % of any median (<= 110 %)
        factor = (0.9 + 0.08 * float(world.rng.random())) if i % 3 == 1 else (0.3 + 0.65 * float(world.rng.random()))
        row = town.lease(annual_rent=money(float(previous["annual_rent"]) * factor), area=previous["area_m2"], start=d,
                         method="renewal", lessee=lessee, asset_id=previous["asset_id"], previous=previous)
        world.plant(MODEL, "b", world.qualified(row, "lease_id"), "red" if red else "yellow",
                    note=f"{note}; renewed at {factor:.0%} of the previous rent")
    decoys = ("higher_rent", "equal_rent", "negotiated_not_renewal", "area_null", "area_zero", "no_previous",
              "previous_in_other_system")
    for i in range(n):
        kind = decoys[i % len(decoys)]
        town = _Town(world)
        previous_start, d = _previous_and_renewal_dates(world)
        row = _b_decoy(world, town, previous_start, d, kind, i)
        world.plant(MODEL, "b", world.qualified(row, "lease_id"), decoy=True, note=kind)


def _b_decoy(world: World, town: _Town, previous_start: dt.date, d: dt.date, kind: str, i: int) -> dict:
    """A renewal-like lease that must not alert; its town has at most one comparable, so (a) stays silent."""
    if kind == "previous_in_other_system":
        # previous_lease_id names a dearer lease, but one of another city's system: ids join within a system
        elsewhere = _Town(world)
        while elsewhere.village[:4] == town.village[:4]:
            elsewhere = _Town(world)
        dear = elsewhere.lease(rent_per_m2=elsewhere.market, start=previous_start, method="public_auction")
        return town.lease(annual_rent=money(float(dear["annual_rent"]) * 0.7), start=d, method="renewal",
                          previous_lease_id=dear["lease_id"])
    lessee = related_cadre_party(world, town.village, d, i)[1] if kind == "higher_rent" else None
    previous = town.lease(rent_per_m2=town.market, start=previous_start, method="public_auction")
    factor = {"higher_rent": 1.05 + 0.3 * float(world.rng.random()), "equal_rent": 1.0}.get(kind, 0.7)
    fields = dict(annual_rent=money(float(previous["annual_rent"]) * factor), area=previous["area_m2"], start=d,
                  method="renewal", lessee=lessee, asset_id=previous["asset_id"], previous=previous)
    if kind == "negotiated_not_renewal":
        fields["method"] = "negotiated"
    elif kind in ("area_null", "area_zero"):
        fields["area"] = None if kind == "area_null" else 0.0
    elif kind == "no_previous":
        fields["previous"] = None
    return town.lease(**fields)


def plant(world: World) -> None:
    n = planting_count(world)
    _plant_a(world, n)
    _plant_b(world, n)
