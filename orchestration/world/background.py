"""Ordinary life around the planted scenarios: the bulk of the synthetic world.

``background(world, store)`` appends the rows of every canonical entity to the world's row store
(the oracle dtypes of ``scenarios._frames.schema_of``, each row carrying ``_system_id``). SF 1 is
1,000,000 registered persons; everything else is proportional to them (about 17 rows per person in
all), except the 85 hospitals and the villages, which ``World`` fixes.

Background life uses only its own persons, organisations and companies (never a planted one),
and is drawn so that it rarely trips a rule by accident: people are given one role each
(officials, village cadres, business people, plain residents, poor households), amounts stay well
inside the thresholds, every bid carries its own contact data, drug purchases are steady and
technical leads turn up on site. When a rule still fires by chance the truth counts it, as it
should. Randomness comes from its own stream (``[seed, 2]``), so adding a planting module does
not reshuffle the background.

It streams: the persons and companies everything refers to are held in compact numpy columns
(about 50 bytes a person), and the event rows are drawn into ``Block``s that go to the store every
``BLOCK_ROWS`` rows, so memory does not grow with the millions of payments, contributions and
prescriptions of a large world. Draws are in the same order as when every frame was built whole.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import polars as pl

from orchestration.world.core import (
    CITY_KINDS, COUNTIES, GIVEN, PROVINCE_SYSTEMS, SURNAMES, WORLD_END, WORLD_START, World,
    birth_place, hospital_system_id, household_id, id_check_char, make_credit_code,
)
from orchestration.world.scenarios._frames import schema_of
from orchestration.world.store import RowStore

BLOCK_ROWS = 20_000   # rows of one entity drawn before they go to the store

PERSONS_AT_SF1 = 1_000_000
DAY = dt.timedelta(days=1)
# The last day a monthly full snapshot reports (registries delivered that way see nothing later).
LAST_MONTHLY_SNAPSHOT = dt.date(WORLD_END.year, WORLD_END.month, 1)


def background(world: World, store: RowStore) -> None:
    """Ordinary life at ``world.scale``, appended to ``store`` entity by entity. Reserves its record
    ids, person ids and credit codes from ``world`` so they never collide with planted ones."""
    _Life(world, store).build()


# --------------------------------------------------------------------------- small helpers
def _months() -> list[dt.date]:
    """First days of the history's calendar months."""
    out, d = [], WORLD_START.replace(day=1)
    while d <= WORLD_END:
        out.append(d)
        d = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


MONTHS = _months()


