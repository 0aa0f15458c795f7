"""The suite files of expectations/: every gated table has one, each loads, and a broken suite
fails at load naming its file, the expectation and the field."""
from __future__ import annotations

import pytest

from orchestration.gates.suites import SuiteError, load_suite, suites
from orchestration.warehouse import model_nodes


def test_every_silver_entity_and_the_alerts_table_has_a_suite():
    gated = set(suites())
    silver = {n for n, node in model_nodes().items() if node["fqn"][1] == "silver"}
    assert silver <= gated
    assert {"alerts", "ineligible_payees", "scorecard"} <= gated
    assert suites()["alerts"].on_failure == "hold_all"


def test_every_suite_gates_a_dbt_model_and_says_which_engine_runs_each_expectation():
    nodes = model_nodes()
    for table, suite in suites().items():
        assert table in nodes, f"{suite.path}: no dbt model {table}"
        assert all(e.run_engine in ("gx", "duckdb", "powertrace") for e in suite.expectations)


def test_silver_suites_check_keys_validity_and_row_count_band():
    # a silver key's uniqueness is held as the build writes (tests/gates/test_checks_not_repeated.py)
    for table, suite in suites().items():
        if suite.path.parent.name != "silver":
            continue
        kinds = {e.expect for e in suite.expectations}
        assert {"expect_column_values_to_not_be_null", "expect_row_count_within_band_of_previous_run"} <= kinds, table


@pytest.mark.parametrize("body, message", [
    ("table: t\nexpectations:\n  - {expect: expect_colum_values_to_be_unique, column: a}\n",
     "expectations[0] (expect_colum_values_to_be_unique): unknown expectation"),
    ("table: t\nexpectations:\n  - {expect: expect_column_values_to_be_in_set, column: a}\n",
     "expectations[0] (expect_column_values_to_be_in_set): expect_column_values_to_be_in_set needs value_set"),
    ("table: t\nexpectations:\n  - {expect: expect_column_values_to_be_unique, column: a, engine: powertrace}\n",
     "runs on duckdb or gx, not powertrace"),
    ("table: t\nexpectations:\n  - {expect: expect_column_values_to_be_unique, column: a, sample: 100}\n",
     "sample applies to the gx engine only"),
    ("table: t\nexpectations:\n  - {expect: expect_column_values_to_be_unique, column: a, value_set: [1]}\n",
     "does not take value_set"),
    ("table: t\non_failure: shrug\nexpectations: []\n", "on_failure"),
    ("table: other\nexpectations: []\n", "must match the file name"),
    ("table: [t\n", "not valid YAML"),
])
def test_a_broken_suite_names_file_expectation_and_field(tmp_path, body, message):
    path = tmp_path / "t.yml"
    path.write_text(body)
    with pytest.raises(SuiteError) as error:
        load_suite(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_freshness_warns_and_never_blocks(tmp_path):
    path = tmp_path / "t.yml"
    path.write_text("table: t\nexpectations:\n  - {expect: expect_table_to_be_fresh, column: d, max_age_days: 1}\n")
    suite = load_suite(path)
    assert suite.expectations[0].severity == "warn" and suite.blocking == []


def test_a_suite_engine_is_the_default_of_the_expectations_that_can_run_on_it(tmp_path):
    path = tmp_path / "t.yml"
    path.write_text("table: t\nengine: duckdb\nexpectations:\n"
                    "  - {expect: expect_column_values_to_not_be_null, column: a}\n"
                    "  - {expect: expect_column_values_to_be_in_set, column: a, value_set: [1], engine: gx}\n"
                    "  - {expect: expect_column_values_to_be_between, column: a, min_value: 0, sample: 10}\n"
                    "  - {expect: expect_no_id_number_in_any_column}\n")
    assert [e.run_engine for e in load_suite(path).expectations] == ["duckdb", "gx", "gx", "powertrace"]


def test_silver_suites_run_in_sql_and_the_gold_suites_in_great_expectations():
    """Silver tables grow with the province (SF 10: tens of millions of rows): their expectations
    run as SQL in DuckDB, not as pandas frames; the gold tables are small enough for GX."""
    for table, suite in suites().items():
        engines = {e.run_engine for e in suite.expectations}
        if suite.path.parent.name == "silver":
            assert engines <= {"duckdb", "powertrace"}, table
    assert "gx" in {e.run_engine for e in suites()["alerts"].expectations}
