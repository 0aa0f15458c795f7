"""Each engine finds what its expectations describe, on a small table with planted problems:
DuckDB SQL over the whole table, Great Expectations (pandas) over the columns or a sample, the
platform's id-number scanner; unexpected samples are masked where they may identify a person."""
from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from orchestration.gates.suites import Suite
from orchestration.gates.validate import GateContext, GxSession, mask, validate_suite

ROWS = [  # key, valid, gender, amount, payee_name, note, day
    ("k1", True, "M", 10.0, "张三丰", "ok", dt.date(2026, 10, 31)),
    ("k2", True, "F", 0.0, "李四", "ok", dt.date(2026, 10, 30)),
    ("k2", False, "X", -5.0, "33012019630404004X", "ok", dt.date(2026, 10, 29)),  # an id where a name goes
    (None, True, "M", 7.0, "赵六", "leak: ３３０１２０１９６３０４０４００４ｘ", dt.date(2026, 10, 1)),
]


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    db = duckdb.connect(str(tmp_path_factory.mktemp("gates") / "w.duckdb"))
    db.execute("create table t (k varchar, valid boolean, gender varchar, amount double, payee_name varchar, "
               "note varchar, day date)")
    db.executemany("insert into t values (?, ?, ?, ?, ?, ?, ?)", ROWS)
    yield db
    db.close()


@pytest.fixture(scope="module")
def gx_session(tmp_path_factory):
    return GxSession(tmp_path_factory.mktemp("docs"))


def suite(*expectations: dict) -> Suite:
    return Suite(table="t", expectations=list(expectations))


def one(con, expectation: dict, ctx=None, gx_session=None):
    result = validate_suite(con, suite(expectation), "t", ctx or GateContext(run_id="r"), gx_session)
    assert len(result.results) == 1
    return result.results[0]


@pytest.mark.parametrize("engine", ["duckdb", "gx"])
def test_keys_nulls_sets_and_ranges_on_either_engine(con, gx_session, engine):
    unique = one(con, {"expect": "expect_column_values_to_be_unique", "column": "k", "engine": engine}, gx_session=gx_session)
    assert not unique.success and unique.unexpected_count == 2
    nulls = one(con, {"expect": "expect_column_values_to_not_be_null", "column": "k", "engine": engine}, gx_session=gx_session)
    assert not nulls.success and nulls.unexpected_count == 1
    in_set = one(con, {"expect": "expect_column_values_to_be_in_set", "column": "gender", "value_set": ["M", "F"],
                       "engine": engine}, gx_session=gx_session)
    assert not in_set.success and in_set.unexpected_count == 1 and json.loads(in_set.unexpected_sample) == ["X"]
    mostly = one(con, {"expect": "expect_column_values_to_be_in_set", "column": "gender", "value_set": ["M", "F"],
                       "mostly": 0.7, "engine": engine}, gx_session=gx_session)
    assert mostly.success
    between = one(con, {"expect": "expect_column_values_to_be_between", "column": "amount", "min_value": 0,
                        "engine": engine}, gx_session=gx_session)
    assert not between.success and between.unexpected_count == 1
    validity = one(con, {"expect": "expect_column_mean_to_be_between", "column": "valid", "min_value": 0.95,
                         "engine": engine}, gx_session=gx_session)
    assert not validity.success and json.loads(validity.observed) == pytest.approx(0.75)
    assert {r.engine for r in (unique, nulls, in_set, between, validity)} == {engine}


def test_a_gx_sample_says_how_many_rows_it_read(con, gx_session):
    result = one(con, {"expect": "expect_column_values_to_not_be_null", "column": "gender", "sample": 2},
                 gx_session=gx_session)
    assert result.success and result.sampled_rows == 2


def test_unexpected_values_of_personal_columns_are_masked(con, gx_session):
    result = one(con, {"expect": "expect_column_values_to_be_in_set", "column": "payee_name", "value_set": ["李四"],
                       "engine": "duckdb"})
    assert sorted(json.loads(result.unexpected_sample)) == sorted(["张*丰", "3****************X", "赵*"])
    assert mask("33012019630404004X") == "3****************X"


def test_the_no_raw_id_expectation_catches_a_planted_leak_in_any_spelling(con):
    result = one(con, {"expect": "expect_no_id_number_in_any_column"})
    assert not result.success and result.unexpected_count == 2
    assert "330120" not in result.unexpected_sample  # the finding itself is masked


def test_the_no_raw_id_scan_sees_ids_spaced_out_with_any_white_space(tmp_path):
    """DuckDB passes the scanner only rows with 15 digits in a row once white space is removed:
    ids broken by ideographic spaces, tabs or newlines must still reach it."""
    db = duckdb.connect(str(tmp_path / "w.duckdb"))
    db.execute("create table s (note varchar)")
    db.executemany("insert into s values (?)", [("3301\u30002019\t6304 0400\n4X",), ("no digits here",),
                                                ("amount 123456789012345.5",), ("３３０１２０１９６３０４０４００４ｘ",)])
    result = validate_suite(db, Suite(table="s", expectations=[{"expect": "expect_no_id_number_in_any_column"}]),
                            "s", GateContext(run_id="r")).results[0]
    db.close()
    assert result.unexpected_count == 2 and result.element_count == 4


def test_row_count_band_compares_with_the_previous_run(con):
    band = {"expect": "expect_row_count_within_band_of_previous_run", "band": 0.5}
    assert one(con, band).success  # first run: nothing to compare with
    assert one(con, band, GateContext(run_id="r", previous_rows={"t": 5})).success
    assert not one(con, band, GateContext(run_id="r", previous_rows={"t": 10})).success


def test_freshness_is_a_warning_against_the_as_of_date(con):
    fresh = {"expect": "expect_table_to_be_fresh", "column": "day", "max_age_days": 2}
    assert one(con, fresh, GateContext(run_id="r", as_of=dt.date(2026, 11, 1))).success
    stale = validate_suite(con, suite(fresh), "t", GateContext(run_id="r", as_of=dt.date(2026, 11, 30)))
    assert stale.passed and len(stale.warnings) == 1


def test_schema_types_and_a_broken_expectation_fail_with_their_reason(con):
    typed = one(con, {"expect": "expect_table_columns_to_have_types",
                      "columns": {"k": "VARCHAR", "amount": "DECIMAL(18,2)", "missing": "DATE"}})
    assert not typed.success and json.loads(typed.observed) == {"amount": "DOUBLE", "missing": "missing"}
    broken = one(con, {"expect": "expect_column_values_to_not_be_null", "column": "nope", "engine": "duckdb"})
    assert not broken.success and "nope" in broken.error


def test_data_docs_are_written_where_ops_open_them(con, tmp_path):
    """Once per gate run, after its suites: a page per suite validated, and the index."""
    session = GxSession(tmp_path / "docs")
    one(con, {"expect": "expect_column_values_to_not_be_null", "column": "k", "engine": "gx"}, gx_session=session)
    assert not (session.docs_dir / "index.html").exists()
    assert session.build_docs() == session.docs_dir / "index.html"
    assert (session.docs_dir / "index.html").is_file()
    assert list((session.docs_dir / "validations").rglob("*.html"))
