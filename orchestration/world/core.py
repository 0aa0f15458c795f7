"""The synthetic world's shared core: geography, identifier factories, routing and the World.

The world is built as *clean canonical records* (``World.tables``: entity -> list of row dicts,
each row carrying ``_system_id``, the source system that delivers it). Planting modules
(``world/scenarios/smNN.py``) add scenarios through the World's helpers and register what they
planted (``World.plant``); the background generator adds ordinary life around them; the renderer
turns clean rows into each system's native deliveries using its contract, adding noise and defects.
The truth oracle (``world/truth.py``) recomputes the rules of models.md over the clean rows.

With a row store attached (``World.store``, as ``generate`` does), ``World.tables`` keeps only the
most recent ``RECENT_ROWS`` rows of each entity and older ones go to the store, so planting does
not hold the whole world in memory; scenario code looks back only at rows added a moment ago
(``World.recent``).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from orchestration.canonical import entities

if TYPE_CHECKING:
    from orchestration.world.store import RowStore

# --------------------------------------------------------------------------- time frame
WORLD_START = dt.date(2025, 11, 1)   # first day of history (12 months)
WORLD_END = dt.date(2026, 10, 31)   # as-of date of the last daily batch
BACKFILL_DATE = dt.date(2026, 9, 30)  # initial delivery: everything dated up to here
DAILY_DATES = [BACKFILL_DATE + dt.timedelta(days=i) for i in range(1, (WORLD_END - BACKFILL_DATE).days + 1)]

# --------------------------------------------------------------------------- geography
PROVINCE = "330000"
CITIES = {"3301": "杭州市", "3302": "宁波市", "3303": "温州市", "3304": "嘉兴市", "3305": "湖州市",
          "3306": "绍兴市", "3307": "金华市", "3308": "衢州市", "3309": "舟山市", "3310": "台州市",
          "3311": "丽水市"}
# County-level codes of Zhejiang with the years each was in use (public division codes), so that
# an id_number's birth place is a code that existed in its birth year (python-stdnum checks this).
_DIVISION_YEARS = (
    '330102:1983-2100 330103:1983-2021 330104:1983-2021 330105:1983-2100 330106:1983-2100 '
    '330107:1983-1990 330108:1996-2100 330109:2001-2100 330110:2001-2100 330111:2014-2100 '
    '330112:2017-2100 330120:1900-1983 330121:1900-1987 330122:1900-2100 330123:1900-1994 '
    '330124:1900-1996 330125:1900-1994 330126:1900-1992 330127:1900-2100 330181:1989-2001 '
    '330182:1992-2100 330183:1994-2014 330184:1994-2001 330185:1996-2017 330202:1983-1984 '
    '330203:1983-2100 330204:1983-2016 330205:1983-2100 330206:1985-1986/1987-2100 '
    '330211:1985-2100 330212:2002-2100 330213:2016-2100 330219:1985-1986 330220:1900-1983 '
    '330221:1982-1985 330222:1983-1988 330223:1983-1985 330224:1983-1988 330225:1983-2100 '
    '330226:1983-2100 330227:1983-2002 330281:1989-2100 330282:1989-2100 330283:1989-2016 '
    '330302:1983-1983/1984-2100 330303:1984-2100 330304:1992-2100 330305:2015-2100 '
    '330320:1900-1983 330321:1981-1992 330322:1981-2015 330323:1981-1993 330324:1981-2100 '
    '330325:1981-1987 330326:1981-2100 330327:1981-2100 330328:1981-2100 330329:1981-2100 '
    '330381:1989-2100 330382:1993-2100 330383:2019-2100 330402:1983-1992/1993-2004/2005-2100 '
    '330411:1983-1998/1999-2100 330421:1983-2100 330422:1983-1991 330423:1983-1986 '
    '330424:1983-2100 330425:1983-1993 330481:1989-2100 330482:1991-2100 330483:1993-2100 '
    '330502:1983-1987/2003-2100 330503:2003-2100 330511:1983-1988 330521:1983-2100 '
    '330522:1983-2100 330523:1983-2100 330602:1983-2100 330603:2013-2100 330604:2013-2100 '
    '330621:1983-2013 330622:1983-1992 330623:1983-1995 330624:1983-2100 330625:1983-1989 '
    '330681:1989-2100 330682:1992-2013 330683:1995-2100 330702:1985-2100 330703:2000-2100 '
    '330719:1985-1986 330721:1985-2000 330722:1985-1992 330723:1985-2100 330724:1985-1988 '
    '330725:1985-1988 330726:1985-2100 330727:1985-2100 330781:1989-2100 330782:1989-2100 '
    '330783:1989-2100 330784:1992-2100 330802:1985-2100 330803:2001-2100 330821:1985-2001 '
    '330822:1985-2100 330823:1985-1987 330824:1985-2100 330825:1985-2100 330881:1989-2100 '
    '330902:1987-2100 330903:1987-2100 330921:1987-2100 330922:1987-2100 331002:1994-2100 '
    '331003:1994-2100 331004:1994-2100 331021:1994-2017 331022:1994-2100 331023:1994-2100 '
    '331024:1994-2100 331081:1994-2100 331082:1994-2100 331083:2017-2100 331102:2000-2100 '
    '331121:2000-2100 331122:2000-2100 331123:2000-2100 331124:2000-2100 331125:2000-2100 '
    '331126:2000-2100 331127:2000-2100 331181:2000-2100 332102:1900-1983 332121:1900-1981 '
    '332122:1900-1983 332123:1900-1983 332124:1900-1983 332125:1900-1983 332126:1900-1983 '
    '332127:1900-1983 332128:1900-1981 332129:1900-1983 332130:1900-1983 332221:1900-1983 '
    '332222:1900-1983 332223:1900-1983 332224:1900-1983 332225:1900-1983 332226:1900-1983 '
    '332227:1900-1982 332321:1900-1981 332322:1900-1983 332323:1900-1983 332324:1900-1983 '
    '332325:1900-1983 332402:1982-1985 332421:1900-1981/1982-1985 332422:1900-1981/1982-1985 '
    '332423:1900-1981/1982-1985 332424:1900-1981/1982-1985 332425:1900-1981/1982-1985 '
    '332426:1900-1981/1982-1985 332427:1900-1981/1982-1985 332428:1982-1985 332429:1982-1985 '
    '332430:1983-1985 332431:1983-1985 332502:1900-1982 332521:1900-1981 332522:1900-1982 '
    '332523:1900-1982 332524:1900-1982 332525:1900-1982 332526:1900-1982 332527:1900-1982 '
    '332528:1900-1981 332529:1900-1982 332530:1900-1982 332531:1900-1982 332602:1986-1994 '
    '332603:1989-1994 332621:1900-1982/1982-1986 332622:1900-1982/1982-1989 '
    '332623:1900-1982/1982-1994 332624:1900-1982/1982-1994 332625:1900-1982/1982-1994 '
    '332626:1900-1982/1982-1994 332627:1900-1982/1982-1994 332628:1982-1982 '
    '332721:1900-1982/1982-1987 332722:1900-1982/1982-1987 332723:1900-1982/1982-1987 '
    '332724:1900-1982/1982-1987 332725:1900-1982 332726:1900-1982 332727:1900-1982 '
    '332802:1990-2000 332821:1900-1982/1982-1986 332822:1900-1982/1982-2000 '
    '332823:1900-1982/1982-2000 332824:1900-1982/1982-1990 332825:1982-2000 332826:1982-2000 '
    '332827:1982-2000 332828:1982-2000 332829:1984-2000 339002:1986-1989 339003:1986-1989 '
    '339004:1987-1989 339005:1987-1989 339006:1987-1989 339007:1988-1989 339008:1988-1989 '
    '339009:1988-1989 339010:1988-1989 '
)
DIVISIONS = {c: [(int(s[:4]), int(s[5:])) for s in spans.split("/")]
             for c, spans in (x.split(":") for x in "".join(_DIVISION_YEARS).split())}
COUNTIES = [c for c, spans in DIVISIONS.items() if spans[-1][1] == 2100]  # the counties in use today
N_HOSPITALS = 85


def city_of(code: str) -> str:
    """City region code (``3301`` + ``00``) of a region, village or credit-code region."""
    return code[:4] + "00"


# --------------------------------------------------------------------------- identifiers
_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]


def id_check_char(first17: str) -> str:
    """GB 11643 (ISO 7064 MOD 11-2) check character."""
    s = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS))
    return "10X98765432"[s % 11]


def birth_place(region: str, year: int) -> str:
    """The division code a person born in ``year`` in ``region`` carries in their id_number."""
    def in_use(code: str) -> bool:
        return any(a <= year <= b for a, b in DIVISIONS.get(code, []))
    if in_use(region):
        return region
    same_city = [c for c in DIVISIONS if c[:4] == region[:4] and in_use(c)]
    return same_city[0] if same_city else "330122"


def household_id(region: str, seq: int) -> str:
    return f"{region}H{seq:08d}"


def make_id_number(region: str, birth: dt.date, seq: int) -> str:
    body = f"{birth_place(region, birth.year)}{birth:%Y%m%d}{seq % 1000:03d}"
    return body + id_check_char(body)


def to_legacy_15(id18: str) -> str:
    """The 15-digit legacy form (century dropped, no check character); only for 19xx births."""
    assert id18[6:8] == "19", id18
    return id18[:6] + id18[8:17]


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def uscc_check_char(first17: str) -> str:
    """GB 32100 check character (weighted mod 31)."""
    s = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - s % 31) % 31]


def _org_code(n: int) -> str:
    """A GB 11714 organisation code (8 digits + its own check) for the credit code's body."""
    body = f"{n % 10**8:08d}"
    s = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(body, _ORG_WEIGHTS))
    c = 11 - s % 11
    return body + ("0" if c == 11 else "X" if c == 10 else str(c))


