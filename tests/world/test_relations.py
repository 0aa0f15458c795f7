"""The oracle's shared definitions (models.md "Shared definitions"), pinned on tiny hand-built registries."""
from __future__ import annotations

import datetime as dt

import pytest

from orchestration.world.scenarios._frames import frame
from orchestration.world.scenarios._relations import Relations, held_at, held_during

D = dt.date(2026, 5, 10)
DAY = dt.timedelta(days=1)


def household(hid: str, **members: str) -> list[dict]:
    """Person rows of one household: ``household("H1", head="P1", spouse="P2")``; repeat a role with a suffix."""
    return [{"id_number": pid, "household_id": hid, "relation_to_head": role.rstrip("0123456789")}
            for role, pid in members.items()]


def relations(persons=(), marriages=(), companies=(), shareholders=()) -> Relations:
    return Relations({"person": frame("person", list(persons)), "marriage": frame("marriage", list(marriages)),
                      "company": frame("company", list(companies)), "shareholder": frame("shareholder", list(shareholders))})


def test_at_date_is_inclusive_and_null_start_never_holds():
    assert held_at(D, D, D)
    assert not held_at(D + DAY, None, D)
    assert not held_at(D - DAY * 5, D - DAY, D)
    assert not held_at(None, None, D)
    assert held_during(D, None, D - DAY * 30, D)
    assert not held_during(D + DAY, None, D - DAY * 30, D)


@pytest.mark.parametrize("a,b,close", [
    ("head", "child", True), ("spouse", "child", True), ("head", "parent", True), ("sibling", "parent", True),
    ("child", "child", True), ("head", "sibling", True), ("sibling", "sibling", True),
    ("spouse", "parent", False), ("child", "grandchild", False), ("head", "grandchild", False),
    ("head", "other", False), ("child", "sibling", False), ("spouse", "sibling", False),
])
def test_household_pairs(a, b, close):
    rel = relations(household("H1", **{a + "1": "P1", b + "2": "P2"}))
    assert ("P2" in rel.close_relatives("P1", D)) is close
    assert ("P1" in rel.close_relatives("P2", D)) is close  # symmetric


def test_not_transitive_and_households_do_not_mix():
    rel = relations(household("H1", head="P1", child="P2") + household("H2", head="P2x", child="P3"))
    assert rel.close_relatives("P1", D) == {"P2"}
    assert "P3" not in rel.close_relatives("P1", D)


def test_marriage_dates_and_household_spouse_fallback():
    rel = relations(household("H1", head="A", spouse="B") + household("H2", head="C", spouse="E"),
                    marriages=[{"person_a_id": "A", "person_b_id": "B", "registered_date": D - DAY * 100,
                                "dissolved_date": D}])
    assert "B" not in rel.spouses("A", D)          # dissolved ON the date: no longer married
    assert "B" in rel.spouses("A", D - DAY)        # the day before: married
    assert "B" not in rel.spouses("A", D + DAY)    # the marriage row, not the household, decides
    assert rel.spouses("C", D) == {"E"}            # no marriage row between them: household pair counts
    rel = relations(marriages=[{"person_a_id": "A", "person_b_id": "B", "registered_date": D}])
    assert rel.spouses("B", D) == {"A"} and rel.spouses("B", D - DAY) == set()


