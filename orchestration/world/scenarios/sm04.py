"""SM04 abnormal drug purchasing and prescribing: planted spikes and the independent truth oracle.

Rule (models.md): for hospital H, drug G and month M, the purchased quantity is the sum of
drug_purchase.quantity with order_date in M. The history of (H, G) at M is the months from the
month of H's first purchase of G up to M-1, zero-filled; >= 3 months are needed and the baseline
is the median of the last min(6, history) of them. Yellow (key H|G|M): quantity >= spike_factor x
baseline and >= min_quantity. Red (key H|G|M|doctor_ref): in a yellow month, a doctor of H whose
prescribed quantity of G in M is >= doctor_share of H's prescribed quantity of G in M and
>= spike_factor x the median of that doctor's monthly quantities of G in the 6 months before M
(zero-filled; a median of 0 leaves the share test to decide).

Readings taken where the text leaves room:
- Every month with a purchase is judged (a month without one has quantity 0, below min_quantity);
  a zero baseline makes the spike test hold, so min_quantity decides.
- "H's prescribed quantity of G in M" counts every prescription at H of G dated in M, whoever the
  doctor (rows without doctor_id included).
- The doctors judged are those with a positive prescribed quantity of G at H in M. "The 6 months
  before M" are M-6..M-1, zero-filled also where they lie before the first prescription.
- hospital_code and drug_code are taken as the clean rows carry them (credit codes are global,
  so the key is not qualified); doctor_ref = person_ref(doctor_id).
"""
from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass

import polars as pl

from orchestration.pseudonym import person_ref
from orchestration.world.core import World
from orchestration.world.scenarios._common import (
    alerts_frame, money, month_first, month_from_number, month_last, param, planting_count, world_months,
)
from orchestration.world.scenarios._frames import collect, lazy

MODEL_ID = "SM04"


# =========================================================================== truth oracle
def truth(tables: dict[str, pl.DataFrame | pl.LazyFrame], params: dict) -> pl.DataFrame:
    spike = float(param(params, "spike_factor"))
    yellow = _yellow_months(lazy(tables, "drug_purchase"), spike, float(param(params, "min_quantity")))
    fired = [(_key(h, g, m), "yellow", "yellow") for h, g, m in yellow]
    fired += [(_key(h, g, m) + "|" + person_ref(doctor), "red", "red")
              for h, g, m, doctor in _red_doctors(lazy(tables, "prescription"), yellow, spike,
                                                  float(param(params, "doctor_share")))]
    return alerts_frame(MODEL_ID, fired)


def _key(hospital: str, drug: str, month_number: int) -> str:
    return f"{hospital}|{drug}|{month_from_number(month_number)}"


def _monthly_quantities(rows: pl.LazyFrame, date_column: str, keys: list[str]) -> pl.DataFrame:
    """Sum of quantity per keys and running month number (``_month``) of ``date_column``."""
    dated = rows.filter(pl.col("hospital_code").is_not_null() & pl.col("drug_code").is_not_null()
                        & pl.col(date_column).is_not_null())
    month = pl.col(date_column).dt.year().cast(pl.Int64) * 12 + pl.col(date_column).dt.month().cast(pl.Int64) - 1
    return collect(dated.with_columns(_month=month)
                   .group_by([*keys, "_month"]).agg(pl.col("quantity").fill_null(0).sum().alias("quantity"))
                   .select(*keys, "_month", "quantity"))


def _yellow_months(purchases: pl.LazyFrame, spike: float, min_quantity: float) -> set[tuple[str, str, int]]:
    """(H, G, month number) of every yellow month."""
    series: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    for h, g, m, q in _monthly_quantities(purchases, "order_date", ["hospital_code", "drug_code"]).iter_rows():
        series[(h, g)][m] = q
    yellow = set()
    for (h, g), by_month in series.items():
        first = min(by_month)
        for m, quantity in by_month.items():
            history = [by_month.get(i, 0) for i in range(first, m)]
            if len(history) < 3:
                continue
            baseline = statistics.median(history[-6:])
            if quantity >= spike * baseline and quantity >= min_quantity:
                yellow.add((h, g, m))
    return yellow


