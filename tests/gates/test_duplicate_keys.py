"""The gate's duplicate-key query (hashes grouped first, then only the rows whose hash repeats)
finds exactly what a plain GROUP BY finds: every repeated key, null keys included, with its count,
for one key column or several."""
from __future__ import annotations

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestration.gates.validate import duplicate_keys_sql

# few distinct values, so that repeats, nulls and repeats of a pair's halves are all common
values = st.one_of(st.none(), st.sampled_from(["a", "b", "k1", "330120196304040040", "长键" * 40]))
rows = st.lists(st.tuples(values, values), max_size=40)


def plain_group_by(con, keys: str) -> list[tuple]:
    return con.execute(f"select {keys}, count(*) as n from t group by all having count(*) > 1").fetchall()


@settings(max_examples=200, deadline=None)
@given(rows=rows)
def test_the_same_duplicates_as_a_plain_group_by(rows):
    con = duckdb.connect()
    con.execute("create table t (a varchar, b varchar)")
    if rows:
        con.executemany("insert into t values (?, ?)", rows)
    for keys in ("a", "a, b"):
        found = con.execute(duplicate_keys_sql("t", keys)).fetchall()
        assert sorted(found, key=repr) == sorted(plain_group_by(con, keys), key=repr)
        assert [r[-1] for r in found] == sorted((r[-1] for r in found), reverse=True)  # most repeated first


def test_a_hash_collision_is_not_a_duplicate():
    # no two real strings with one DuckDB hash are at hand: a table whose "hash" is constant
    # stands in for one (every row passes the first pass; only equal keys may be reported)
    con = duckdb.connect()
    con.execute("create table t as select * from (values ('x'), ('y'), ('z'), ('z')) as v(a)")
    sql = duplicate_keys_sql("t", "a").replace("hash(a)", "hash(0)")
    assert con.execute(sql).fetchall() == [("z", 2)]