def _month_str(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def _month_end(first: dt.date) -> dt.date:
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - DAY


@lru_cache(maxsize=None)
def _place(region: str, year: int) -> str:
    return birth_place(region, year)


CITY_PLATE_LETTER = {"3301": "A", "3302": "B", "3303": "C", "3304": "F", "3305": "E", "3306": "D",
                     "3307": "G", "3308": "H", "3309": "L", "3310": "J", "3311": "K"}
TRADE_NAMES = list("鑫盛宏泰华隆源达兴旺恒通瑞丰锦程博远嘉禾永安天成")
INDUSTRIES = ["建设工程", "建材贸易", "市政园林", "机电设备", "劳务服务", "装饰工程", "农业开发", "物流运输"]
DRUGS = ["阿莫西林胶囊", "头孢呋辛酯片", "奥美拉唑肠溶胶囊", "苯磺酸氨氯地平片", "盐酸二甲双胍片",
         "阿托伐他汀钙片", "甲钴胺片", "布洛芬缓释胶囊", "左氧氟沙星片", "复方丹参滴丸", "硝苯地平控释片",
         "瑞舒伐他汀钙片", "氯吡格雷片", "缬沙坦胶囊", "头孢克肟胶囊", "蒙脱石散", "奥司他韦胶囊",
         "人血白蛋白", "注射用头孢曲松钠", "胰岛素注射液", "单硝酸异山梨酯片", "美托洛尔缓释片",
         "阿司匹林肠溶片", "甘精胰岛素注射液", "注射用奥美拉唑钠", "氨溴索口服溶液", "多潘立酮片",
         "替格瑞洛片", "恩替卡韦分散片", "利伐沙班片"]
DIAGNOSES = ["左腕骨折", "右手挫裂伤", "腰椎压缩性骨折", "足部砸伤", "面部烧伤", "肋骨骨折", "手指离断伤"]
PURPOSES = {"work_subsidy": ["消防演练务工", "道路保洁务工", "防汛值守务工", "植树务工", "河道清理务工"],
            "materials": ["水泥款", "钢筋款", "路灯材料款"], "project": ["工程进度款", "工程尾款"],
            "lease": ["土地流转租金"], "welfare": ["老人慰问金", "困难补助"], "other": ["办公经费"]}
ITEMS = ["水泥", "钢筋", "砂石", "办公用品", "路灯", "管材", "苗木"]
ASSET_TYPES = {  # type: (base annual rent per m2, area range m2)
    "land": (3.0, (2000, 30000)), "shop": (360.0, (40, 300)), "parking": (90.0, (200, 2000)),
    "warehouse": (140.0, (200, 3000)), "pond": (2.5, (1500, 20000))}
ORG_TYPES = ["government", "institution", "soe", "university"]
POSITIONS = {"government": ["科员", "副科长", "科长", "副局长"], "institution": ["专技人员", "副主任", "主任"],
             "soe": ["职员", "部门经理", "副总经理"], "university": ["讲师", "副教授", "教授"],
             "hospital": ["住院医师", "主治医师", "副主任医师", "主任医师"]}
RANKS = ["一级科员", "四级主任科员", "二级主任科员", "一级调研员", "专业技术十级", "专业技术七级"]


RELATIONS = ("head", "spouse", "parent", "sibling", "child", "grandchild")
COUNTY_INDEX = {c: k for k, c in enumerate(COUNTIES)}
NAME_BYTES = 9        # a surname and at most two given characters, 3 bytes each in UTF-8
EPOCH = np.datetime64("1970-01-01", "D")


def _day(d: dt.date) -> np.datetime64:
    return np.datetime64(d, "D")


class Population:
    """The background's own registered persons in numpy columns (index = person number)."""

    def __init__(self, capacity: int) -> None:
        self.size = 0
        self.id_number = np.zeros(capacity, dtype="S18")
        self.name = np.zeros(capacity, dtype=f"S{NAME_BYTES}")    # UTF-8
        self.male = np.zeros(capacity, dtype=bool)
        self.birth = np.zeros(capacity, dtype="datetime64[D]")
        self.household = np.zeros(capacity, dtype=np.int32)        # household sequence number
        self.relation = np.zeros(capacity, dtype=np.int8)          # index into RELATIONS
        self.region = np.zeros(capacity, dtype=np.int16)           # index into COUNTIES
        self.village = np.full(capacity, -1, dtype=np.int32)       # index into World.villages; -1: none
        self.poor = np.zeros(capacity, dtype=bool)                 # member of a household on social assistance
        self.death: dict[int, dt.date] = {}

    def __len__(self) -> int:
        return self.size

    def trim(self) -> None:
        for column in ("id_number", "name", "male", "birth", "household", "relation", "region", "village", "poor"):
            setattr(self, column, getattr(self, column)[:self.size].copy())

    def pid(self, i) -> str:
        return self.id_number[int(i)].decode()

    def pname(self, i) -> str:
        return self.name[int(i)].decode()

    def region_code(self, i) -> str:
        return COUNTIES[int(self.region[int(i)])]

    def pids(self, idx) -> list[str]:
        return [v.decode() for v in self.id_number[np.asarray(idx, dtype=np.int64)]]


class Block:
    """Rows of one entity being drawn, column by column; every ``BLOCK_ROWS`` rows are emitted.
    ``record_id`` = (column, prefix): record ids given when the rows are emitted, in row order."""

    def __init__(self, life: _Life, entity: str, columns: Sequence[str],
                 record_id: tuple[str, str] | None = None) -> None:
        self.life, self.entity, self.record_id = life, entity, record_id
        self.names = list(columns)
        self.values: list[list] = [[] for _ in self.names]

    def add(self, *row) -> None:
        for column, value in zip(self.values, row):
            column.append(value)
        if len(self.values[0]) >= BLOCK_ROWS:
            self.emit()

    def __len__(self) -> int:
        return len(self.values[0])

    def emit(self) -> None:
        n = len(self.values[0])
        if not n:
            return
        columns = dict(zip(self.names, self.values))
        if self.record_id:
            column, prefix = self.record_id
            columns[column] = self.life.ids(self.entity, n, prefix)
        self.life.emit(self.entity, columns)
        self.values = [[] for _ in self.names]


class _Life:
    def __init__(self, world: World, store: RowStore) -> None:
        self.world = world
        self.store = store
        self.rng = np.random.default_rng([world.seed, 2])
        self.n_persons = max(600, round(PERSONS_AT_SF1 * world.scale))
        self.pop = Population(self.n_persons + 6)  # the last household may overshoot by five
        self.village_index = {v: k for k, v in enumerate(world.villages)}
        self.projects_region: dict[str, str] = {}

    # ------------------------------------------------------------------ plumbing
    def build(self) -> None:
        self._population()
        self._deaths()
        self._roles()
        self._officials()
        self._cadres()
        self._companies()
        self._insurance_and_injuries()
        self._pensions_and_subsidies()
        self._vehicles_and_property()
        self._village_finance()
        self._asset_leases()
        self._tenders()
        self._medicine()
        self._emit_persons()
        self.store.flush()

    def emit(self, entity: str, columns: dict[str, list | np.ndarray]) -> None:
        """Add a block of rows (column -> values; missing columns are null) with their systems."""
        schema = schema_of(entity)
        n = len(next(iter(columns.values())))
        data = {}
        for col, dtype in schema.items():
            if col == "_system_id":
                continue
            values = columns.get(col)
            data[col] = pl.Series(col, [None] * n if values is None else values).cast(dtype, strict=True)
        frame = pl.DataFrame(data)
        frame = frame.with_columns(_system_id=self._systems(entity, frame))
        self.store.append(entity, frame.select(list(schema)))

    def emit_blocks(self, entity: str, n: int, columns) -> None:
        """Emit ``n`` rows in blocks: ``columns(lo, hi)`` gives the columns of rows lo..hi-1."""
        for lo in range(0, n, BLOCK_ROWS):
            self.emit(entity, columns(lo, min(n, lo + BLOCK_ROWS)))

    def _systems(self, entity: str, frame: pl.DataFrame) -> pl.Series:
        """``_system_id`` of each row: the same routing as ``core.route``, column-wise."""
        if entity in PROVINCE_SYSTEMS:
            return pl.Series([PROVINCE_SYSTEMS[entity]] * frame.height, dtype=pl.Utf8)
        if entity == "prescription":
            index = {code: hospital_system_id(i) for i, code in enumerate(self.world.hospitals)}
            return frame.get_column("hospital_code").replace_strict(index, return_dtype=pl.Utf8)
        if entity in ("bid", "contract", "site_attendance"):
            region = frame.get_column("project_id").replace_strict(self.projects_region, return_dtype=pl.Utf8)
        elif entity in ("tender_project", "subsidy_payment"):
            region = frame.get_column("region_code")
        else:
            region = frame.get_column("village_code")
        return (CITY_KINDS[entity] + "_" + region.str.slice(0, 4) + "00").alias("_system_id")

    def ids(self, entity: str, n: int, prefix: str) -> list[str]:
        return self.world.next_ids(entity, n, prefix)

    def days(self, lo: dt.date, hi: dt.date, n: int) -> np.ndarray:
        """``n`` uniform dates in [lo, hi] (datetime64[D])."""
        span = max((hi - lo).days, 0) + 1
        return _day(lo) + self.rng.integers(0, span, n).astype("timedelta64[D]")

    def dates(self, lo: dt.date, hi: dt.date, n: int) -> list[dt.date]:
        """``n`` uniform dates in [lo, hi]."""
        return self.days(lo, hi, n).tolist()

    def name(self, surname: str | None = None) -> str:
        k = 1 + int(self.rng.integers(2))
        return (surname or SURNAMES[int(self.rng.integers(len(SURNAMES)))]) + "".join(
            GIVEN[int(g)] for g in self.rng.integers(len(GIVEN), size=k))

    def phone(self, n: int) -> list[str]:
        heads = self.rng.integers(3, 10, n)
        tails = self.rng.integers(0, 10**9, n)
        return [f"1{h}{t:09d}" for h, t in zip(heads, tails)]

    def credit_code(self, region: str, org_type: str = "91") -> str:
        return make_credit_code(region, self.world.next_seq("company"), org_type)

    def choose(self, pool: np.ndarray, n: int, replace: bool = True) -> np.ndarray:
        if len(pool) == 0:
            raise ValueError("background: an empty pool to choose from (scale too small?)")
        return self.rng.choice(pool, size=n, replace=replace or n > len(pool))

    def company(self, k) -> tuple[str, str]:
        """(credit_code, name) of background company number ``k``."""
        return self.company_codes[int(k)].decode(), self.company_names[int(k)].decode()

    def any_active_company(self) -> tuple[str, str]:
        return self.company(self.active[int(self.rng.integers(len(self.active)))])

    # ------------------------------------------------------------------ persons
    def _person_id(self, region: str, birth: dt.date, gender: str) -> str:
        """A fresh id_number whose sequence digit carries the gender (odd = male)."""
        while True:
            seq = self.world.next_seq("person")
            if (seq % 2 == 1) != (gender == "M"):
                continue
            body = f"{_place(region, birth.year)}{birth:%Y%m%d}{seq % 1000:03d}"
            pid = body + id_check_char(body)
            if self.world.issue(pid):
                return pid

    def _add_person(self, household: int, relation: str, gender: str, birth: dt.date, region: str,
                    village: int, surname: str | None, poor: bool) -> int:
        p, i = self.pop, self.pop.size
        p.id_number[i] = self._person_id(region, birth, gender)
        name = self.name(surname).encode()
        if len(name) > NAME_BYTES:
            raise ValueError(f"background name {name.decode()!r} is longer than {NAME_BYTES} bytes")
        p.name[i] = name
        p.male[i] = gender == "M"
        p.birth[i] = _day(birth)
        p.household[i] = household
        p.relation[i] = RELATIONS.index(relation)
        p.region[i] = COUNTY_INDEX[region]
        p.village[i] = village
        p.poor[i] = poor
        p.size += 1
        return i

    def _birth(self, year: int) -> dt.date:
        year = min(max(year, 1925), 2025)
        return dt.date(year, 1, 1) + dt.timedelta(days=int(self.rng.integers(365)))

    def _population(self) -> None:
        """Households (head, spouse, children, parents, siblings) until the person count is reached,
        with the marriages of the couples and some dissolved earlier marriages."""
        rng, villages = self.rng, self.world.villages
        couples: list[tuple[int, int, dt.date]] = []
        sizes = [1, 2, 3, 4, 5, 6]
        size_p = [0.15, 0.25, 0.25, 0.2, 0.1, 0.05]
        while len(self.pop) < self.n_persons:
            rural = rng.random() < 0.65
            village = int(rng.integers(len(villages))) if rural else -1
            region = villages[village][:6] if rural else COUNTIES[int(rng.integers(len(COUNTIES)))]
            household = self.world.next_seq("household")
            poor = rng.random() < 0.03
            size = int(rng.choice(sizes, p=size_p))
            head_year = int(rng.integers(1948, 2001))
            head_gender = "M" if rng.random() < 0.7 else "F"
            surname = SURNAMES[int(rng.integers(len(SURNAMES)))]
            add = lambda rel, g, y, sn=None: self._add_person(household, rel, g, self._birth(y), region,
                                                              village, sn, poor)
            head = add("head", head_gender, head_year, surname)
            other = "F" if head_gender == "M" else "M"
            slots = size - 1
            if slots and rng.random() < 0.85:
                spouse = add("spouse", other, head_year + int(rng.integers(-4, 5)))
                reg = self._birth(head_year + int(rng.integers(22, 32)))
                reg = min(reg, WORLD_START - DAY * 30)
                couples.append((head, spouse, reg))
                slots -= 1
            if slots and head_year < 1972 and rng.random() < 0.25:
                add("parent", "F" if rng.random() < 0.6 else "M", head_year - int(rng.integers(22, 32)))
                slots -= 1
            if slots and rng.random() < 0.1:
                add("sibling", "M" if rng.random() < 0.5 else "F", head_year + int(rng.integers(-6, 7)), surname)
                slots -= 1
            for _ in range(slots):
                rel = "grandchild" if head_year < 1960 and rng.random() < 0.3 else "child"
                gap = 50 if rel == "grandchild" else int(rng.integers(22, 36))
                add(rel, "M" if rng.random() < 0.5 else "F", head_year + gap,
                    surname if rel == "child" else None)
        self.pop.trim()
        self._marriages(couples)

    def _marriages(self, couples: list[tuple[int, int, dt.date]]) -> None:
        """The couples' marriages: about 5% divorced, a few of them during the history (change
        rows); and some earlier marriages, dissolved years ago, between persons of different
        households."""
        rng = self.rng
        a = np.array([c[0] for c in couples], dtype=np.int64)
        b = np.array([c[1] for c in couples], dtype=np.int64)
        registered = np.array([c[2] for c in couples], dtype="datetime64[D]")
        del couples
        dissolved = np.full(len(a), np.datetime64("NaT"), dtype="datetime64[D]")
        for i in range(len(a)):
            if rng.random() < 0.05:
                reg = registered[i].item()
                late = rng.random() < 0.3
                lo = WORLD_START if late else reg + DAY * 365
                hi = WORLD_END if late else WORLD_START - DAY
                if lo < hi:
                    dissolved[i] = self.days(lo, hi, 1)[0]
        adults = np.flatnonzero(self.pop.birth.astype("datetime64[Y]").astype(int) + 1970 <= 1985)
        earlier: list[tuple[int, int, dt.date, dt.date]] = []
        for _ in range(len(a) // 25):
            x, y = (int(v) for v in self.choose(adults, 2, replace=False))
            if self.pop.male[x] == self.pop.male[y] or self.pop.household[x] == self.pop.household[y]:
                continue
            reg = self.dates(dt.date(2005, 1, 1), dt.date(2012, 12, 31), 1)[0]
            earlier.append((x, y, reg, reg + DAY * int(rng.integers(400, 3000))))
        a = np.concatenate([a, np.array([e[0] for e in earlier], dtype=np.int64)])
        b = np.concatenate([b, np.array([e[1] for e in earlier], dtype=np.int64)])
        registered = np.concatenate([registered, np.array([e[2] for e in earlier], dtype="datetime64[D]")])
        dissolved = np.concatenate([dissolved, np.array([e[3] for e in earlier], dtype="datetime64[D]")])
        self.emit_blocks("marriage", len(a), lambda lo, hi: {
            "marriage_id": self.ids("marriage", hi - lo, "HY"), "person_a_id": self.pop.pids(a[lo:hi]),
            "person_b_id": self.pop.pids(b[lo:hi]), "registered_date": registered[lo:hi],
            "dissolved_date": dissolved[lo:hi]})

    def _emit_persons(self) -> None:
        p, villages = self.pop, self.world.villages

        def columns(lo: int, hi: int) -> dict:
            regions = [COUNTIES[int(r)] for r in p.region[lo:hi]]
            return {"id_number": p.id_number[lo:hi], "name": p.name[lo:hi],
                    "gender": np.where(p.male[lo:hi], "M", "F"), "birth_date": p.birth[lo:hi],
                    "household_id": [household_id(r, int(h)) for r, h in zip(regions, p.household[lo:hi])],
                    "relation_to_head": [RELATIONS[int(k)] for k in p.relation[lo:hi]], "region_code": regions,
                    "village_code": [villages[int(v)] if v >= 0 else None for v in p.village[lo:hi]]}

        self.emit_blocks("person", len(p), columns)

    def _deaths(self) -> None:
        """Yearly mortality by age; the dead get no later payments or events."""
        ages = WORLD_START.year - (self.pop.birth.astype("datetime64[Y]").astype(int) + 1970)
        rate = np.where(ages >= 80, 0.07, np.where(ages >= 65, 0.02, 0.002))
        dying = np.flatnonzero(self.rng.random(len(ages)) < rate)
        days = self.dates(WORLD_START, WORLD_END, len(dying))
        self.pop.death = {int(i): d for i, d in zip(dying, days)}
        self.emit("death", {"id_number": self.pop.pids(dying), "death_date": days,
                            "source_ref": [f"SW{self.world.next_seq('death_ref'):08d}" for _ in dying]})

    def alive_all_year(self, idx: np.ndarray) -> np.ndarray:
        dead = np.fromiter(self.pop.death, dtype=np.int32, count=len(self.pop.death))
        return np.asarray(idx, dtype=np.int32)[~np.isin(idx, dead)]

    # ------------------------------------------------------------------ roles
    def _roles(self) -> None:
        """Split the adults into disjoint roles so that ordinary life does not look like a case."""
        birth_year = self.pop.birth.astype("datetime64[Y]").astype(int) + 1970
        poor = self.pop.poor
        # Person numbers as int32: a million of them in 4 MB.
        self.adults = np.flatnonzero((birth_year <= 2002) & (birth_year >= 1940)).astype(np.int32)
        working = np.flatnonzero((birth_year <= 2002) & (birth_year >= 1966) & ~poor)
        working = self.alive_all_year(working)
        order = self.rng.permutation(working)
        n_officials = max(120, int(0.1 * len(order)))
        n_business = max(100, int(0.25 * len(order)))
        self.officials = order[:n_officials]
        self.business = order[n_officials:n_officials + n_business]
        self.plain = order[n_officials + n_business:]           # workers, contractors, payees
        self.poor_persons = np.flatnonzero(poor).astype(np.int32)
        self.elderly = np.flatnonzero(birth_year <= 1965).astype(np.int32)
        self.everyone = np.arange(len(self.pop), dtype=np.int32)
        self.alive = self.alive_all_year(self.everyone)

    # ------------------------------------------------------------------ officials and cadres
    def _officials(self) -> None:
        """Organisations of every type and their staff; the hospitals' doctors are officials too."""
        rng = self.rng
        n_orgs = max(40, self.n_persons // 300)
        self.orgs: list[tuple[str, str, str, str]] = []  # (code, name, type, region)
        for _ in range(n_orgs):
            kind = ORG_TYPES[int(rng.choice(4, p=[0.5, 0.25, 0.15, 0.1]))]
            region = COUNTIES[int(rng.integers(len(COUNTIES)))]
            prefix = {"government": "11", "institution": "12", "soe": "91", "university": "12"}[kind]
            suffix = {"government": "局", "institution": "中心", "soe": "集团有限公司", "university": "学院"}[kind]
            self.orgs.append((self.credit_code(region, prefix), f"{region}{TRADE_NAMES[int(rng.integers(20))]}{suffix}",
                              kind, region))
        hospital_orgs = [(code, f"医院{i + 1:03d}", "hospital", code[2:8]) for i, code in enumerate(self.world.hospitals)]
        # Two or more doctors per hospital, but never more than half of the officials.
        n_doctors = max(2, round(self.n_persons * 0.01 / len(hospital_orgs)))
        doctors_needed = min(n_doctors * len(hospital_orgs), len(self.officials) // 2)
        self.doctors: dict[str, list[int]] = {}
        rows = Block(self, "public_official", ("id_number", "name", "org_code", "org_name", "org_type",
                                               "position", "rank", "region_code", "start_date", "end_date"))
        self.post_of: dict[int, tuple[str, str]] = {}  # person -> (org_code, org_type)

        def post(i: int, org: tuple[str, str, str, str], start: dt.date, end: dt.date | None) -> None:
            code, name, kind, region = org
            positions = POSITIONS[kind]
            rows.add(self.pop.pid(i), self.pop.pname(i), code, name, kind, positions[int(rng.integers(len(positions)))],
                     RANKS[int(rng.integers(len(RANKS)))], region, start, end)

        for k, i in enumerate(self.officials):
            i = int(i)
            if k < doctors_needed:
                org = hospital_orgs[k % len(hospital_orgs)]
                self.doctors.setdefault(org[0], []).append(i)
            else:
                org = self.orgs[int(rng.integers(len(self.orgs)))]
            start = self.dates(dt.date(2003, 1, 1), dt.date(2025, 6, 30), 1)[0]
            if rng.random() < 0.1:  # an earlier post elsewhere
                before = self.orgs[int(rng.integers(len(self.orgs)))]
                first = start - DAY * int(rng.integers(700, 3000))
                post(i, before, first, start - DAY)
            end = None
            if rng.random() < 0.01:  # left during the history, before the roster's last snapshot
                end = self.dates(WORLD_START, LAST_MONTHLY_SNAPSHOT - DAY, 1)[0]
            post(i, org, start, end)
            self.post_of[i] = (org[0], org[2])
        rows.emit()

    def _cadres(self) -> None:
        """Five to six cadres per village for the current term, the previous term's secretary and
        director, and a few changes during the history."""
        rng = self.rng
        # At most half of the plain residents may become cadres, so that workers, payees and
        # contractors remain at any scale; tiny worlds reuse a cadre in another village.
        order = rng.permutation(self.plain)
        spare = [int(i) for i in order[:max(1, len(order) // 2)]]
        eligible = np.zeros(len(self.pop), dtype=bool)
        eligible[spare] = True
        residents: dict[int, list[int]] = {}
        for i in np.flatnonzero(eligible & (self.pop.village >= 0)):
            residents.setdefault(int(self.pop.village[i]), []).append(int(i))
        self.cadres: set[int] = set()
        rows = Block(self, "village_cadre", ("id_number", "name", "village_code", "role", "term_start",
                                             "term_end", "salaried_from"))

        def term(i: int, village: str, role: str, start: dt.date, end: dt.date | None, salaried: dt.date | None):
            rows.add(self.pop.pid(i), self.pop.pname(i), village, role, start, end, salaried)
            self.cadres.add(i)

        unused = list(spare)

        def anyone() -> int:
            while unused and unused[-1] in self.cadres:
                unused.pop()
            return unused.pop() if unused else spare[int(rng.integers(len(spare)))]

        for v, village in enumerate(self.world.villages):
            pool = [i for i in residents.get(v, []) if i not in self.cadres]
            roles = ["secretary", "director", "accountant", "cashier", "member"] + (["member"] if rng.random() < 0.5 else [])
            chosen = []
            for role in roles:
                if pool:
                    i = pool.pop(int(rng.integers(len(pool))))
                else:
                    i = anyone()
                chosen.append((i, role))
            start = dt.date(2021, 1, 1) + DAY * int(rng.integers(0, 90))
            for i, role in chosen:
                salaried = start + DAY * int(rng.integers(0, 120)) if role in ("secretary", "director", "accountant") else None
                if salaried and rng.random() < 0.01:
                    salaried = self.dates(WORLD_START, WORLD_END, 1)[0]  # pay began during the history
                end = None
                if role == "member" and rng.random() < 0.08:  # stepped down during the history
                    end = self.dates(WORLD_START, WORLD_END - DAY * 30, 1)[0]
                term(i, village, role, start, end, salaried)
            for role in ("secretary", "director"):  # previous term
                i = anyone()
                term(i, village, role, dt.date(2017, 1, 1) + DAY * int(rng.integers(0, 90)), start - DAY,
                     dt.date(2017, 6, 1))
        rows.emit()
        cadres = np.fromiter(self.cadres, dtype=np.int32, count=len(self.cadres))
        self.non_cadre_plain = self.plain[~np.isin(self.plain, cadres)]

    # ------------------------------------------------------------------ companies
    def _companies(self) -> None:
        """Companies with a legal rep from the business people, person (and some company)
        shareholders; a few deregistered or revoked."""
        rng = self.rng
        n = max(100, self.n_persons // 10)
        reps = self.choose(self.business, n, replace=False)
        regions = [self.pop.region_code(i) for i in reps]
        codes = np.array([self.credit_code(r) for r in regions], dtype="S18")
        established = self.days(dt.date(1998, 1, 1), dt.date(2025, 6, 30), n)
        late = rng.random(n) < 0.06
        late_days = self.days(WORLD_START, WORLD_END, n)
        established = np.where(late, late_days, established)
        active = np.zeros(n, dtype=bool)
        deregistered = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        status = []
        for k, e in enumerate(established):
            u = rng.random()
            if u < 0.02 and e < _day(WORLD_START):
                status.append("deregistered"); deregistered[k] = self.days(WORLD_START, WORLD_END, 1)[0]
            elif u < 0.03:
                status.append("revoked")
            else:
                status.append("active"); active[k] = True
        names = np.array([f"浙江{TRADE_NAMES[int(a)]}{TRADE_NAMES[int(b)]}{INDUSTRIES[int(c)]}有限公司".encode()
                          for a, b, c in zip(rng.integers(20, size=n), rng.integers(20, size=n), rng.integers(8, size=n))])
        self.company_codes, self.company_names, self.company_founded = codes, names, established
        self.active = np.flatnonzero(active)
        addresses = [f"{r}某路{int(k)}号" for r, k in zip(regions, rng.integers(1, 999, n))]
        phones = self.phone(n)
        self.emit_blocks("company", n, lambda lo, hi: {
            "credit_code": codes[lo:hi], "name": names[lo:hi], "legal_rep_id": self.pop.pids(reps[lo:hi]),
            "reg_address": addresses[lo:hi], "phone": phones[lo:hi], "established_date": established[lo:hi],
            "status": status[lo:hi], "deregistered_date": deregistered[lo:hi]})
        self._shareholders(reps, established)

    def _shareholders(self, reps: np.ndarray, established: np.ndarray) -> None:
        rng = self.rng
        rows = Block(self, "shareholder", ("credit_code", "holder_id", "holder_type", "share_ratio", "from_date", "to_date"))
        held: set[tuple[str, dt.date]] = set()  # (holder, from_date) of the company's rows: its key

        def hold(code, holder, kind, ratio, start, end=None):
            if (holder, start) not in held:  # a holder drawn twice keeps the first row (one row per key)
                held.add((holder, start))
                rows.add(code, holder, kind, round(float(ratio), 4), start, end)

        n = len(self.company_codes)
        for k, (rep, founded) in enumerate(zip(reps, established)):
            code, start = self.company_codes[k].decode(), founded.item()
            held.clear()
            holders = [int(rep)] if rng.random() < 0.6 else []
            holders += [int(i) for i in self.choose(self.business, int(rng.integers(1, 3)))]
            holders = list(dict.fromkeys(holders))
            shares = rng.dirichlet(np.ones(len(holders) + 1))
            for holder, share in zip(holders, shares):
                end = None
                if rng.random() < 0.04:  # sold out: a new holder takes over the share
                    end = self.dates(max(start, dt.date(2020, 1, 1)), WORLD_END - DAY * 2, 1)[0]
                    new = int(self.choose(self.business, 1)[0])
                    hold(code, self.pop.pid(new), "person", share, end + DAY)
                hold(code, self.pop.pid(holder), "person", share, start, end)
            if rng.random() < 0.1:
                parent = self.company_codes[int(rng.integers(n))].decode()
                if parent != code:
                    hold(code, parent, "company", shares[-1], start)
            if rng.random() < 0.15:  # small holders below the related-party share
                small = int(self.choose(self.business, 1)[0])
                hold(code, self.pop.pid(small), "person", rng.uniform(0.005, 0.04), start)
        rows.emit()

    # ------------------------------------------------------------------ social insurance
    def _insurance_and_injuries(self) -> None:
        """Monthly contributions of employees (officials through their organisation) and a few
        work-injury claims of contributors, approved by officials of other households."""
        rng = self.rng
        workers = np.concatenate([self.non_cadre_plain, self.business, self.officials])
        workers = workers[rng.random(len(workers)) < 0.7]
        employer = np.zeros(len(workers), dtype="S18")
        for k, i in enumerate(workers):
            post = self.post_of.get(int(i))
            employer[k] = post[0] if post else self.company_codes[int(rng.integers(len(self.company_codes)))]
        months = [_month_str(m) for m in MONTHS]
        first_month = np.zeros(len(workers), dtype=np.int64)
        last_month = np.full(len(workers), len(months) - 1, dtype=np.int64)
        base = rng.uniform(600, 4000, len(workers))
        rows = Block(self, "insurance_contribution", ("id_number", "employer_code", "month", "amount"))
        for k, i in enumerate(workers):
            if rng.random() < 0.15:
                first_month[k] = int(rng.integers(0, 6)); last_month[k] = int(rng.integers(first_month[k] + 1, len(months)))
            pid, code, amount = self.pop.pid(i), employer[k].decode(), round(float(base[k]), 2)
            for m in range(first_month[k], last_month[k] + 1):
                rows.add(pid, code, months[m], amount)
        rows.emit()

        n_claims = max(20, self.n_persons // 250)
        handlers = [int(i) for i in self.officials if self.post_of.get(int(i), ("", ""))[1] == "government"]
        handlers = handlers or [int(i) for i in self.officials]
        claims = Block(self, "injury_claim", ("claim_id", "injured_id", "employer_code", "accident_date", "diagnosis",
                                              "hospital_code", "payout", "handler_id", "approved_date"))
        used: set[tuple[int, dt.date]] = set()
        for _ in range(n_claims):
            k = int(rng.integers(len(workers)))
            m = int(rng.integers(first_month[k], last_month[k] + 1))
            accident = self.dates(MONTHS[m], min(_month_end(MONTHS[m]), WORLD_END - DAY * 20), 1)[0]
            approved = min(accident + DAY * int(rng.integers(15, 60)), WORLD_END)
            injured = int(workers[k])
            handler = handlers[int(rng.integers(len(handlers)))]
            if (injured, accident) in used or self.pop.household[handler] == self.pop.household[injured] or handler == injured:
                continue
            used.add((injured, accident))
            claims.add(self.ids("injury_claim", 1, "GS")[0], self.pop.pid(injured), employer[k].decode(), accident,
                       DIAGNOSES[int(rng.integers(len(DIAGNOSES)))],
                       self.world.hospitals[int(rng.integers(len(self.world.hospitals)))],
                       round(float(rng.uniform(5000, 150000)), 2), self.pop.pid(handler), approved)
        claims.emit()

    # ------------------------------------------------------------------ pensions and assistance
    def _paid_months(self, i: int) -> list[dt.date]:
        """Months a living person is paid for: up to and including the month of death."""
        death = self.pop.death.get(i)
        return [m for m in MONTHS if death is None or m <= death]

    def _pensions_and_subsidies(self) -> None:
        rng = self.rng
        retirees = [int(i) for i in self.elderly if rng.random() < 0.8 and int(i) not in self.post_of]
        pensions = Block(self, "pension_payment", ("recipient_id", "amount", "pay_month"),
                         record_id=("pension_id", "YL"))
        for i in retirees:
            amount, pid = round(float(rng.uniform(1500, 6000)), 2), self.pop.pid(i)
            for m in self._paid_months(i):
                pensions.add(pid, amount, _month_str(m))
        pensions.emit()

        head = RELATIONS.index("head")
        heads = [int(i) for i in self.poor_persons if self.pop.relation[int(i)] == head]
        programs = {"dibao": (800, 1200), "tekun": (1200, 1800), "disability": (200, 500), "temporary": (1000, 5000)}
        names = list(programs)
        rows = Block(self, "subsidy_payment", ("recipient_id", "program", "region_code", "amount", "pay_month"),
                     record_id=("subsidy_id", "JZ"))
        for i in heads:
            program = names[int(rng.choice(4, p=[0.6, 0.15, 0.2, 0.05]))]
            lo, hi = programs[program]
            amount = round(float(rng.uniform(lo, hi)), 2)
            paid = self._paid_months(i)
            if program == "temporary" and paid:
                paid = [paid[int(rng.integers(len(paid)))]]
            for m in paid:
                rows.add(self.pop.pid(i), program, self.pop.region_code(i), amount, _month_str(m))
        rows.emit()

    # ------------------------------------------------------------------ vehicles and property
    def _vehicles_and_property(self) -> None:
        """Owned by people outside the poor households; registered before the monthly snapshot
        registries' last snapshot, so every one of them is delivered."""
        rng = self.rng
        owners_pool = self.adults[~self.pop.poor[self.adults]]
        n = max(50, self.n_persons // 4)
        owners = self.choose(owners_pool, n)
        planted = self.world.planted_values("vehicle", "plate")
        kinds = rng.integers(4, size=n)
        values = np.round(np.exp(rng.normal(np.log(120000), 0.6, n)), 2)
        registered = self.days(dt.date(2008, 1, 1), LAST_MONTHLY_SNAPSHOT - DAY, n)

        def plate(i) -> str:
            letter = CITY_PLATE_LETTER[self.pop.region_code(i)[:4]]
            while True:
                candidate = f"浙{letter}{self.world.next_seq('plate'):05d}"
                if candidate not in planted:
                    return candidate

        self.emit_blocks("vehicle", n, lambda lo, hi: {
            "plate": [plate(i) for i in owners[lo:hi]], "owner_id": self.pop.pids(owners[lo:hi]),
            "vehicle_type": [["小型轿车", "小型普通客车", "轻型货车", "新能源小型轿车"][int(k)] for k in kinds[lo:hi]],
            "value": values[lo:hi], "registered_date": registered[lo:hi]})
        m = max(50, int(self.n_persons / 2.5))
        owners = self.choose(self.adults, m)
        areas = np.round(rng.uniform(40, 250, m), 2)
        registered = self.days(dt.date(1999, 1, 1), LAST_MONTHLY_SNAPSHOT - DAY, m)
        self.emit_blocks("property", m, lambda lo, hi: {
            "property_id": self.ids("property", hi - lo, "BDC"), "owner_id": self.pop.pids(owners[lo:hi]),
            "region_code": [self.pop.region_code(i) for i in owners[lo:hi]],
            "area_m2": areas[lo:hi], "registered_date": registered[lo:hi]})

    # ------------------------------------------------------------------ village finance
    def _village_finance(self) -> None:
        """Per village: small works (well below the tender threshold), their payments and
        material purchases, work subsidies for plain residents, welfare and other payments."""
        rng = self.rng
        residents: dict[int, list[int]] = {}
        for i in self.non_cadre_plain:
            v = int(self.pop.village[int(i)])
            if v >= 0:
                residents.setdefault(v, []).append(int(i))
        per_village = 8
        projects = Block(self, "village_project", ("vproject_id", "village_code", "name", "kind", "contractor_id",
                                                   "contractor_type", "amount", "approved_date"))
        payments = Block(self, "village_payment", ("payment_id", "village_code", "payee_id", "payee_type", "payee_name",
                                                   "category", "purpose", "amount", "pay_date", "vproject_id"))
        purchases = Block(self, "village_procurement", ("purchase_id", "village_code", "supplier_code", "item", "amount",
                                                        "purchase_date", "vproject_id"))
        plain = self.non_cadre_plain

        def pay(village, payee, kind, name, category, amount, day, vproject=None):
            options = PURPOSES[category]
            payments.add(self.ids("village_payment", 1, "ZF")[0], village, payee, kind, name, category,
                         options[int(rng.integers(len(options)))], round(float(amount), 2), day, vproject)

        def buy(village, amount, day, vproject=None):
            pid = self.ids("village_procurement", 1, "CG")[0]
            supplier = self.any_active_company()[0]
            purchases.add(pid, village, supplier, ITEMS[int(rng.integers(len(ITEMS)))], round(float(amount), 2),
                          day, vproject)

        for v, village in enumerate(self.world.villages):
            for _ in range(int(rng.poisson(per_village))):
                kind = ["works", "repair", "labour_only"][int(rng.choice(3, p=[0.6, 0.25, 0.15]))]
                amount = {"works": rng.uniform(20000, 110000), "repair": rng.uniform(5000, 50000),
                          "labour_only": rng.uniform(10000, 60000)}[kind]
                approved = self.dates(WORLD_START, WORLD_END, 1)[0]
                vid = self.ids("village_project", 1, "XM")[0]
                if rng.random() < 0.7:
                    (contractor, cname), ctype = self.any_active_company(), "company"
                else:
                    p = int(plain[int(rng.integers(len(plain)))])
                    contractor, ctype, cname = self.pop.pid(p), "person", self.pop.pname(p)
                projects.add(vid, village, f"{['道路硬化', '水渠修缮', '文化礼堂维修', '路灯安装'][int(rng.integers(4))]}工程",
                             kind, contractor, ctype, round(float(amount), 2), approved)
                paid_day = min(approved + DAY * int(rng.integers(5, 60)), WORLD_END)
                pay(village, contractor, ctype, cname, "project", amount * 0.9, paid_day, vid)
                if kind != "repair" and rng.random() < 0.6:
                    buy(village, rng.uniform(2000, 40000), min(approved + DAY * int(rng.integers(1, 30)), WORLD_END), vid)
            locals_ = residents.get(v) or [int(i) for i in plain[:50]]
            for _ in range(int(rng.poisson(25))):
                p = locals_[int(rng.integers(len(locals_)))]
                pay(village, self.pop.pid(p), "person", self.pop.pname(p), "work_subsidy",
                    rng.uniform(100, 2000), self.dates(WORLD_START, WORLD_END, 1)[0])
            for _ in range(int(rng.poisson(6))):
                code, name = self.any_active_company()
                pay(village, code, "company", name, "materials",
                    rng.uniform(1000, 30000), self.dates(WORLD_START, WORLD_END, 1)[0])
            for _ in range(int(rng.poisson(10))):
                p = locals_[int(rng.integers(len(locals_)))]
                category = ["welfare", "lease", "other"][int(rng.choice(3, p=[0.6, 0.3, 0.1]))]
                pay(village, self.pop.pid(p), "person", self.pop.pname(p), category,
                    rng.uniform(200, 3000), self.dates(WORLD_START, WORLD_END, 1)[0])
            for _ in range(int(rng.poisson(3))):
                buy(village, rng.uniform(500, 20000), self.dates(WORLD_START, WORLD_END, 1)[0])
        projects.emit()
        payments.emit()
        purchases.emit()

    def _asset_leases(self) -> None:
        """Collective assets leased mostly by auction or bidding at the town's going rate; the
        negotiated ones and renewals at or above it (renewals above the previous rent)."""
        rng = self.rng
        rows = Block(self, "asset_lease", ("lease_id", "village_code", "asset_id", "asset_type", "area_m2", "lessee_id",
                                           "lessee_type", "annual_rent", "start_date", "end_date", "method",
                                           "previous_lease_id"))
        town_factor: dict[str, float] = {}
        types = list(ASSET_TYPES)

        def lease(village, asset, kind, area, rate, start, years, method, previous=None):
            lid = self.ids("asset_lease", 1, "ZL")[0]
            if rng.random() < 0.5:
                lessee, ltype = self.pop.pid(self.choose(self.non_cadre_plain, 1)[0]), "person"
            else:
                lessee, ltype = self.any_active_company()[0], "company"
            rows.add(lid, village, asset, kind, area, lessee, ltype, round(rate * area, 2), start,
                     start + DAY * (365 * years - 1), method, previous)
            return lid, rate

        for village in self.world.villages:
            town = village[:9]
            factor = town_factor.setdefault(town, float(rng.uniform(0.8, 1.2)))
            for n in range(int(rng.poisson(4))):
                kind = types[int(rng.integers(len(types)))]
                base, (lo, hi) = ASSET_TYPES[kind]
                area = round(float(rng.uniform(lo, hi)), 1)
                asset = f"{village}-ZC{n + 1:03d}"
                start = self.dates(WORLD_START, WORLD_END, 1)[0]
                method = ["public_auction", "public_bidding", "negotiated", "renewal"][int(rng.choice(4, p=[0.4, 0.3, 0.15, 0.15]))]
                if method == "renewal":
                    prev_start = start - DAY * 365 * 3
                    prev, rate = lease(village, asset, kind, area, base * factor * rng.uniform(0.95, 1.15),
                                       prev_start, 3, "public_auction")
                    lease(village, asset, kind, area, rate * rng.uniform(1.0, 1.1), start, 3, "renewal", prev)
                else:
                    low = 0.98 if method == "negotiated" else 0.95
                    lease(village, asset, kind, area, base * factor * rng.uniform(low, 1.15), start,
                          int(rng.integers(1, 6)), method)
        rows.emit()

    # ------------------------------------------------------------------ public resource trading
    def _tenders(self) -> None:
        """Tender projects of organisations and villages, 3-6 independent bids each (own contact
        data, distinct prices), contracts for the awarded ones and the site attendance of the works
        contracts' technical leads (at least the required days every month) and workers."""
        rng = self.rng
        n = max(60, self.n_persons // 25)
        projects = Block(self, "tender_project", ("project_id", "name", "owner_code", "owner_type", "region_code",
                                                  "category", "method", "budget", "publish_date", "bid_deadline",
                                                  "award_date"))
        bids = Block(self, "bid", ("bid_id", "project_id", "bidder_code", "bid_price", "submitted_at", "contact_name",
                                   "contact_phone", "client_ip", "client_mac", "doc_hash", "status"))
        contracts = Block(self, "contract", ("contract_id", "project_id", "supplier_code", "amount", "sign_date",
                                             "end_date", "technical_lead_id", "required_onsite_days_per_month"))
        attendance = Block(self, "site_attendance", ("project_id", "id_number", "work_date", "check_in"))
        leads = self.choose(self.non_cadre_plain, n)
        active = self.active
        by_age = active[np.lexsort((self.company_codes[active], self.company_founded[active]))]
        founded = self.company_founded[by_age]
        for k, pid in enumerate(self.ids("tender_project", n, "GC")):
            if rng.random() < 0.8:
                owner, _, _, region = self.orgs[int(rng.integers(len(self.orgs)))]
                owner_type = "org"
            else:
                owner = self.world.villages[int(rng.integers(len(self.world.villages)))]
                owner_type, region = "village", owner[:6]
            category = ["works", "goods", "services"][int(rng.choice(3, p=[0.5, 0.3, 0.2]))]
            budget = round(float(np.exp(rng.uniform(np.log(500000), np.log(20000000)))), 2)
            publish = self.dates(WORLD_START, WORLD_END - DAY * 10, 1)[0]
            deadline = publish + DAY * 20
            award = deadline + DAY * int(rng.integers(3, 15))
            if award > WORLD_END or rng.random() < 0.08:
                award = None
            projects.add(pid, f"{region}{['综合楼', '道路', '设备采购', '物业服务'][int(rng.integers(4))]}项目", owner,
                         owner_type, region, category,
                         ["open", "invited", "negotiated", "direct"][int(rng.choice(4, p=[0.7, 0.15, 0.1, 0.05]))],
                         budget, publish, deadline, award)
            self.projects_region[pid] = region
            eligible = by_age[:int(np.searchsorted(founded, _day(publish), side="right"))]
            bidders = [self.company_codes[eligible[int(j)]].decode()
                       for j in rng.choice(len(eligible), size=int(rng.integers(3, 7)), replace=False)]
            prices: set[float] = set()
            while len(prices) < len(bidders):  # distinct prices: an identical price is a collusion sign
                prices.add(round(budget * float(rng.uniform(0.8, 0.99)), 2))
            prices = sorted(prices)
            statuses = ["valid"] * len(bidders)
            if len(bidders) > 3 and rng.random() < 0.2:
                statuses[-1] = "disqualified"
            order = rng.permutation(len(bidders))
            winner = None
            for j, b in enumerate(order):
                bidder = bidders[int(b)]
                status = "won" if (award and j == 0) else statuses[j]
                if status == "won":
                    winner = (bidder, prices[j])
                latest = min(19, (WORLD_END - publish).days)  # before the deadline and the world's end
                submitted = dt.datetime.combine(publish + DAY * int(rng.integers(1, latest + 1)), dt.time(8)) + \
                    dt.timedelta(seconds=int(rng.integers(0, 9 * 3600)))
                mac = ":".join(f"{int(x):02x}" for x in rng.integers(0, 256, 6))
                bids.add(self.ids("bid", 1, "TB")[0], pid, bidder, prices[min(j, len(prices) - 1)],
                         submitted, self.name(), self.phone(1)[0],
                         f"10.{int(rng.integers(256))}.{int(rng.integers(256))}.{int(rng.integers(1, 255))}",
                         mac.upper() if rng.random() < 0.5 else mac,
                         "".join(f"{int(x):02x}" for x in rng.integers(0, 256, 16)), status)
            if winner and award + DAY * 15 <= WORLD_END:
                sign = award + DAY * int(rng.integers(3, 15))
                end = sign + DAY * int(rng.integers(120, 720))
                works = category == "works"
                lead = int(leads[k]) if works else None
                required = int(rng.choice([8, 10, 12, 15])) if works else 0
                cid = self.ids("contract", 1, "HT")[0]
                contracts.add(cid, pid, winner[0], winner[1], sign, end,
                              self.pop.pid(lead) if lead is not None else None, required)
                if works:
                    self._attendance(attendance, pid, lead, required, sign, end)
        projects.emit()
        bids.emit()
        contracts.emit()
        attendance.emit()

    def _attendance(self, rows: Block, project: str, lead: int, required: int, sign: dt.date, end: dt.date) -> None:
        """The lead attends a few days more than required every month; two workers come and go."""
        rng = self.rng
        workers = [lead] + [int(i) for i in self.choose(self.non_cadre_plain, 2)]
        last = min(end, WORLD_END)
        for first in MONTHS:
            lo, hi = max(first, sign), min(_month_end(first), last)
            if lo > hi:
                continue
            days = [lo + DAY * k for k in range((hi - lo).days + 1)]
            for w, person in enumerate(workers):
                want = required + int(rng.integers(2, 6)) if w == 0 else int(rng.integers(8, 18))
                picked = sorted(rng.choice(len(days), size=min(want, len(days)), replace=False))
                pid = self.pop.pid(person)
                for k in picked:
                    day = days[int(k)]
                    rows.add(project, pid, day, dt.datetime.combine(day, dt.time(7)) +
                             dt.timedelta(seconds=int(rng.integers(0, 7200))))

    # ------------------------------------------------------------------ medicine
    def _medicine(self) -> None:
        """Steady monthly drug purchases per hospital and drug (no spikes), and prescriptions by
        the hospital's doctors summing to a little over half of what is bought."""
        rng = self.rng
        catalogue = [(f"XY{1000 + k:05d}", name) for k, name in enumerate(DRUGS)]
        suppliers = [self.credit_code(COUNTIES[int(rng.integers(len(COUNTIES)))]) for _ in range(8)]
        per_hospital = int(np.clip(round(self.n_persons / len(self.world.hospitals) / 200), 4, len(catalogue)))
        pairs = [(h, catalogue[int(g)]) for h in self.world.hospitals
                 for g in rng.choice(len(catalogue), size=per_hospital, replace=False)]
        rx_per_cell = 3 * self.n_persons / (len(pairs) * len(MONTHS))
        orders = Block(self, "drug_purchase", ("hospital_code", "drug_code", "drug_name", "supplier_code", "quantity",
                                               "unit_price", "order_date"), record_id=("order_id", "DD"))
        rx = Block(self, "prescription", ("hospital_code", "doctor_id", "patient_id", "drug_code", "quantity", "rx_date"),
                   record_id=("rx_id", "CF"))
        patients = self.alive
        for hospital, (code, name) in pairs:
            popularity = float(rng.uniform(0.5, 1.5))
            monthly = max(30, round(rx_per_cell * popularity * 15.5 / 0.55))
            price = round(float(rng.uniform(2, 300)), 2)
            supplier = suppliers[int(rng.integers(len(suppliers)))]
            doctors = self.doctors.get(hospital)
            for first in MONTHS:
                last = min(_month_end(first), WORLD_END)
                total = int(monthly * rng.uniform(0.92, 1.08))
                parts = int(rng.integers(1, 4))
                for q, day in zip(np.diff(np.sort(np.concatenate([[0, total], rng.integers(1, total, parts - 1)]))),
                                  self.dates(first, last, parts)):
                    orders.add(hospital, code, name, supplier, int(q), round(price * float(rng.uniform(0.98, 1.02)), 2), day)
                count = int(rng.poisson(rx_per_cell * popularity)) if doctors else 0
                if not count:
                    continue
                for d, p, q, day in zip(self.choose(np.array(doctors), count), self.choose(patients, count),
                                        rng.integers(1, 31, count), self.dates(first, last, count)):
                    rx.add(hospital, self.pop.pid(d), self.pop.pid(p), code, int(q), day)
        orders.emit()
        rx.emit()