def _red_doctors(prescriptions: pl.LazyFrame, yellow: set[tuple[str, str, int]], spike: float,
                 share: float) -> list[tuple[str, str, int, str]]:
    """(H, G, month number, doctor_id) of every doctor passing the share and spike tests in a yellow month."""
    pairs = pl.DataFrame(sorted({(h, g) for h, g, _ in yellow}), 
                         schema={"hospital_code": pl.Utf8, "drug_code": pl.Utf8}, orient="row")
    relevant = prescriptions.join(pairs.lazy(), on=["hospital_code", "drug_code"], how="semi")
    per_doctor = _monthly_quantities(relevant, "rx_date", ["hospital_code", "drug_code", "doctor_id"])
    hospital_total: dict[tuple[str, str, int], int] = defaultdict(int)
    doctor_months: dict[tuple[str, str, str], dict[int, int]] = defaultdict(dict)
    for h, g, doctor, m, q in per_doctor.iter_rows():
        hospital_total[(h, g, m)] += q
        if doctor is not None:
            doctor_months[(h, g, doctor)][m] = q
    red = []
    for (h, g, doctor), by_month in doctor_months.items():
        for m, q in by_month.items():
            if (h, g, m) not in yellow or q <= 0:
                continue
            own_median = statistics.median(by_month.get(i, 0) for i in range(m - 6, m))
            if q >= share * hospital_total[(h, g, m)] and q >= spike * own_median:
                red.append((h, g, m, doctor))
    return red


# =========================================================================== planting
DRUGS = [("注射用头孢曲松钠", 12.80), ("阿托伐他汀钙片", 2.35), ("奥美拉唑肠溶胶囊", 1.10),
         ("注射用泮托拉唑钠", 18.50), ("左氧氟沙星注射液", 9.60), ("人血白蛋白", 360.00),
         ("注射用七叶皂苷钠", 26.40), ("丹参酮ⅡA磺酸钠注射液", 14.20), ("骨肽注射液", 21.00)]
SPIKE_VARIANTS = ("steady", "exact_factor", "zero_filled", "recent_window")
QUIET_VARIANTS = ("below_min_quantity", "two_months_history", "rise_2_9")
LAST_MONTH = len(world_months()) - 1


@dataclass
class _Series:
    """One (hospital, drug) pair planted fresh, with what its rows share."""
    hospital: str
    drug_code: str
    drug_name: str
    unit_price: float
    supplier: str


