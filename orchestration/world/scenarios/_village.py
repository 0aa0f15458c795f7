"""Planting kit of the village models (SM01, SM02, SM03, SM08): cadres, their relatives and lookalikes.

Every scenario record gets its OWN fresh cadre and fresh parties, so that one planted record can
never turn another one into an alert: the only relations between planted persons and companies
are the ones made here on purpose.

- ``new_cadre``: a cadre of a village in a fresh household (as head, or as a child or sibling of
  the head, so that every close household pair of models.md gets exercised).
- ``relative(world, cadre, who, d)``: a person who IS the cadre or a close relative at D, by one
  of ``RELATIVES`` (spouse by marriage row or by household, parent, child, sibling, ...).
- ``non_relative(world, cadre, who, d)``: a person who LOOKS related but is not at D, by one of
  ``NON_RELATIVES`` (namesake, dissolved marriage, in-law, grandchild, the spouse of a child...).
- ``party(world, person, via, d)``: the person themself, or a company they are tied to at D
  (legal rep or shareholder >= 5 %); ``company_lookalike`` makes a company that is NOT tied at D
  (a 4.9 % holding, an ended holding, a deregistered company, a company held by a company...).
- ``stranger``: a fresh person or company with no ties to anyone.
- ``isolated_village``: a village code in a town the background world never uses (SM08 compares
  leases town-wide, so its scenarios need towns whose every lease is planted).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from orchestration.world.core import BACKFILL_DATE, COUNTIES, WORLD_END, WORLD_START, World
from orchestration.world.scenarios._common import money

DAY = dt.timedelta(days=1)
CADRE_ROLES = ("secretary", "director", "member", "accountant", "cashier")

# Ways a person IS related to a cadre at D (cadre's relation_to_head needed, relative's relation).
RELATIVES = ("self", "spouse_married", "spouse_household", "spouse_elsewhere", "spouse_newlywed", "child",
             "parent", "sibling", "head_is_parent", "mother_is_spouse_of_head", "brother_in_household",
             "parent_of_sibling")
# Ways a person looks related but is NOT a close relative at D.
NON_RELATIVES = ("namesake", "ex_spouse_household", "ex_spouse_dissolved_on_date", "in_law", "grandchild",
                 "grandchild_of_head", "spouse_of_child", "parent_in_law", "future_spouse")
# How a related person reaches the record: as themself or through a company tied at D.
VIAS = ("person", "legal_rep", "shareholder")
# Companies that look tied to a person but are not at D.
COMPANY_LOOKALIKES = ("small_share", "share_ended", "share_not_started", "deregistered", "not_established",
                      "held_by_company")


class Party(NamedTuple):
    """Who a record names: an id_number or credit_code, its type (person/company) and name."""
    id: str
    type: str
    name: str


@dataclass
class Cadre:
    id_number: str
    name: str
    village_code: str
    household_id: str
    relation: str             # the cadre's relation_to_head in their household
    head_id: str              # the household head (the cadre themself when relation is head)
    term_start: dt.date
    term_end: dt.date | None


# --------------------------------------------------------------------------- dates and places
def event_date(world: World, lo: dt.date = WORLD_START, hi: dt.date = WORLD_END - DAY, late_share: float = 0.3) -> dt.date:
    """A record date in [lo, hi]; about ``late_share`` of them after the backfill (daily batches).

    The default keeps the world's last day free, so that ``later`` always finds a day after it.
    """
    if lo <= BACKFILL_DATE < hi and world.rng.random() < late_share:
        return world.date(BACKFILL_DATE + DAY, hi)
    return world.date(lo, min(hi, BACKFILL_DATE) if lo <= BACKFILL_DATE else hi)


def later(world: World, d: dt.date, max_days: int) -> dt.date:
    """A day 1..max_days after D, never after the world's last day (D must be before it)."""
    if d >= WORLD_END:
        raise ValueError(f"no day after {d} inside the world")
    return d + DAY * int(world.rng.integers(1, min(max_days, (WORLD_END - d).days) + 1))


def earlier(world: World, d: dt.date, max_days: int) -> dt.date:
    """A day 1..max_days before D (registry dates may precede the world's history)."""
    return d - DAY * int(world.rng.integers(1, max_days + 1))


def amount(world: World, lo: float, hi: float) -> Decimal:
    return money(lo + (hi - lo) * float(world.rng.random()))


def other_village(world: World, village_code: str) -> str:
    while True:
        other = world.village()
        if other != village_code:
            return other