def make_credit_code(region: str, seq: int, org_type: str = "91") -> str:
    """Unified social credit code: dept+type (``91`` company, ``12`` institution), region, org code."""
    body = f"{org_type}{region}{_org_code(seq)}"
    return body + uscc_check_char(body)


# --------------------------------------------------------------------------- names
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强海燕晓东红梅玉兰文斌金凤德明永红春梅")


@dataclass(slots=True)
class Planted:
    model_id: str
    rule_branch: str      # one branch letter/name
    primary_key: str      # qualified, exactly as the alert's primary_key
    severity: str | None  # expected severity (positives); None for decoys
    decoy: bool
    note: str = ""


class KeySet:
    """A set of int64 keys held compactly: a sorted array plus a small set of the latest ones (a
    million keys take 8 MB, not the 60 MB of a Python set)."""

    MERGE_AT = 65_536

    def __init__(self) -> None:
        self._sorted = np.empty(0, dtype=np.int64)
        self._latest: set[int] = set()

    def __contains__(self, key: int) -> bool:
        if key in self._latest:
            return True
        at = int(np.searchsorted(self._sorted, key))
        return at < self._sorted.size and int(self._sorted[at]) == key

    def add(self, key: int) -> bool:
        """Add ``key``; False when it was in already."""
        if key in self:
            return False
        self._latest.add(key)
        if len(self._latest) >= self.MERGE_AT:
            self._sorted = np.union1d(self._sorted, np.fromiter(self._latest, dtype=np.int64))
            self._latest.clear()
        return True


