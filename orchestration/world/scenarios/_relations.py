"""The oracle's shared definitions of models.md ("Shared definitions"), indexed over clean frames.

Every truth oracle that asks "is X a related party of P at D" uses this one implementation, so the
definitions are written once, word for word:

- At date D: a row with validity [start, end] holds when start <= D and (end is null or D <= end);
  a null start holds at no date. (``held_at``; ``held_during`` is the "on some day of a period"
  form SM07 needs: the interval overlaps [first, last].)
- Spouses of P at D: a ``marriage`` row with P on either side, registered on or before D and with
  dissolved_date null or AFTER D (so a marriage dissolved on D no longer holds on D: the spec
  says "after", not "on or after"); and, where no marriage row at all exists between the two
  (whatever its dates), the head and a spouse of one household (relation_to_head head/spouse).
- Close relatives of P at D: spouses at D, plus the household pairs head-child, spouse-child,
  head-parent, sibling-parent, child-child, head-sibling, sibling-sibling (person is the latest
  snapshot: these pairs hold at every date). Symmetric, never transitive; P is not its own
  relative.
- Cadre of village V at D: a ``village_cadre`` row for V valid at D (term_start..term_end);
  salaried cadre: additionally salaried_from <= D (null salaried_from: never salaried).
  Official in post at D: a ``public_official`` row valid at D (start_date..end_date). (``Roster``)
- Related parties of P at D: P, P's close relatives at D, and every company of which any of them
  is at D the legal rep (established_date..deregistered_date, open when null) or a person
  shareholder (holder_type person) whose own row has share_ratio >= min_share and is valid at D
  (from_date..to_date). Rows are judged alone (nothing summed); company shareholders are not
  followed.

  The company's status column is not read: only its dates decide (a revoked company without a
  deregistered_date keeps its legal rep).

Identity is by id_number / credit_code as the clean rows carry them (clean rows are already
normalised; the renderer adds noise later), never by name.

API: ``Relations(tables)`` (spouses, close_relatives, family, related_parties, is_related_party,
companies_tied, companies_tied_during, persons_tied), ``Roster(tables)`` (cadres_of,
is_salaried_cadre, in_post, officials_at), ``related_to_a_cadre``, ``held_at``, ``held_during``,
``rows_of`` (columns of a frame as tuples) and ``registry_around`` (the few registry rows that
answer every question about some persons and companies, so that an oracle judging a group of
records indexes those instead of the whole registry).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

import polars as pl

from orchestration.world.scenarios._frames import collect, lazy, matching

DEFAULT_MIN_SHARE = 0.05

# Household pairs (relation_to_head of one member, of the other) that make close relatives.
# Listed one way; the index adds both directions (relations are symmetric).
CLOSE_HOUSEHOLD_PAIRS = frozenset({
    ("head", "child"), ("spouse", "child"),        # parent and child
    ("head", "parent"), ("sibling", "parent"),     # child and parent
    ("child", "child"), ("head", "sibling"), ("sibling", "sibling"),  # siblings
})
_CLOSE_PAIRS_BOTH_WAYS = CLOSE_HOUSEHOLD_PAIRS | {(b, a) for a, b in CLOSE_HOUSEHOLD_PAIRS}


def held_at(start: dt.date | None, end: dt.date | None, d: dt.date) -> bool:
    """"At date D": start <= D and (end is null or D <= end); a null start never holds."""
    return start is not None and start <= d and (end is None or d <= end)


def held_during(start: dt.date | None, end: dt.date | None, first: dt.date, last: dt.date) -> bool:
    """Held on some day of [first, last]: the validity interval overlaps the period."""
    return start is not None and start <= last and (end is None or first <= end)


def rows_of(tables: dict[str, pl.DataFrame | pl.LazyFrame], entity: str, columns: list[str]) -> Iterable[tuple]:
    """The given columns of an entity's frame as tuples (no rows when the entity is absent)."""
    df = tables.get(entity)
    if df is None:
        return []
    if isinstance(df, pl.LazyFrame):
        df = collect(df.select(columns))
    if df.height == 0:
        return []
    return zip(*(df.get_column(c).to_list() for c in columns))