def isolated_village(world: World, town: str | None = None) -> str:
    """A village code no background record uses: towns 101-999 (the world's villages sit in towns
    001-012). With ``town`` (9 digits), another village of that same town."""
    if town is None:
        seq = world.next_seq("village_scenario_town")
        county = COUNTIES[seq % len(COUNTIES)]
        town = f"{county}{101 + (seq // len(COUNTIES)) % 899:03d}"
    return f"{town}{world.next_seq('village_scenario_village:' + town):03d}"


def birth_around(world: World, year: int) -> dt.date:
    return dt.date(min(max(year, 1930), 2006), 1, 1) + dt.timedelta(days=int(world.rng.integers(365)))


# --------------------------------------------------------------------------- people
def _person(world: World, cadre_or_village, relation: str, household_id: str | None, birth_year: int,
            name: str | None = None) -> str:
    village = cadre_or_village.village_code if isinstance(cadre_or_village, Cadre) else cadre_or_village
    return world.new_person(village_code=village, household_id=household_id, relation=relation,
                            name=name or world.name(), birth=birth_around(world, birth_year))


def new_cadre(world: World, village_code: str, *, term_start: dt.date | None = None,
              term_end: dt.date | None = None, salaried_from: dt.date | None = None,
              relation: str = "head", role: str | None = None) -> Cadre:
    """A fresh cadre of the village (own household; with a head parent when ``relation`` is not head)."""
    household = world.new_household_id(village_code[:6])
    year = 1958 + int(world.rng.integers(25))
    head = None
    if relation != "head":  # the cadre lives in a parent's (or a sibling's, a spouse's) household
        head = _person(world, village_code, "head", household, year - 27 if relation == "child" else year)
    name = world.name()
    pid = _person(world, village_code, relation, household, year, name)
    term_start = term_start or dt.date(2021, 3, 1) + DAY * int(world.rng.integers(60))
    world.add("village_cadre", id_number=pid, name=name, village_code=village_code,
              role=role or world.pick(CADRE_ROLES), term_start=term_start, term_end=term_end,
              salaried_from=salaried_from)
    return Cadre(pid, name, village_code, household, relation, head or pid, term_start, term_end)


def _marry(world: World, a: str, b: str, registered: dt.date, dissolved: dt.date | None = None) -> None:
    world.add("marriage", marriage_id=world.next_id("marriage", "HY"), person_a_id=a, person_b_id=b,
              registered_date=registered, dissolved_date=dissolved)


def _old_date(world: World) -> dt.date:
    """A date well before the world's history (weddings, company foundations)."""
    return dt.date(1985, 1, 1) + DAY * int(world.rng.integers(365 * 30))


def cadre_for(world: World, who: str, village_code: str, **term) -> Cadre:
    """A cadre whose household shape lets ``relative``/``non_relative`` build ``who``."""
    relation = {"head_is_parent": "child", "mother_is_spouse_of_head": "child", "brother_in_household": "child",
                "grandchild_of_head": "child", "parent_of_sibling": "sibling", "parent_in_law": "spouse"}.get(who, "head")
    return new_cadre(world, village_code, relation=relation, **term)


def relative(world: World, cadre: Cadre, who: str, d: dt.date) -> str:
    """A person who is, at D, the cadre or a close relative of the cadre (``who`` from RELATIVES)."""
    year = int(cadre.id_number[6:10])
    hh = cadre.household_id
    if who == "self":
        return cadre.id_number
    if who == "spouse_married":          # same household, and a marriage row that holds at D
        p = _person(world, cadre, "spouse", hh, year)
        _marry(world, cadre.id_number, p, _old_date(world))
        return p
    if who == "spouse_household":        # household head-spouse, no marriage row at all
        return _person(world, cadre, "spouse", hh, year)
    if who == "spouse_elsewhere":        # marriage row only, registered in another household
        p = _person(world, cadre, "head", None, year)
        _marry(world, p, cadre.id_number, _old_date(world))
        return p
    if who == "spouse_newlywed":         # married on the very date
        p = _person(world, cadre, "head", None, year)
        _marry(world, cadre.id_number, p, d)
        return p
    if who in ("child", "parent", "sibling"):   # cadre is head
        return _person(world, cadre, who, hh, year + {"child": 27, "parent": -27, "sibling": 2}[who])
    if who == "head_is_parent":           # cadre is a child of the head
        return cadre.head_id
    if who == "mother_is_spouse_of_head":
        return _person(world, cadre, "spouse", hh, year - 26)
    if who == "brother_in_household":      # two children of the head
        return _person(world, cadre, "child", hh, year + 3)
    if who == "parent_of_sibling":         # cadre is the head's sibling; the parent is both's parent
        return _person(world, cadre, "parent", hh, year - 27)
    raise ValueError(f"unknown relative kind {who!r}")


