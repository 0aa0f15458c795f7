"""silver.relation is built incrementally by the source keys a build touches
(models/silver/relation.sql, strategy replace_by_source): after a day that moves, drops and
re-types persons, adds and drops marriage rows, and changes, empties and drops company,
shareholder, official and cadre rows, the incremental build equals a full build of the same silver
tables, edge for edge, and an untouched household keeps its edges.

The silver tables are written by hand (only the columns relation reads), so each case is
explicit; dbt builds `relation` alone over them."""
from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest

from orchestration.settings import DBT_PROJECT_DIR

DAY1 = dt.datetime(2026, 10, 1, 23, tzinfo=dt.timezone.utc)
DAY2 = dt.datetime(2026, 10, 2, 23, tzinfo=dt.timezone.utc)

TABLES = {
    "person": "person_ref varchar, household_id varchar, relation_to_head varchar, ingested_at timestamptz",
    "marriage": "marriage_id varchar, person_a_ref varchar, person_b_ref varchar, registered_date date, "
                "dissolved_date date, ingested_at timestamptz",
    "company": "company_key varchar, credit_code varchar, legal_rep_ref varchar, established_date date, "
               "deregistered_date date, ingested_at timestamptz",
    "shareholder": "shareholder_key varchar, credit_code varchar, holder_kind varchar, holder_ref varchar, "
                   "share_ratio double, from_date date, to_date date, ingested_at timestamptz",
    "public_official": "official_key varchar, person_ref varchar, org_code varchar, start_date date, "
                       "end_date date, ingested_at timestamptz",
    "village_cadre": "cadre_key varchar, person_ref varchar, village_code varchar, term_start date, "
                     "term_end date, ingested_at timestamptz",
}

DAY1_ROWS = {
    "person": [
        ("P1", "h1", "head"), ("P2", "h1", "spouse"), ("P3", "h1", "child"), ("P4", "h1", "child"),
        ("P5", "h2", "head"), ("P6", "h2", "spouse"),
        ("P7", "h3", "head"), ("P8", "h3", "child"),
        ("P9", "h4", "head"), ("P10", "h4", "spouse"), ("P11", "h4", "child"),  # untouched
        ("P12", "h5", "head"), ("P13", "h5", "spouse"),  # their marriage row is dropped
        ("P14", "h6", "head"), ("P15", "h6", "spouse"),  # a marriage row arrives
        ("P16", "h7", "head"), ("P17", "h7", "spouse"),  # their marriage row names another spouse
    ],
    "marriage": [("m1", "P1", "P2", "2000-01-01", None), ("m2", "P9", "P10", "1999-05-01", None),
                 ("m4", "P12", "P13", "2001-01-01", None), ("m6", "P16", "P17", "2002-01-01", None)],
    "company": [("b:C1", "C1", "P3", "2020-01-01", None), ("b:C2", "C2", "P5", "2019-01-01", None),
                ("b:C3", "C3", "P9", "2018-01-01", None)],
    "shareholder": [("s1", "C1", "person", "P5", 0.2, "2021-01-01", None),
                    ("s2", "C2", "person", "P6", 0.3, "2021-01-01", None)],
    "public_official": [("o1", "P6", "ORG", "2015-01-01", None), ("o2", "P10", "ORG", "2016-01-01", None)],
    "village_cadre": [("v1", "P2", "330102001001", "2021-01-01", "2023-12-31")],
}