def registry_around(tables: dict[str, pl.DataFrame | pl.LazyFrame], persons: Iterable[str | None] = (),
                    companies: Iterable[str | None] = ()) -> dict[str, pl.DataFrame]:
    """The registry rows (person, marriage, company, shareholder) that decide the shared
    definitions around ``persons`` and ``companies``: every member of the households the persons
    live in, the marriages they are part of, and every company and shareholder row of the given
    companies and of the companies the persons represent or hold shares in.

    ``Relations`` over these rows answers exactly as over the whole registry about the persons'
    close relatives and company ties, the given companies' tied persons, and whether anyone is a
    related party of one of the persons (a relative of P lives in P's household or is married to
    P; a company reaches P only through its own rows).
    """
    persons = sorted({p for p in persons if p is not None})
    people = lazy(tables, "person")
    households = collect(people.filter(pl.col("id_number").is_in(persons)).select("household_id").drop_nulls().unique())
    codes = {c for c in companies if c is not None}
    for entity, column in (("company", "legal_rep_id"), ("shareholder", "holder_id")):
        tied = collect(lazy(tables, entity).filter(pl.col(column).is_in(persons)).select("credit_code"))
        codes.update(tied.get_column("credit_code").drop_nulls().to_list())
    codes = sorted(codes)
    return {
        "person": matching(tables, "person", households),
        "marriage": collect(lazy(tables, "marriage").filter(
            pl.col("person_a_id").is_in(persons) | pl.col("person_b_id").is_in(persons))),
        "company": collect(lazy(tables, "company").filter(pl.col("credit_code").is_in(codes))),
        "shareholder": collect(lazy(tables, "shareholder").filter(pl.col("credit_code").is_in(codes))),
    }