def non_relative(world: World, cadre: Cadre, who: str, d: dt.date) -> str:
    """A person who looks related to the cadre but is NOT a close relative at D (``who`` from NON_RELATIVES)."""
    year = int(cadre.id_number[6:10])
    hh = cadre.household_id
    if who == "namesake":                  # same name, different id_number, same village
        return _person(world, cadre, "head", None, year + int(world.rng.integers(-8, 9)), cadre.name)
    if who == "ex_spouse_household":      # still registered as the head's spouse, marriage dissolved before D
        p = _person(world, cadre, "spouse", hh, year)
        _marry(world, cadre.id_number, p, _old_date(world), earlier(world, d, 200))
        return p
    if who == "ex_spouse_dissolved_on_date":  # dissolved ON D: "dissolved_date after D" fails
        p = _person(world, cadre, "head", None, year)
        _marry(world, p, cadre.id_number, _old_date(world), d)
        return p
    if who == "in_law":
        return _person(world, cadre, "other", hh, year)
    if who == "grandchild":                # head-grandchild is not a close pair
        return _person(world, cadre, "grandchild", hh, year + 50)
    if who == "grandchild_of_head":        # the cadre is a child of the head; child-grandchild is not a close pair
        return _person(world, cadre, "grandchild", hh, year + 26)
    if who == "spouse_of_child":           # related to the cadre's child, not (transitively) to the cadre
        child = _person(world, cadre, "child", hh, year + 27)
        p = _person(world, cadre, "head", None, year + 27)
        _marry(world, child, p, _old_date(world))
        return p
    if who == "parent_in_law":             # the cadre is the head's spouse; spouse-parent is not a close pair
        return _person(world, cadre, "parent", hh, year - 27)
    if who == "future_spouse":             # married only after D
        p = _person(world, cadre, "head", None, year)
        _marry(world, cadre.id_number, p, later(world, d, 60))
        return p
    raise ValueError(f"unknown non-relative kind {who!r}")


# --------------------------------------------------------------------------- companies
def _company_name(world: World) -> str:
    return f"{world.name()[:1]}{world.pick(list('鑫盛宏泰华隆源达兴旺'))}{world.pick(['建设', '建材', '工程', '园林', '劳务'])}有限公司"


def new_company(world: World, region_code: str, legal_rep: str | None = None, *, established: dt.date | None = None,
                deregistered: dt.date | None = None) -> Party:
    """A company with a legal rep (a fresh stranger when none is given)."""
    name = _company_name(world)
    legal_rep = legal_rep or world.new_person(region_code=region_code)
    code = world.new_company(region_code=region_code, legal_rep_id=legal_rep, name=name,
                             established=established or _old_date(world), deregistered=deregistered)
    return Party(code, "company", name)


def _hold(world: World, company: str, holder: str, ratio: float, start: dt.date, end: dt.date | None = None,
          holder_type: str = "person") -> None:
    world.add("shareholder", credit_code=company, holder_id=holder, holder_type=holder_type,
              share_ratio=ratio, from_date=start, to_date=end)


def person_party(world: World, person: str) -> Party:
    return Party(person, "person", world.recent("person", "id_number", person)["name"])


def party(world: World, person: str, via: str, d: dt.date, region_code: str) -> Party:
    """The person (``via`` person) or a company they are tied to at D (legal_rep / shareholder)."""
    if via == "person":
        return person_party(world, person)
    if via == "legal_rep":   # some companies deregistered exactly on D: still held on D
        dereg = d if world.rng.random() < 0.2 else None
        return new_company(world, region_code, person, deregistered=dereg)
    if via == "shareholder":  # 5 % exactly counts; some holdings start or end on D
        company = new_company(world, region_code)
        ratio = world.pick([0.05, 0.1, 0.3, 0.51])
        start = d if world.rng.random() < 0.2 else _old_date(world)
        end = d if world.rng.random() < 0.2 else None
        _hold(world, company.id, person, ratio, start, end)
        return company
    raise ValueError(f"unknown via {via!r}")


def company_lookalike(world: World, person: str, kind: str, d: dt.date, region_code: str) -> Party:
    """A company that looks tied to the person but is NOT at D (``kind`` from COMPANY_LOOKALIKES)."""
    if kind == "small_share":       # two 4.9 % and 3 % rows: each judged alone, never summed
        company = new_company(world, region_code)
        _hold(world, company.id, person, 0.049, _old_date(world))
        _hold(world, company.id, person, 0.03, _old_date(world))
        return company
    if kind == "share_ended":
        company = new_company(world, region_code)
        _hold(world, company.id, person, 0.4, _old_date(world), earlier(world, d, 90))
        return company
    if kind == "share_not_started":
        company = new_company(world, region_code)
        _hold(world, company.id, person, 0.4, later(world, d, 90))
        return company
    if kind == "deregistered":
        return new_company(world, region_code, person, deregistered=earlier(world, d, 90))
    if kind == "not_established":
        return new_company(world, region_code, person, established=later(world, d, 30))
    if kind == "held_by_company":   # the person's company holds it: company shareholders are not followed
        own = new_company(world, region_code, person)
        company = new_company(world, region_code)
        _hold(world, company.id, own.id, 0.6, _old_date(world), holder_type="company")
        return company
    raise ValueError(f"unknown company lookalike {kind!r}")