RECENT_ROWS = 200  # rows per entity a World with a store keeps at least (World.recent looks there)
PLANTED_AT_ONCE = 20_000  # planted registrations a World with a store keeps as objects (older: a frame)
PLANTED_SCHEMA = {"model_id": pl.Utf8, "rule_branch": pl.Utf8, "primary_key": pl.Utf8, "severity": pl.Utf8,
                  "decoy": pl.Boolean, "note": pl.Utf8}


def planted_frame(planted: Iterable[Planted]) -> pl.DataFrame:
    rows = [(p.model_id, p.rule_branch, p.primary_key, p.severity, p.decoy, p.note) for p in planted]
    return pl.DataFrame(rows, schema=PLANTED_SCHEMA, orient="row")


@dataclass
class World:
    seed: int
    scale: float
    rng: np.random.Generator = field(init=False)
    tables: dict[str, list[dict]] = field(init=False)
    planted: list[Planted] = field(init=False)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng([self.seed, 1])
        self.tables = {name: [] for name in entities()}
        self.planted = []
        self._seq: dict[str, int] = {}
        self._issued = KeySet()  # id_numbers given out, by their 17-digit body
        self.store: RowStore | None = None  # when set, older planted rows are moved there
        self._planted_frames: list[pl.DataFrame] = []  # with a store: older planted registrations
        n_villages = max(120, int(20000 * self.scale))
        self.villages = self._make_villages(n_villages)
        self.hospitals = [make_credit_code(COUNTIES[i % len(COUNTIES)], 500000 + i, "12")
                          for i in range(N_HOSPITALS)]
        self.project_regions: dict[str, str] = {}  # project_id -> region_code (bid/contract routing)

    # ---------------------------------------------------------------- geography helpers
    def _make_villages(self, n: int) -> list[str]:
        out = []
        for i in range(n):
            county = COUNTIES[i % len(COUNTIES)]
            town = 1 + (i // len(COUNTIES)) % 12
            out.append(f"{county}{town:03d}{1 + i // (len(COUNTIES) * 12):03d}")
        return out

    def pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def village(self) -> str:
        return self.pick(self.villages)

    def other_village_same_town(self, village_code: str) -> str | None:
        same = [v for v in self.villages if v[:9] == village_code[:9] and v != village_code]
        return self.pick(same) if same else None

    def date(self, lo: dt.date = WORLD_START, hi: dt.date = WORLD_END) -> dt.date:
        return lo + dt.timedelta(days=int(self.rng.integers((hi - lo).days + 1)))

    def next_seq(self, name: str) -> int:
        self._seq[name] = self._seq.get(name, 0) + 1
        return self._seq[name]

    def next_id(self, entity: str, prefix: str = "") -> str:
        """A record id unique within the world for ``entity`` (hence within its system)."""
        return f"{prefix or entity[:2].upper()}{self.next_seq('rid:' + entity):07d}"

    def next_ids(self, entity: str, n: int, prefix: str = "") -> list[str]:
        """``n`` record ids at once, from the same sequence as ``next_id`` (bulk background rows)."""
        key = "rid:" + entity
        start = self._seq.get(key, 0)
        self._seq[key] = start + n
        return [f"{prefix or entity[:2].upper()}{i:07d}" for i in range(start + 1, start + n + 1)]

    def name(self) -> str:
        given = "".join(self.pick(GIVEN) for _ in range(1 + int(self.rng.integers(2))))
        return self.pick(SURNAMES) + given

    # ---------------------------------------------------------------- people and companies
    def new_id_number(self, region: str | None = None, birth: dt.date | None = None) -> str:
        region = region or self.pick(COUNTIES)
        birth = birth or dt.date(1950, 1, 1) + dt.timedelta(days=int(self.rng.integers(365 * 50)))
        while True:  # unique in the world: same region, birth date and sequence collide rarely
            pid = make_id_number(region, birth, self.next_seq("person"))
            if self.issue(pid):
                return pid

    def issue(self, id_number: str) -> bool:
        """Claim an id_number for a new person; False when someone already has it."""
        return self._issued.add(int(id_number[:17]))

    def new_person(self, *, village_code: str | None = None, region_code: str | None = None,
                   household_id: str | None = None, relation: str = "head", name: str | None = None,
                   gender: str | None = None, birth: dt.date | None = None) -> str:
        """Add a person to the household registry; returns their id_number."""
        if village_code is None and region_code is None:
            village_code = self.village()
        region_code = region_code or village_code[:6]
        pid = self.new_id_number(region_code, birth)
        birth_date = dt.date(int(pid[6:10]), int(pid[10:12]), int(pid[12:14]))
        self.add("person", id_number=pid, name=name or self.name(),
                 gender=gender or ("M" if int(pid[16]) % 2 else "F"), birth_date=birth_date,
                 household_id=household_id or self.new_household_id(region_code),
                 relation_to_head=relation, region_code=region_code, village_code=village_code)
        return pid

    def new_household_id(self, region_code: str) -> str:
        return household_id(region_code, self.next_seq("household"))

    def new_company(self, *, region_code: str | None = None, legal_rep_id: str | None = None,
                    established: dt.date | None = None, deregistered: dt.date | None = None,
                    phone: str | None = None, name: str | None = None) -> str:
        region_code = region_code or self.pick(COUNTIES)
        code = make_credit_code(region_code, self.next_seq("company"))
        self.add("company", credit_code=code, name=name or f"{self.name()[:1]}{self.pick(list('鑫盛宏泰华隆源达兴旺'))}建设有限公司",
                 legal_rep_id=legal_rep_id, reg_address=f"{region_code}某街道{int(self.rng.integers(1, 999))}号",
                 phone=phone or self.phone(), established_date=established or dt.date(2015, 1, 1),
                 status="deregistered" if deregistered else "active", deregistered_date=deregistered)
        return code

    def phone(self) -> str:
        return "1" + str(int(self.rng.integers(3, 10))) + f"{int(self.rng.integers(10**9)):09d}"

    # ---------------------------------------------------------------- records
    def add(self, entity: str, **row) -> dict:
        """Add one clean canonical row; unknown columns are an error, missing ones are null."""
        cols = entities()[entity].columns
        unknown = set(row) - set(cols) - {"_system_id"}
        if unknown:
            raise KeyError(f"{entity}: unknown columns {sorted(unknown)}")
        full = {c: row.get(c) for c in cols}
        full["_system_id"] = row.get("_system_id") or self.route(entity, full)
        if entity == "tender_project":
            self.project_regions[full["project_id"]] = full["region_code"]
        rows = self.tables[entity]
        rows.append(full)
        if self.store is not None and len(rows) >= 2 * RECENT_ROWS:
            self._move_to_store(entity, keep=RECENT_ROWS)
        return full

    def recent(self, entity: str, column: str, value) -> dict:
        """The newest row of ``entity`` added a moment ago whose ``column`` is ``value`` (a
        planting module mutating it changes the world's row)."""
        row = next((r for r in reversed(self.tables[entity]) if r[column] == value), None)
        if row is None:
            raise LookupError(f"{entity}: no row with {column}={value!r} among the rows planted last "
                              f"(World.recent looks back {RECENT_ROWS} rows at least)")
        return row

    def planted_values(self, entity: str, column: str) -> set:
        """Every value of ``column`` among the rows planted so far (in memory and in the store)."""
        values = {r[column] for r in self.tables[entity]}
        if self.store is not None:
            values |= set(self.store.scan(entity).select(column).collect().to_series().to_list())
        return values

    def _move_to_store(self, entity: str, keep: int = 0) -> None:
        from orchestration.world.scenarios._frames import frame  # noqa: PLC0415  (_frames imports World)

        rows = self.tables[entity]
        moved = len(rows) - keep
        if moved > 0 and self.store is not None:
            self.store.append(entity, frame(entity, rows[:moved]))
            del rows[:moved]

    def flush(self) -> None:
        """Move every planted row to the store (planting is over)."""
        for entity in self.tables:
            self._move_to_store(entity)
        if self.store is not None:
            self.store.flush()

    def qualified(self, row: dict, id_column: str) -> str:
        """The record id as silver and alerts spell it: ``<system_id>:<record_id>``."""
        return f"{row['_system_id']}:{row[id_column]}"

    def plant(self, model_id: str, rule_branch: str, primary_key: str, severity: str | None = None,
              *, decoy: bool = False, note: str = "") -> None:
        if not decoy and severity not in ("red", "yellow"):
            raise ValueError(f"positive {model_id}/{rule_branch} needs severity red or yellow")
        self.planted.append(Planted(model_id, rule_branch, primary_key, None if decoy else severity, decoy, note))
        if self.store is not None and len(self.planted) >= PLANTED_AT_ONCE:
            self._planted_frames.append(planted_frame(self.planted))
            self.planted = []

    def planted_frame(self) -> pl.DataFrame:
        """Everything planted so far (PLANTED_SCHEMA)."""
        return pl.concat([*self._planted_frames, planted_frame(self.planted)])

    # ---------------------------------------------------------------- routing
    def route(self, entity: str, row: dict) -> str:
        """The system that delivers a clean row (see docs/architecture.md, 'System ids')."""
        return route(entity, row, self.project_regions, self.hospitals)


PROVINCE_SYSTEMS = {  # entity -> province system id
    "person": "household_registry_330000", "marriage": "marriage_registry_330000",
    "death": "death_registry_330000", "company": "business_registry_330000",
    "shareholder": "business_registry_330000", "public_official": "official_roster_330000",
    "village_cadre": "village_cadre_roster_330000", "insurance_contribution": "social_insurance_330000",
    "pension_payment": "pension_330000", "injury_claim": "work_injury_330000",
    "drug_purchase": "drug_purchasing_330000", "vehicle": "vehicle_registry_330000",
    "property": "property_registry_330000", "disposition": "disposition_feedback_330000",
}
CITY_KINDS = {  # entity -> city system kind
    "village_project": "village_finance", "village_payment": "village_finance",
    "village_procurement": "village_finance", "asset_lease": "asset_trading",
    "tender_project": "public_resource_trading", "bid": "public_resource_trading",
    "contract": "public_resource_trading", "subsidy_payment": "social_assistance",
    "site_attendance": "site_attendance",
}


def hospital_system_id(index: int) -> str:
    return f"hospital_his_{index + 1:03d}"


def route(entity: str, row: dict, project_regions: dict[str, str], hospitals: list[str]) -> str:
    if entity in PROVINCE_SYSTEMS:
        return PROVINCE_SYSTEMS[entity]
    if entity == "prescription":
        return hospital_system_id(hospitals.index(row["hospital_code"]))
    kind = CITY_KINDS[entity]
    if entity in ("bid", "contract", "site_attendance"):
        region = project_regions[row["project_id"]]
    elif entity in ("tender_project", "subsidy_payment"):
        region = row["region_code"]
    else:
        region = row["village_code"][:6]
    return f"{kind}_{city_of(region)}"