def day2(con) -> None:
    """The second day's silver as the incremental silver models leave it: replaced rows carry the
    new ingested_at, rows a re-delivered batch no longer carries are gone."""
    at = DAY2
    con.execute("update silver.person set household_id = 'h2', ingested_at = ? where person_ref = 'P4'", [at])  # moves
    con.execute("update silver.person set relation_to_head = 'sibling', ingested_at = ? "
                "where person_ref = 'P3'", [at])  # re-typed
    con.execute("delete from silver.person where person_ref = 'P8'")  # dropped by a correction
    con.execute("insert into silver.marriage values ('m3', 'P5', 'P6', '2010-01-01', null, ?)", [at])  # h2 spouses
    con.execute("delete from silver.marriage where marriage_id = 'm1'")  # h1 head and spouse: household spouses now
    # households touched only through marriage rows
    con.execute("delete from silver.marriage where marriage_id = 'm4'")
    con.execute("insert into silver.marriage values ('m5', 'P15', 'P14', '2011-01-01', null, ?)", [at])
    con.execute("update silver.marriage set person_b_ref = 'P99', ingested_at = ? where marriage_id = 'm6'", [at])
    con.execute("update silver.company set credit_code = 'C1X', ingested_at = ? where company_key = 'b:C1'", [at])
    con.execute("update silver.company set legal_rep_ref = null, ingested_at = ? where company_key = 'b:C2'", [at])
    con.execute("delete from silver.shareholder where shareholder_key = 's1'")
    con.execute("update silver.public_official set end_date = '2026-09-30', ingested_at = ? "
                "where official_key = 'o1'", [at])
    con.execute("insert into silver.village_cadre values ('v2', 'P7', '330102001002', '2024-01-01', null, ?)", [at])


def edges(lake) -> list[tuple]:
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("select * from silver.relation order by all").fetchall()


@pytest.fixture(scope="module")
def built(dbt_over_lake, silver_by_hand, tmp_path_factory):
    """The relation after day 1 (full build), after day 2 (incremental) and after day 2 built in
    full from the same silver tables."""
    root = tmp_path_factory.mktemp("relation_incremental")
    daily, full = root / "daily", root / "full"
    silver_by_hand(daily, TABLES, DAY1_ROWS, DAY1)
    run = lambda lake, *args: dbt_over_lake(root, lake, DBT_PROJECT_DIR, ["run", "--select", "relation", *args])
    assert run(daily).success
    after_day1 = edges(daily)
    with duckdb.connect(str(daily / "warehouse.duckdb")) as con:
        day2(con)
    shutil.copytree(daily, full)
    assert run(daily).success
    assert run(full, "--full-refresh").success
    return after_day1, edges(daily), edges(full)


def test_the_daily_build_equals_a_full_build(built):
    _, daily, full = built
    assert daily == full


def test_the_day_changed_what_it_should(built):
    before, after, _ = built
    pairs = lambda rows, source: {(r[1], r[2], r[4]) for r in rows if r[8] == source}
    assert ("P4", "P5", "parent") in pairs(after, "household") - pairs(before, "household")  # moved to h2
    assert ("P1", "P4", "child") not in pairs(after, "household")
    assert ("P1", "P3", "sibling") in pairs(after, "household")  # re-typed
    assert not {r for r in pairs(after, "household") if "P8" in r}  # dropped
    assert ("P5", "P6", "spouse") not in pairs(after, "household")  # now married on record
    assert ("P1", "P2", "spouse") in pairs(after, "household")  # marriage row gone
    household_spouses = {(a, b) for a, b, t in pairs(after, "household") if t == "spouse"}
    assert {("P12", "P13"), ("P16", "P17")} <= household_spouses
    assert not {("P14", "P15"), ("P15", "P14")} & household_spouses
    assert pairs(after, "company") == {("P3", "C1X", "legal_rep"), ("P9", "C3", "legal_rep")}
    assert pairs(after, "shareholder") == {("P6", "C2", "shareholder")}
    untouched = {r for r in before if r[9] in ("h4", "m2", "b:C3", "o2")}
    assert untouched and untouched <= set(after)  # same rows, same watermark
    assert all(r[0] is not None for r in after)  # the strategy's marks are not kept


def test_a_build_with_nothing_new_changes_nothing(built, dbt_over_lake, silver_by_hand, tmp_path):
    _, daily, _ = built
    lake = tmp_path / "again"
    silver_by_hand(lake, TABLES, DAY1_ROWS, DAY1)
    run = lambda *args: dbt_over_lake(tmp_path, lake, DBT_PROJECT_DIR, ["run", "--select", "relation", *args])
    assert run().success
    first = edges(lake)
    assert run().success
    assert edges(lake) == first