class Relations:
    """Index of the registries the shared definitions read: person, marriage, company, shareholder.

    Build over a registry (the whole one, or ``registry_around``'s rows) and ask per (person, date).
    """

    def __init__(self, tables: dict[str, pl.DataFrame]) -> None:
        self._household_relatives: dict[str, set[str]] = defaultdict(set)
        self._household_spouses: dict[str, set[str]] = defaultdict(set)
        self._marriages: dict[str, list[tuple[str, dt.date | None, dt.date | None]]] = defaultdict(list)
        self._married_pairs: set[frozenset[str]] = set()
        # person -> [(credit_code, start, end)] for legal-rep terms and shareholdings;
        # company -> [(person, start, end, share_ratio or None)] for the reverse question.
        self._legal_rep_of: dict[str, list[tuple[str, dt.date | None, dt.date | None]]] = defaultdict(list)
        self._holdings_of: dict[str, list[tuple[str, dt.date | None, dt.date | None, float]]] = defaultdict(list)
        self._persons_of_company: dict[str, list[tuple[str, dt.date | None, dt.date | None, float | None]]] = defaultdict(list)
        self._index_marriages(tables)
        self._index_households(tables)
        self._index_companies(tables)

    # ------------------------------------------------------------------ building
    def _index_marriages(self, tables: dict[str, pl.DataFrame]) -> None:
        for a, b, registered, dissolved in rows_of(tables, "marriage",
                                                 ["person_a_id", "person_b_id", "registered_date", "dissolved_date"]):
            if a is None or b is None or a == b:
                continue
            self._marriages[a].append((b, registered, dissolved))
            self._marriages[b].append((a, registered, dissolved))
            self._married_pairs.add(frozenset((a, b)))

    def _index_households(self, tables: dict[str, pl.DataFrame]) -> None:
        members: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for pid, household, relation in rows_of(tables, "person", ["id_number", "household_id", "relation_to_head"]):
            if pid is not None and household is not None and relation is not None:
                members[household].append((pid, relation))
        for people in members.values():
            for i, (p, rel_p) in enumerate(people):
                for q, rel_q in people[i + 1:]:
                    if p == q:
                        continue
                    if (rel_p, rel_q) in _CLOSE_PAIRS_BOTH_WAYS:
                        self._household_relatives[p].add(q)
                        self._household_relatives[q].add(p)
                    elif {rel_p, rel_q} == {"head", "spouse"}:
                        self._household_spouses[p].add(q)
                        self._household_spouses[q].add(p)

    def _index_companies(self, tables: dict[str, pl.DataFrame]) -> None:
        for code, rep, established, deregistered in rows_of(
                tables, "company", ["credit_code", "legal_rep_id", "established_date", "deregistered_date"]):
            if code is None or rep is None:
                continue
            self._legal_rep_of[rep].append((code, established, deregistered))
            self._persons_of_company[code].append((rep, established, deregistered, None))
        for code, holder, holder_type, ratio, start, end in rows_of(
                tables, "shareholder", ["credit_code", "holder_id", "holder_type", "share_ratio", "from_date", "to_date"]):
            if code is None or holder is None or holder_type != "person" or ratio is None:
                continue  # company shareholders are not followed
            self._holdings_of[holder].append((code, start, end, ratio))
            self._persons_of_company[code].append((holder, start, end, ratio))

    # ------------------------------------------------------------------ persons
    def spouses(self, p: str, d: dt.date) -> set[str]:
        """Spouses of P at D (marriage rows; household head-spouse only without any marriage row)."""
        out = {other for other, registered, dissolved in self._marriages.get(p, ())
               if registered is not None and registered <= d and (dissolved is None or dissolved > d)}
        out |= {other for other in self._household_spouses.get(p, ())
                if frozenset((p, other)) not in self._married_pairs}
        return out

    def close_relatives(self, p: str, d: dt.date) -> set[str]:
        """Close relatives of P at D: spouses at D, parents, children and siblings (P excluded)."""
        return (self.spouses(p, d) | self._household_relatives.get(p, set())) - {p}

    def family(self, p: str, d: dt.date) -> set[str]:
        """P and P's close relatives at D: the persons among P's related parties."""
        return self.close_relatives(p, d) | {p}

    # ------------------------------------------------------------------ companies
    def companies_tied(self, persons: Iterable[str], d: dt.date, min_share: float = DEFAULT_MIN_SHARE) -> set[str]:
        """Companies of which any of ``persons`` is, at D, legal rep or a shareholder >= min_share."""
        out: set[str] = set()
        for p in persons:
            out |= {code for code, start, end in self._legal_rep_of.get(p, ()) if held_at(start, end, d)}
            out |= {code for code, start, end, ratio in self._holdings_of.get(p, ())
                    if ratio >= min_share and held_at(start, end, d)}
        return out

    def companies_tied_during(self, persons: Iterable[str], first: dt.date, last: dt.date,
                              min_share: float = DEFAULT_MIN_SHARE) -> set[str]:
        """Companies with a legal-rep or shareholder (>= min_share) tie valid on some day of [first, last]."""
        out: set[str] = set()
        for p in persons:
            out |= {code for code, start, end in self._legal_rep_of.get(p, ()) if held_during(start, end, first, last)}
            out |= {code for code, start, end, ratio in self._holdings_of.get(p, ())
                    if ratio >= min_share and held_during(start, end, first, last)}
        return out

    def persons_tied(self, company: str, d: dt.date, min_share: float = DEFAULT_MIN_SHARE) -> set[str]:
        """Persons who are, at D, legal rep of ``company`` or its person shareholder >= min_share."""
        return {p for p, start, end, ratio in self._persons_of_company.get(company, ())
                if (ratio is None or ratio >= min_share) and held_at(start, end, d)}

    def related_parties(self, p: str, d: dt.date, min_share: float = DEFAULT_MIN_SHARE) -> set[str]:
        """Related parties of P at D: P, close relatives, and the companies any of them is tied to."""
        persons = self.family(p, d)
        return persons | self.companies_tied(persons, d, min_share)

    def is_related_party(self, x: str, p: str, d: dt.date, min_share: float = DEFAULT_MIN_SHARE) -> bool:
        """Is X (an id_number or a credit_code) a related party of P at D?

        Equivalent to ``x in related_parties(p, d)`` but asked from X's side, which is cheaper when
        many records are judged against a few persons each.
        """
        if x is None:
            return False
        family = self.family(p, d)
        if x in family:
            return True
        return not family.isdisjoint(self.persons_tied(x, d, min_share))