class _Planter:
    def __init__(self, world: World) -> None:
        self.world = world
        self.months = world_months()
        self.suppliers = [world.new_company(name=f"浙江{world.name()[:1]}康医药有限公司") for _ in range(3)]
        self.patients = [world.new_person() for _ in range(30)]

    def series(self) -> _Series:
        w = self.world
        name, price = w.pick(DRUGS)
        return _Series(w.pick(w.hospitals), f"YP{w.next_seq('sm04:drug_code'):06d}", name, price,
                       w.pick(self.suppliers))

    # ------------------------------------------------------------------ rows
    def purchase(self, s: _Series, month_index: int, quantity: int) -> None:
        """Orders summing to ``quantity`` in the month (one to three orders)."""
        w = self.world
        month = self.months[month_index]
        parts = 1 if quantity < 40 else int(w.rng.integers(1, 4))
        cuts = sorted(int(x) for x in w.rng.choice(range(1, quantity), size=parts - 1, replace=False))
        for lo, hi in zip([0, *cuts], [*cuts, quantity]):
            w.add("drug_purchase", order_id=w.next_id("drug_purchase", "PO"), hospital_code=s.hospital,
                  drug_code=s.drug_code, drug_name=s.drug_name, supplier_code=s.supplier, quantity=hi - lo,
                  unit_price=money(s.unit_price), order_date=w.date(month_first(month), month_last(month)))

    def prescribe(self, s: _Series, doctor: str, month_index: int, quantity: int) -> None:
        """Prescriptions of the doctor summing to ``quantity`` in the month (5 to 30 units each)."""
        w = self.world
        month = self.months[month_index]
        left = quantity
        while left > 0:
            units = min(left, int(w.rng.integers(5, 31)))
            w.add("prescription", rx_id=w.next_id("prescription", "RX"), hospital_code=s.hospital,
                  doctor_id=doctor, patient_id=w.pick(self.patients), drug_code=s.drug_code, quantity=units,
                  rx_date=w.date(month_first(month), month_last(month)))
            left -= units

    def doctor(self, s: _Series) -> str:
        return self.world.new_person(region_code=s.hospital[2:8])

    # ------------------------------------------------------------------ scenarios
    def spike(self, variant: str) -> None:
        """A yellow month with three prescribers: a red doctor, a steady one and a small spiking one."""
        w, s = self.world, self.series()
        history, quantity, month = self.spike_history(variant)
        self.purchase_history(s, month, history)
        self.purchase(s, month, quantity)
        key = f"{s.hospital}|{s.drug_code}|{self.months[month]}"
        w.plant(MODEL_ID, "yellow", key, "yellow", note=f"spike {variant}: history {history}, month {quantity}")

        total = int(w.rng.integers(150, 401))
        red_q, steady_q = math.ceil(0.46 * total), math.ceil(0.41 * total)
        small_q = total - red_q - steady_q
        red_doctor, steady_doctor, small_doctor = self.doctor(s), self.doctor(s), self.doctor(s)
        before = [i for i in range(month - 6, month) if i >= 0]
        for i in w.rng.choice(before, size=2, replace=False):  # a trickle: median of 6 months stays 0
            self.prescribe(s, red_doctor, int(i), int(w.rng.integers(1, 5)))
        for i in before:  # the steady prescriber: about the same every month
            self.prescribe(s, steady_doctor, i, int(steady_q * w.rng.uniform(0.9, 1.1)))
        for doctor, q in ((red_doctor, red_q), (steady_doctor, steady_q), (small_doctor, small_q)):
            self.prescribe(s, doctor, month, q)
        w.plant(MODEL_ID, "red", f"{key}|{person_ref(red_doctor)}", "red",
                note=f"doctor share {red_q}/{total} with no history")
        w.plant(MODEL_ID, "red", f"{key}|{person_ref(steady_doctor)}", decoy=True,
                note=f"high share {steady_q}/{total} but a steady personal history")
        w.plant(MODEL_ID, "red", f"{key}|{person_ref(small_doctor)}", decoy=True,
                note=f"personal spike but share {small_q}/{total} below doctor_share")

    def spike_history(self, variant: str) -> tuple[list[int], int, int]:
        """(monthly history oldest first, quantity of the spiking month, its month index)."""
        w = self.world
        if variant == "recent_window":
            # the whole history's median would be 90; the last six months' is 30
            last_six = [30, 30, 30, 30, 90, 90]
            w.rng.shuffle(last_six)
            return [90] * 5 + last_six, 100, LAST_MONTH
        h = int(w.rng.integers(3, 9))
        b = int(w.rng.integers(35, 91))
        if variant == "steady":
            history, quantity = [b] * h, math.ceil(3.3 * b)
        elif variant == "exact_factor":  # quantity = 3.0 x baseline exactly: >= holds
            history, quantity = [b] * h, 3 * b
        else:  # zero_filled: months without purchases count as 0 in the baseline
            history = [b] + [int(w.rng.integers(35, 91)) if w.rng.random() < 0.5 else 0 for _ in range(h - 1)]
            quantity = max(100, math.ceil(3.2 * max(history[-6:])))
        month = LAST_MONTH if w.rng.random() < 0.35 else int(w.rng.integers(h, LAST_MONTH + 1))
        return history, quantity, month

    def purchase_history(self, s: _Series, month: int, history: list[int]) -> None:
        for offset, q in enumerate(history):
            if q > 0:
                self.purchase(s, month - len(history) + offset, q)

    def quiet_month(self, variant: str) -> None:
        """A month that looks like a spike but is not yellow, with one doctor who would be red in it."""
        w, s = self.world, self.series()
        if variant == "below_min_quantity":
            b = int(w.rng.integers(10, 25))
            history, quantity = [b] * int(w.rng.integers(3, 9)), 4 * b
        elif variant == "two_months_history":
            b = int(w.rng.integers(35, 91))
            history, quantity = [b, b], 5 * b
        else:  # rise_2_9: 2.9 x the baseline
            b = int(w.rng.integers(40, 91))
            history, quantity = [b] * int(w.rng.integers(3, 9)), int(2.9 * b)
        month = LAST_MONTH if w.rng.random() < 0.35 else int(w.rng.integers(len(history), LAST_MONTH + 1))
        self.purchase_history(s, month, history)
        self.purchase(s, month, quantity)
        key = f"{s.hospital}|{s.drug_code}|{self.months[month]}"
        w.plant(MODEL_ID, "yellow", key, decoy=True, note=f"{variant}: history {history}, month {quantity}")
        doctor = self.doctor(s)
        self.prescribe(s, doctor, month, int(w.rng.integers(60, 151)))
        w.plant(MODEL_ID, "red", f"{key}|{person_ref(doctor)}", decoy=True,
                note="sole prescriber with a personal spike, in a month that is not yellow")


def plant(world: World) -> None:
    planter = _Planter(world)
    n = planting_count(world)
    for i in range(n):
        planter.spike(SPIKE_VARIANTS[i % len(SPIKE_VARIANTS)])
    for i in range(n):
        planter.quiet_month(QUIET_VARIANTS[i % len(QUIET_VARIANTS)])