def test_related_parties_legal_rep_and_shareholders():
    rel = relations(
        household("H1", head="P", child="K"),
        companies=[{"credit_code": "C1", "legal_rep_id": "K", "established_date": D - DAY * 10, "deregistered_date": D},
                   {"credit_code": "C2", "legal_rep_id": "Z", "established_date": D - DAY * 10},
                   {"credit_code": "C3", "legal_rep_id": "Z", "established_date": D - DAY * 10}],
        shareholders=[{"credit_code": "C2", "holder_id": "P", "holder_type": "person", "share_ratio": 0.05, "from_date": D},
                      {"credit_code": "C3", "holder_id": "P", "holder_type": "person", "share_ratio": 0.03, "from_date": D},
                      {"credit_code": "C3", "holder_id": "P", "holder_type": "person", "share_ratio": 0.03, "from_date": D},
                      {"credit_code": "C4", "holder_id": "C2", "holder_type": "company", "share_ratio": 0.9, "from_date": D}])
    parties = rel.related_parties("P", D)
    assert parties == {"P", "K", "C1", "C2"}       # C3: two 3 % rows are not summed; C4: company holder not followed
    assert rel.related_parties("P", D + DAY) == {"P", "K", "C2"}   # C1 deregistered on D: holds on D only
    assert rel.related_parties("P", D - DAY) == {"P", "K", "C1"}   # C2 holding starts on D
    for x in ("P", "K", "C1", "C2", "C3", "C4", "Z", None):
        assert rel.is_related_party(x, "P", D) is (x in parties)


def test_persons_tied_and_period_ties():
    rel = relations(companies=[{"credit_code": "C1", "legal_rep_id": "R", "established_date": D}],
                    shareholders=[{"credit_code": "C1", "holder_id": "S", "holder_type": "person", "share_ratio": 0.5,
                                   "from_date": D - DAY * 40, "to_date": D - DAY * 20}])
    assert rel.persons_tied("C1", D) == {"R"}
    assert rel.persons_tied("C1", D - DAY * 30) == {"S"}
    assert rel.companies_tied_during({"S"}, D - DAY * 19, D) == set()
    assert rel.companies_tied_during({"S"}, D - DAY * 20, D) == {"C1"}


def test_roster_terms_salaries_and_posts():
    from orchestration.world.scenarios._relations import Roster
    roster = Roster({
        "village_cadre": frame("village_cadre", [
            {"id_number": "C1", "village_code": "V1", "term_start": D - DAY * 100, "term_end": D, "salaried_from": D},
            {"id_number": "C2", "village_code": "V1", "term_start": D - DAY * 100, "salaried_from": D + DAY},
            {"id_number": "C3", "village_code": "V1", "term_start": None}]),
        "public_official": frame("public_official", [
            {"id_number": "O1", "org_code": "G1", "start_date": D - DAY, "end_date": D}])})
    assert roster.cadres_of("V1", D) == {"C1", "C2"}
    assert roster.cadres_of("V1", D + DAY) == {"C2"}
    assert roster.is_salaried_cadre("C1", "V1", D) and not roster.is_salaried_cadre("C1", "V2", D)
    assert not roster.is_salaried_cadre("C2", "V1", D)   # salaried only from the next day
    assert roster.in_post("O1", D) and not roster.in_post("O1", D + DAY)
    assert roster.in_post("O1", D, "G1") and not roster.in_post("O1", D, "G2")
    assert roster.officials_at("G1", D) == {"O1"} and roster.officials_at("G1", D + DAY) == set()


def test_asking_from_the_partys_side_agrees_with_the_definition():
    """related_to_a_cadre (asked from X's side) equals 'X in related_parties(C, D) for a cadre C'."""
    from orchestration.world.core import World
    from orchestration.world.scenarios import sm01
    from orchestration.world.scenarios._frames import frames
    from orchestration.world.scenarios._relations import Roster, related_to_a_cadre

    world = World(3, 0.01)
    sm01.plant(world)
    tables = frames(world)
    rel, roster = Relations(tables), Roster(tables)
    records = [(r["contractor_id"], r["village_code"], r["approved_date"]) for r in world.tables["village_project"]]
    records += [(r["payee_id"], r["village_code"], r["pay_date"]) for r in world.tables["village_payment"]]
    verdicts = []
    for party, village, d in records:
        by_definition = any(party in rel.related_parties(c, d) for c in roster.cadres_of(village, d))
        assert related_to_a_cadre(party, village, d, roster, rel) is by_definition, (party, village, d)
        verdicts.append(by_definition)
    assert any(verdicts) and not all(verdicts)
