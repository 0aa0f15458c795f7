"""SM02 village works split to avoid tendering: planted scenarios and the truth oracle.

Rule (models.md), threshold T = tender_threshold (400000), window W = split_window_days (180):
(a) a village_project of kind labour_only plus all village_procurement rows with the same
    vproject_id sum to >= T while every single row is below T (key: that vproject_id);
(b) per village and contractor, the village_project rows of kind works below T, ordered by
    (approved_date, vproject_id), form series greedily: a series starts at the first row not yet
    in a series and takes every later row approved within W days after its first row; a series
    of >= 2 rows summing to >= T alerts (key: its first row).
Severity red when any contractor or supplier of the alerted rows is a related party, at that
row's date, of a cadre of that village at that date; else yellow.

Readings chosen where the text leaves room:
- "Same vproject_id" joins within one source system (record ids are unique only per system): a
  procurement of another city's system with an equal raw id does not belong to the project.
- Null amounts are ignored, as SQL aggregates ignore them: not summed, not tested against T;
  (b) only takes rows whose amount is known and below T. Rows without approved_date or contractor
  are not in any series.
- vproject_id orders same-day rows by its raw string. "Within W days after the first row":
  0 <= approved_date - first.approved_date <= W. Sums are rounded to cents before comparing.
- For (a) "that village" is the project's village, for its procurement rows too.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

import polars as pl

from orchestration.world.core import WORLD_END, WORLD_START, World
from orchestration.world.scenarios._common import alerts_frame, money, param, planting_count
from orchestration.world.scenarios._frames import collect, distinct, groups, lazy, matching
from orchestration.world.scenarios._relations import Relations, Roster, registry_around, related_to_a_cadre
from orchestration.world.scenarios._village import (
    COMPANY_LOOKALIKES, DAY, NON_RELATIVES, VIAS, Party, amount, event_date, other_village, related_cadre_party,
    stranger, unrelated_party)
from orchestration.world.scenarios.sm01 import add_village_project

MODEL = "SM02"
THRESHOLD = 400000.0
WINDOW = 180
BUYING_DAYS = 30   # a labour_only project buys its materials within this many days of approval
COMPANY_ONLY = ("legal_rep", "shareholder")
ITEMS = ("水泥", "钢筋", "砂石", "管材", "电缆", "苗木", "沥青", "防水材料")
# Lookalikes that stop looking related at LATER dates (a marriage or holding still to come): they
# are made relative to the last row's date, the others to the first row's, so that they are
# unrelated at every date of a multi-row scenario.
FUTURE_LOOKALIKES = ("future_spouse", "share_not_started", "not_established", "not_yet_in_term")
SEVERITY_LOOKALIKES = (*NON_RELATIVES, *COMPANY_LOOKALIKES, "ended_term", "not_yet_in_term", "another_village")


# =========================================================================== planting
def _procurement(world: World, village: str, supplier: Party, value, d: dt.date, vproject_id: str | None) -> dict:
    return world.add("village_procurement", purchase_id=world.next_id("village_procurement", "CG"),
                     village_code=village, supplier_code=supplier.id, item=world.pick(ITEMS), amount=value,
                     purchase_date=d, vproject_id=vproject_id)


def _parts(world: World, total: float, k: int) -> list:
    """``total`` split into ``k`` parts of similar size (each well below the threshold for k >= 2)."""
    weights = [0.8 + 0.4 * float(world.rng.random()) for _ in range(k)]
    parts = [money(total * w / sum(weights)) for w in weights[:-1]]
    return parts + [money(total - float(sum(parts)))]


def _lookalike(world: World, village: str, dates: list[dt.date], kind: str, vias=VIAS) -> tuple[Party, str]:
    """A party NOT related, at any of ``dates``, to a cadre of the village (though it looks it)."""
    anchor = max(dates) if kind in FUTURE_LOOKALIKES else min(dates)
    _, party, note = unrelated_party(world, village, anchor, kind, vias)
    return party, note


def _clip(d: dt.date) -> dt.date:
    return min(d, WORLD_END)


# --------------------------------------------------------------------------- branch a
def _labour_only(world: World, village: str, d: dt.date, *, project_value, procurement_values: list,
                 contractor: Party | None = None, suppliers: list[Party] | None = None,
                 link: str = "same") -> tuple[dict, list[dict]]:
    """A labour_only project approved on D and its materials bought over the next weeks.

    link: ``same`` (procurements carry the project's vproject_id), ``none`` (vproject_id null) or
    ``other_system`` (the same raw vproject_id, but in another city's system).
    """
    contractor = contractor or stranger(world, village, world.pick(["company", "person"]))
    project = add_village_project(world, village, contractor, d, kind="labour_only", value=project_value)
    rows = []
    for k, value in enumerate(procurement_values):
        supplier = suppliers[k] if suppliers and k < len(suppliers) else stranger(world, village)
        where = village if link != "other_system" else _village_of_other_city(world, village)
        vproject_id = None if link == "none" else project["vproject_id"]
        rows.append(_procurement(world, where, supplier, value, _clip(d + DAY * int(world.rng.integers(0, BUYING_DAYS))), vproject_id))
    return project, rows


def _village_of_other_city(world: World, village: str) -> str:
    while True:
        other = other_village(world, village)
        if other[:4] != village[:4]:
            return other


def _split_total(world: World, total: float) -> tuple:
    """A labour_only project value and procurement parts that together make ``total``, every row < T."""
    project_value = money(total * (0.2 + 0.2 * float(world.rng.random())))
    rest = total - float(project_value)
    return project_value, _parts(world, rest, max(2, math.ceil(rest / 300000)))


def _plant_a(world: World, n: int) -> None:
    for i in range(n):
        village, d = world.village(), event_date(world, hi=WORLD_END - DAY * BUYING_DAYS)
        project_value, parts = _split_total(world, float(amount(world, 420000, 780000)))
        red = i % 2 == 0
        contractor, suppliers, note = None, [], "all parties strangers"
        if red and i % 4 == 0:       # the contractor is related (on the approval date)
            _, contractor, note = related_cadre_party(world, village, d, i // 2)
            note = f"contractor related: {note}"
        elif red:                    # a supplier is related (on its purchase date, which is D here)
            _, supplier, note = related_cadre_party(world, village, d, i // 2, COMPANY_ONLY)
            suppliers, note = [supplier], f"supplier related: {note}"
        elif i % 4 == 3:             # looks related, is not: stays yellow
            kind = SEVERITY_LOOKALIKES[(i // 4) % len(SEVERITY_LOOKALIKES)]
            contractor, note = _lookalike(world, village, [d], kind)   # the contractor names only the project row
            note = f"yellow despite a lookalike contractor: {note}"
        project, rows = _labour_only(world, village, d, project_value=project_value, procurement_values=parts,
                                     contractor=contractor, suppliers=suppliers)
        if suppliers:  # the related supplier's row is bought on the approval date, where the relation holds
            rows[0]["purchase_date"] = d
        world.plant(MODEL, "a", world.qualified(project, "vproject_id"), "red" if red else "yellow", note=note)
    decoys = ("sum_below", "one_row_at_threshold", "project_over_threshold", "works_kind", "unlinked",
              "repair_kind", "same_id_other_system")
    for i in range(n):
        village, d = world.village(), event_date(world, hi=WORLD_END - DAY * BUYING_DAYS)
        kind = decoys[i % len(decoys)]
        total = float(amount(world, 420000, 780000))
        if kind == "sum_below":
            project_value, parts = _split_total(world, float(amount(world, 250000, 399990)))
        elif kind == "one_row_at_threshold":   # "every single row is below": 400000.00 is not
            project_value, parts = amount(world, 30000, 120000), [money(THRESHOLD), amount(world, 10000, 90000)]
        elif kind == "project_over_threshold":
            project_value, parts = amount(world, 400000, 450000), [amount(world, 20000, 90000)]
        else:
            project_value, parts = _split_total(world, total)
        project, _ = _labour_only(world, village, d, project_value=project_value, procurement_values=parts,
                                  link={"unlinked": "none", "same_id_other_system": "other_system"}.get(kind, "same"))
        if kind in ("works_kind", "repair_kind"):
            project["kind"] = kind.split("_")[0]
        world.plant(MODEL, "a", world.qualified(project, "vproject_id"), decoy=True, note=kind)


# --------------------------------------------------------------------------- branch b
def _series(world: World, village: str, contractor: Party, dates: list[dt.date], values: list, kind: str = "works") -> list[dict]:
    return [add_village_project(world, village, contractor, d, kind=kind, value=v) for d, v in zip(dates, values)]


def _series_dates(world: World, k: int, span: int, first: dt.date | None = None) -> list[dt.date]:
    """k approval dates: the first, then k-1 later ones within ``span`` days of it (the last exactly at span)."""
    first = first or event_date(world, hi=WORLD_END - DAY * (span + 1))
    offsets = sorted(int(x) for x in world.rng.integers(1, span + 1, size=k - 2)) if k > 2 else []
    return [first, *(first + DAY * o for o in offsets), first + DAY * span]


def _plant_b(world: World, n: int) -> None:
    for i in range(n):
        village = world.village()
        red, k = i % 2 == 0, 2 + i % 3
        second_series = i % 6 == 1   # an earlier lone row (181+ days before) makes its own series of one
        span = WINDOW if i % 5 == 0 else int(world.rng.integers(20, WINDOW))  # some end exactly on day 180
        lead_gap = 181 + int(world.rng.integers(10))
        if second_series:  # both series must fit in the world's year
            span = min(span, 120)
        first = event_date(world, lo=WORLD_START + DAY * lead_gap, hi=WORLD_END - DAY * (span + 1)) if second_series else None
        dates = _series_dates(world, k, span, first)
        values = _parts(world, float(amount(world, 420000, min(700000, 300000 * k))), k)  # every part < T
        if red:  # related on ONE row's date (some only from that row on: a term or holding starting there)
            row_date = dates[i % k]
            _, contractor, note = related_cadre_party(world, village, row_date, i // 2)
            note = f"contractor related at row {i % k}: {note}"
        elif i % 4 == 3:
            kind = SEVERITY_LOOKALIKES[(i // 4) % len(SEVERITY_LOOKALIKES)]
            contractor, note = _lookalike(world, village, dates, kind)
            note = f"yellow despite a lookalike contractor: {note}"
        else:
            contractor, note = stranger(world, village, world.pick(["company", "person"])), "contractor a stranger"
        if second_series:
            lead = _series(world, village, contractor, [dates[0] - DAY * lead_gap], [amount(world, 50000, 150000)])
            world.plant(MODEL, "b", world.qualified(lead[0], "vproject_id"), decoy=True, note="a lone earlier row")
            note = f"second series of the contractor; {note}"
        rows = _series(world, village, contractor, dates, values)
        world.plant(MODEL, "b", world.qualified(rows[0], "vproject_id"), "red" if red else "yellow", note=note)
    for i in range(n):
        _plant_b_decoy(world, ("sum_below", "outside_window", "greedy_not_sliding", "one_part_not_below",
                               "two_contractors", "two_villages", "repair_kind", "labour_only_kind")[i % 8])


def _plant_b_decoy(world: World, kind: str) -> None:
    village = world.village()
    contractor = stranger(world, village, world.pick(["company", "person"]))

    def big():  # two of these pass the threshold, one alone does not
        return amount(world, 210000, 299000)

    if kind == "sum_below":
        k = 2 + int(world.rng.integers(2))
        rows = _series(world, village, contractor, _series_dates(world, k, int(world.rng.integers(10, WINDOW))),
                       _parts(world, float(amount(world, 200000, 399000)), k))
    elif kind == "outside_window":   # day 181: a new series of one row each
        rows = _series(world, village, contractor, _series_dates(world, 2, WINDOW + 1 + int(world.rng.integers(30))),
                       [big(), big()])
    elif kind == "greedy_not_sliding":  # day 0 + day 150 (sum below), day 250 alone: no series alerts
        first = event_date(world, hi=WORLD_END - DAY * 251)
        rows = _series(world, village, contractor, [first, first + DAY * 150, first + DAY * 250],
                       [amount(world, 50000, 100000), amount(world, 50000, 100000), amount(world, 320000, 390000)])
        world.plant(MODEL, "b", world.qualified(rows[1], "vproject_id"), decoy=True,
                    note="day 150 + day 250 exceed the threshold within 100 days, but day 150 is in the first series")
    elif kind == "one_part_not_below":   # the 400000.00 row is not "below the threshold": the other stands alone
        rows = _series(world, village, contractor, _series_dates(world, 2, int(world.rng.integers(10, WINDOW))),
                       [amount(world, 20000, 90000), money(THRESHOLD)])
    elif kind == "two_contractors":
        dates = _series_dates(world, 2, int(world.rng.integers(10, WINDOW)))
        rows = _series(world, village, contractor, dates[:1], [big()])
        _series(world, village, stranger(world, village), dates[1:], [big()])
    elif kind == "two_villages":
        dates = _series_dates(world, 2, int(world.rng.integers(10, WINDOW)))
        rows = _series(world, village, contractor, dates[:1], [big()])
        _series(world, other_village(world, village), contractor, dates[1:], [big()])
    else:  # repair_kind / labour_only_kind: only works rows form series
        rows = _series(world, village, contractor, _series_dates(world, 2, int(world.rng.integers(10, WINDOW))),
                       [big(), big()], kind=kind.removesuffix("_kind"))
    world.plant(MODEL, "b", world.qualified(rows[0], "vproject_id"), decoy=True, note=kind)


def plant(world: World) -> None:
    n = planting_count(world)
    _plant_a(world, n)
    _plant_b(world, n)


# =========================================================================== truth
class _Row:
    """One row taking part in an SM02 judgement: who it names, its amount and its date."""
    __slots__ = ("party", "value", "date")

    def __init__(self, party: str | None, value: float | None, date: dt.date | None) -> None:
        self.party, self.value, self.date = party, value, date


def _total(rows: list[_Row]) -> float:
    return round(sum(r.value for r in rows if r.value is not None), 2)


def _severity(rows: list[_Row], village: str, roster: Roster, relations: Relations, min_share: float) -> str:
    red = any(r.date is not None and related_to_a_cadre(r.party, village, r.date, roster, relations, min_share)
              for r in rows)
    return "red" if red else "yellow"


def _split_series(rows: list[tuple[dt.date, str, str, float]], window: int) -> list[list[tuple]]:
    """Greedy series over rows sorted by (approved_date, vproject_id)."""
    series, i = [], 0
    while i < len(rows):
        first = rows[i][0]
        j = i + 1
        while j < len(rows) and (rows[j][0] - first).days <= window:
            j += 1
        series.append(rows[i:j])
        i = j
    return series


def truth(tables: dict[str, pl.DataFrame | pl.LazyFrame], params: dict) -> pl.DataFrame:
    threshold, window = float(param(params, "tender_threshold")), int(param(params, "split_window_days"))
    min_share = param(params, "min_share")
    village = pl.col("village_code")
    selections = [village.is_in(villages) for villages in groups(distinct(tables, "village_project", "village_code"))]
    fired: list[tuple[str, str, str]] = []
    for selection in [*selections, village.is_null()]:  # every row judged in the group of its project's village
        fired += _judge_projects(tables, selection, threshold, window, min_share)
    return alerts_frame(MODEL, fired)


def _judge_projects(tables: dict[str, pl.DataFrame | pl.LazyFrame], selection: pl.Expr, threshold: float,
                    window: int, min_share: float) -> list[tuple[str, str, str]]:
    """SM02 over the village_project rows ``selection`` picks, with the procurements of its
    labour_only projects; severities from the cadres of those projects' villages."""
    projects = collect(lazy(tables, "village_project").filter(selection).select(
        "_system_id", "vproject_id", "village_code", "kind", "contractor_id", "amount", "approved_date"))
    labour = projects.filter(pl.col("kind") == "labour_only").select("vproject_id", "_system_id")
    procurements: dict[tuple[str, str], list[_Row]] = defaultdict(list)
    for system, vid, supplier, value, d in matching(
            tables, "village_procurement", labour,
            ["_system_id", "vproject_id", "supplier_code", "amount", "purchase_date"]).iter_rows():
        if vid is not None:
            procurements[(system, vid)].append(_Row(supplier, value, d))
    alerting: list[tuple[str, str, list[_Row], str | None]] = []   # key, branch, rows, village
    works: dict[tuple[str, str, str], list[tuple]] = defaultdict(list)
    for system, vid, village, kind, contractor, value, d in projects.iter_rows():
        if kind == "labour_only":
            rows = [_Row(contractor, value, d), *procurements.get((system, vid), ())]
            if _total(rows) >= threshold and all(r.value < threshold for r in rows if r.value is not None):
                alerting.append((f"{system}:{vid}", "a", rows, village))
        elif kind == "works" and value is not None and value < threshold and d is not None and contractor is not None:
            works[(system, village, contractor)].append((d, vid, contractor, value))
    for (system, village, _), rows in works.items():
        for series in _split_series(sorted(rows, key=lambda r: (r[0], r[1])), window):
            parts = [_Row(contractor, value, d) for d, _, contractor, value in series]
            if len(parts) >= 2 and _total(parts) >= threshold:
                alerting.append((f"{system}:{series[0][1]}", "b", parts, village))
    villages = sorted({v for *_, v in alerting if v is not None})
    cadres = collect(lazy(tables, "village_cadre").filter(pl.col("village_code").is_in(villages)))
    roster = Roster({"village_cadre": cadres})
    relations = Relations(registry_around(tables, cadres.get_column("id_number"),
                                          [r.party for *_, rows, _ in alerting for r in rows]))
    return [(key, branch, _severity(rows, village, roster, relations, min_share))
            for key, branch, rows, village in alerting]