def stranger(world: World, village_code: str, party_type: str = "company") -> Party:
    """A fresh person or company tied to nobody."""
    if party_type == "person":
        return person_party(world, _person(world, village_code, "head", None, 1960 + int(world.rng.integers(30))))
    return new_company(world, village_code[:6])


# --------------------------------------------------------------------------- ready-made parties
def related_party(world: World, cadre: Cadre, who: str, via: str, d: dt.date) -> Party:
    """A related party of the cadre at D: ``who`` (RELATIVES) reached ``via`` (VIAS)."""
    return party(world, relative(world, cadre, who, d), via, d, cadre.village_code[:6])


def positive_recipe(i: int, vias: tuple[str, ...] = VIAS) -> tuple[str, str, str]:
    """The i-th positive's (who, via, term) so that every relative kind, via and term edge occurs.

    term: ``open`` (no end), ``ends_on_date`` (term_end = D: still a cadre on D) or
    ``starts_on_date`` (term_start = D).
    """
    who = RELATIVES[i % len(RELATIVES)]
    via = vias[(i + i // len(RELATIVES)) % len(vias)]
    term = ("open", "open", "open", "open", "ends_on_date", "starts_on_date")[i % 6]
    return who, via, term


def term_for(world: World, kind: str, d: dt.date) -> dict:
    """new_cadre keyword arguments for a term kind relative to D."""
    if kind == "ends_on_date":
        return {"term_start": dt.date(2021, 3, 15), "term_end": d}
    if kind == "starts_on_date":
        return {"term_start": d}
    if kind == "ended":        # ended before D
        return {"term_start": dt.date(2021, 3, 15), "term_end": earlier(world, d, 120)}
    if kind == "not_started":  # starts after D
        return {"term_start": later(world, d, 60)}
    return {}


def related_cadre_party(world: World, village_code: str, d: dt.date, i: int,
                        vias: tuple[str, ...] = VIAS) -> tuple[Cadre, Party, str]:
    """The i-th positive recipe made real: a fresh cadre of the village and a related party at D."""
    who, via, term = positive_recipe(i, vias)
    cadre = cadre_for(world, who, village_code, **term_for(world, term, d))
    return cadre, related_party(world, cadre, who, via, d), f"{who} via {via}, term {term}"


# Decoy kinds shared by the branches that ask "is X a related party of a cadre of V at D".
PARTY_DECOYS = (*NON_RELATIVES, *COMPANY_LOOKALIKES, "ended_term", "not_yet_in_term", "another_village")


def unrelated_party(world: World, village_code: str, d: dt.date, kind: str,
                    vias: tuple[str, ...] = VIAS) -> tuple[Cadre | None, Party, str]:
    """A party that looks like a cadre's related party for a record of ``village_code`` at D but is not.

    ``another_village`` returns a party related to a cadre of a DIFFERENT village (the record
    belongs to ``village_code``). Company-only callers (tender winners) pass vias without person;
    person lookalikes then come as the legal rep of a company.
    """
    company_only = "person" not in vias
    if kind in NON_RELATIVES:
        cadre = cadre_for(world, kind, village_code)
        person = non_relative(world, cadre, kind, d)
        via = "legal_rep" if company_only else world.pick(["person", "legal_rep"])
        return cadre, party(world, person, via, d, village_code[:6]), f"{kind} via {via}"
    if kind in COMPANY_LOOKALIKES:
        cadre = new_cadre(world, village_code)
        return cadre, company_lookalike(world, cadre.id_number, kind, d, village_code[:6]), kind
    if kind in ("ended_term", "not_yet_in_term"):
        cadre = new_cadre(world, village_code, **term_for(world, "ended" if kind == "ended_term" else "not_started", d))
        via = world.pick(vias)
        return cadre, party(world, cadre.id_number, via, d, village_code[:6]), f"{kind} (self via {via})"
    if kind == "another_village":
        cadre = new_cadre(world, other_village(world, village_code))
        via = world.pick(vias)
        return cadre, party(world, cadre.id_number, via, d, village_code[:6]), f"cadre of {cadre.village_code}"
    raise ValueError(f"unknown party decoy {kind!r}")
