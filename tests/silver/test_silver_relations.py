"""The relation model and the related_parties / close_relatives macros against the truth oracle's
own implementation of models.md (orchestration/world/scenarios/_relations.py), on the real
pipeline's build of the small world: for a sample of (person, date) questions, among them both
sides of every dissolved marriage on and before its dissolution date, the SQL answer is the
oracle's answer, party for party."""
from __future__ import annotations

import polars as pl
import pytest

from relations_oracle import clean_tables, oracle_parties, questions, sql_parties

pytestmark = pytest.mark.slow

QUESTIONS = 3000


def compiled_inline(world, sql: str) -> str:
    """`sql` compiled by dbt in the built project (macros and refs resolved)."""
    result = world.dbt("compile", "--inline", sql)
    assert result.success, result.exception
    return result.result.results[0].node.compiled_code


@pytest.fixture(scope="module")
def asked(built_world):
    tables = clean_tables(built_world.lake)
    return tables, questions(tables, QUESTIONS)


@pytest.mark.parametrize("macro, relatives_only", [
    ("{{ related_parties('anchors', 'anchor_ref', 'at_date', 0.05) }}", False),
    ("{{ close_relatives('anchors', 'anchor_ref', 'at_date') }}", True),
])
def test_sql_answers_are_the_oracle_answers(built_world, asked, macro, relatives_only):
    tables, questions_asked = asked
    want = oracle_parties(tables, questions_asked, built_world.key, relatives_only=relatives_only)
    got = sql_parties(compiled_inline(built_world, macro), built_world.lake / "warehouse.duckdb",
                      questions_asked, built_world.key)
    assert len(want) > QUESTIONS  # the sample reaches relatives and companies, not only 'self'
    assert got == want, {"missing": sorted(want - got)[:10], "extra": sorted(got - want)[:10]}


def test_asking_for_one_party_answers_as_the_oracle(built_world, asked):
    """related_parties(..., party=...) (cadre_related's form): asked about each of the oracle's
    parties of a question and about a decoy (another question's party), it finds exactly the
    oracle's."""
    import random

    import duckdb

    from orchestration.pseudonym import person_ref

    tables, questions_asked = asked
    want = oracle_parties(tables, questions_asked, built_world.key)
    parties = sorted({party for _, party in want})
    rng = random.Random(5)
    pairs = sorted(want | {(i, rng.choice(parties)) for i in range(len(questions_asked))})
    rows = [(i, person_ref(questions_asked[i][0], key=built_world.key), questions_asked[i][1], party)
            for i, party in pairs]
    sql = compiled_inline(built_world, "{{ related_parties('anchors', 'anchor_ref', 'at_date', 0.05, "
                                       "party='asked_party') }}")
    with duckdb.connect(str(built_world.lake / "warehouse.duckdb"), read_only=True) as con:
        con.register("anchors", pl.DataFrame(rows, orient="row", schema=["question_no", "anchor_ref", "at_date",
                                                                          "asked_party"]).to_arrow())
        got = set(con.execute(f"select question_no, party_ref from ({sql}) where party_ref = asked_party").fetchall())
        found_rows = con.execute(f"select count(*) from ({sql})").fetchone()[0]
    assert len(pairs) > len(want)  # decoys were asked
    assert got == want, {"missing": sorted(want - got)[:10], "extra": sorted(got - want)[:10]}
    assert found_rows == len(want)  # only the asked party is returned


def test_min_share_is_an_expression_of_the_anchor_row(built_world):
    """A per-row threshold (as gold passes the one resolved for the record's region): a person's
    own holding counts at 0.05 and not at 1.01."""
    (holding,) = built_world.query("""
        select from_ref, to_ref, share_ratio, valid_from as d
        from silver.relation as r
        where relation_type = 'shareholder' and share_ratio >= 0.05 and valid_from is not null
            and not exists (select 1 from silver.relation as l where l.relation_type = 'legal_rep'
                            and l.to_ref = r.to_ref and l.from_ref = r.from_ref)
        order by relation_key limit 1""")
    sql = compiled_inline(built_world, """
        with anchors as (
            select * from (values (1, 0.05), (2, 1.01)) as t(question_no, threshold)
            cross join (select '{ref}' as anchor_ref, date '{d}' as at_date)
        )
        select question_no, party_ref, relation_path
        from ({{{{ related_parties('anchors', 'anchor_ref', 'at_date', 'threshold') }}}})
    """.format(ref=holding["from_ref"], d=holding["d"]))
    import duckdb

    with duckdb.connect(str(built_world.lake / "warehouse.duckdb"), read_only=True) as con:
        rows = set(con.execute(sql).fetchall())
    assert (1, holding["to_ref"], "self→shareholder") in rows
    assert (2, holding["to_ref"], "self→shareholder") not in rows