class CadreTerm(NamedTuple):
    """One ``village_cadre`` row: a person's term in a village."""
    id_number: str
    village_code: str
    term_start: dt.date | None
    term_end: dt.date | None
    salaried_from: dt.date | None

    def holds_at(self, d: dt.date) -> bool:
        return held_at(self.term_start, self.term_end, d)

    def salaried_at(self, d: dt.date) -> bool:
        return self.holds_at(d) and self.salaried_from is not None and self.salaried_from <= d


class Roster:
    """Index of ``village_cadre`` (by village and by person) and ``public_official`` (by person)."""

    def __init__(self, tables: dict[str, pl.DataFrame]) -> None:
        self.terms_by_village: dict[str, list[CadreTerm]] = defaultdict(list)
        self.terms_by_person: dict[str, list[CadreTerm]] = defaultdict(list)
        for row in rows_of(tables, "village_cadre", ["id_number", "village_code", "term_start", "term_end", "salaried_from"]):
            term = CadreTerm(*row)
            if term.id_number is None or term.village_code is None:
                continue
            self.terms_by_village[term.village_code].append(term)
            self.terms_by_person[term.id_number].append(term)
        self.posts_by_person: dict[str, list[tuple[str, dt.date | None, dt.date | None]]] = defaultdict(list)
        self.posts_by_org: dict[str, list[tuple[str, dt.date | None, dt.date | None]]] = defaultdict(list)
        for pid, org, start, end in rows_of(tables, "public_official", ["id_number", "org_code", "start_date", "end_date"]):
            if pid is not None:
                self.posts_by_person[pid].append((org, start, end))
                self.posts_by_org[org].append((pid, start, end))

    def cadres_of(self, village_code: str, d: dt.date) -> set[str]:
        """Persons who are cadres of the village at D."""
        return {t.id_number for t in self.terms_by_village.get(village_code, ()) if t.holds_at(d)}

    def is_salaried_cadre(self, person: str, village_code: str, d: dt.date) -> bool:
        return any(t.village_code == village_code and t.salaried_at(d) for t in self.terms_by_person.get(person, ()))

    def officials_at(self, org_code: str, d: dt.date) -> set[str]:
        """Officials in post at D at the organisation ``org_code``."""
        return {p for p, s, e in self.posts_by_org.get(org_code, ()) if held_at(s, e, d)}

    def in_post(self, person: str, d: dt.date, org_code: str | None = None) -> bool:
        """Is the person an official in post at D (anywhere, or at ``org_code``)?"""
        return any((org_code is None or org == org_code) and held_at(s, e, d)
                   for org, s, e in self.posts_by_person.get(person, ()))


def related_to_a_cadre(x: str | None, village_code: str, d: dt.date, roster: Roster, relations: Relations,
                       min_share: float = DEFAULT_MIN_SHARE) -> bool:
    """Is X a related party, at D, of some cadre of the village at D?

    Asked from X's side, which is equivalent because relations are symmetric: X is a related
    party of C when X is C or a close relative of C, or X is a company whose tied persons at D
    include C or a close relative of C.
    """
    if x is None:
        return False
    cadres = roster.cadres_of(village_code, d)
    if not cadres:
        return False
    persons = relations.persons_tied(x, d, min_share) | {x}
    return any(q in cadres or not cadres.isdisjoint(relations.close_relatives(q, d)) for q in persons)
