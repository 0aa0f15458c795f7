"""One table of cases per identifier (tests/cases/*.csv) against both implementations of the rules:
``orchestration.identity`` (Python, used by the real-time payment check) and the dbt macros of
``dbt_project/macros/identity/`` rendered to SQL and evaluated in DuckDB (what silver runs)."""
from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestration import identity
from orchestration.dbt_macros import render_macros

CASES = Path(__file__).resolve().parent.parent / "cases"


def load_cases(name: str) -> list[dict]:
    with open(CASES / name, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows, f"{name} holds no cases"
    for row in rows:
        row["normalised"] = row["normalised"] or None
        if "valid" in row:
            assert row["valid"] in ("true", "false"), f"{name}: valid must be true or false, got {row['valid']!r}"
            row["valid"] = row["valid"] == "true"
    return rows


ID_CASES = load_cases("id_number_cases.csv")
CREDIT_CASES = load_cases("credit_code_cases.csv")
PHONE_CASES = load_cases("phone_cases.csv")


def case_id(row: dict) -> str:
    return f"{row['note']}: {row['raw']!r}"


# --------------------------------------------------------------------------- Python
@pytest.mark.parametrize("case", ID_CASES, ids=case_id)
def test_python_id_number(case):
    normalised = identity.normalise_id_number(case["raw"])
    assert (normalised, identity.id_number_is_valid(normalised)) == (case["normalised"], case["valid"])


@pytest.mark.parametrize("case", CREDIT_CASES, ids=case_id)
def test_python_credit_code(case):
    normalised = identity.normalise_credit_code(case["raw"])
    assert (normalised, identity.credit_code_is_valid(normalised)) == (case["normalised"], case["valid"])


@pytest.mark.parametrize("case", PHONE_CASES, ids=case_id)
def test_python_phone(case):
    assert identity.normalise_phone(case["raw"]) == case["normalised"]


def test_python_none_is_null():
    assert identity.normalise_id_number(None) is None and not identity.id_number_is_valid(None)
    assert identity.normalise_credit_code(None) is None and not identity.credit_code_is_valid(None)
    assert identity.normalise_phone(None) is None


# --------------------------------------------------------------------------- dbt macros in DuckDB
@pytest.fixture(scope="module")
def macros():
    """The identity macros as callables returning DuckDB's SQL text (plain Jinja: no dbt context
    needed), rendered the way tests/dbt/conftest.py renders them for the macros' own tests."""
    return render_macros(["identity", "engine"])


@pytest.fixture(scope="module")
def duck():
    con = duckdb.connect()
    yield con
    con.close()


def evaluate(con, sql_of, values: list[str]) -> list:
    """``sql_of('v')`` over each value, in order."""
    rows = con.execute(f"select {sql_of('v')} from (select unnest(?::varchar[]) as v, "
                       "generate_subscripts(?::varchar[], 1) as i) order by i", [values, values]).fetchall()
    return [r[0] for r in rows]


def test_macro_id_number(macros, duck):
    sql = lambda v: (f"struct_pack(n := {macros.normalise_id_number(v)}, "
                     f"ok := {macros.id_number_is_valid(macros.normalise_id_number(v))})")
    got = evaluate(duck, sql, [c["raw"] for c in ID_CASES])
    mismatches = [(case_id(c), (r["n"], r["ok"]), (c["normalised"], c["valid"]))
                  for c, r in zip(ID_CASES, got) if (r["n"], r["ok"]) != (c["normalised"], c["valid"])]
    assert not mismatches, mismatches


def test_macro_credit_code(macros, duck):
    sql = lambda v: (f"struct_pack(n := {macros.normalise_credit_code(v)}, "
                     f"ok := {macros.credit_code_is_valid(macros.normalise_credit_code(v))})")
    got = evaluate(duck, sql, [c["raw"] for c in CREDIT_CASES])
    mismatches = [(case_id(c), (r["n"], r["ok"]), (c["normalised"], c["valid"]))
                  for c, r in zip(CREDIT_CASES, got) if (r["n"], r["ok"]) != (c["normalised"], c["valid"])]
    assert not mismatches, mismatches


def test_macro_phone(macros, duck):
    got = evaluate(duck, macros.normalise_phone, [c["raw"] for c in PHONE_CASES])
    mismatches = [(case_id(c), r, c["normalised"]) for c, r in zip(PHONE_CASES, got) if r != c["normalised"]]
    assert not mismatches, mismatches


# --------------------------------------------------------------------------- beyond the table
SPELLING_ALPHABET = "0123456789０１２３４５６７８９xXｘＸ \t\u3000-ABOIaｂ"


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(SPELLING_ALPHABET, max_size=20), min_size=1, max_size=40))
def test_python_and_macros_agree_on_any_spelling(macros, duck, spellings):
    """Random strings over the characters sources mix into identifiers: both implementations give
    the same normalised value and verdict, for id_numbers, credit codes and phones alike."""
    sql = lambda v: (f"struct_pack(i := {macros.normalise_id_number(v)}, "
                     f"iv := {macros.id_number_is_valid(macros.normalise_id_number(v))}, "
                     f"c := {macros.normalise_credit_code(v)}, "
                     f"cv := {macros.credit_code_is_valid(macros.normalise_credit_code(v))}, "
                     f"p := {macros.normalise_phone(v)})")
    got = [(r["i"], r["iv"], r["c"], r["cv"], r["p"]) for r in evaluate(duck, sql, spellings)]
    expected = []
    for s in spellings:
        i, c = identity.normalise_id_number(s), identity.normalise_credit_code(s)
        expected.append((i, identity.id_number_is_valid(i), c, identity.credit_code_is_valid(c), identity.normalise_phone(s)))
    assert got == expected
