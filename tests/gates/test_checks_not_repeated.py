"""A column check a gate suite makes is not made again by a dbt data test: each would scan the
table on every run, and the gate is the one that decides what publishes (docs/gates.md). A dbt
test stays where it is stricter than the suite's (an accepted_values that must hold for every row
where the suite allows `mostly`). Nor does a not_null data test repeat what a contracted model's
not_null constraint already refuses, nor a gate the uniqueness of silver keys, held as the build
writes."""
from __future__ import annotations

from pathlib import Path

import yaml

from orchestration.gates.suites import suites
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.warehouse import model_nodes

SAME = {"not_null": "expect_column_values_to_not_be_null", "unique": "expect_column_values_to_be_unique",
        "accepted_values": "expect_column_values_to_be_in_set"}


def _dbt_column_tests():
    for path in sorted(Path(DBT_PROJECT_DIR, "models").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            for column in model.get("columns") or []:
                for test in column.get("data_tests") or []:
                    name = test if isinstance(test, str) else next(iter(test))
                    body = {} if isinstance(test, str) else (test[name] or {})
                    severity = (body.get("config") or {}).get("severity", "error")
                    yield path, model, column, name, severity


def test_no_dbt_data_test_repeats_a_gate_expectation():
    gated = {table: suite.expectations for table, suite in suites().items()}
    repeated = []
    for path, model, column, name, severity in _dbt_column_tests():
        for e in gated.get(model["name"], []):
            if SAME.get(name) != e.expect or e.kwargs.get("column") != column["name"]:
                continue
            stricter = name == "accepted_values" and severity == "error" and e.kwargs.get("mostly") is not None
            if not stricter:
                repeated.append(f"{path.relative_to(DBT_PROJECT_DIR)}: {model['name']}.{column['name']} {name} "
                                f"(also expectations/ {e.expect})")
    assert not repeated, "dbt data tests repeating a gate expectation:\n" + "\n".join(repeated)


def test_no_supervision_model_tests_its_alert_id():
    # alert_id is md5(model_id|primary_key) (macro alert_id): within one model it is unique and
    # present exactly when primary_key is, which alert_contract holds (a keyless finding fails
    # the model: tests/gold/test_alert_contract.py)
    tested = [f"{path.relative_to(DBT_PROJECT_DIR)}: {model['name']}.alert_id {name}"
              for path, model, column, name, _ in _dbt_column_tests()
              if column["name"] == "alert_id" and path.parent.parent.name == "gold"]  # models/gold/<domain>/
    assert not tested, "alert_id tests repeating primary_key's:\n" + "\n".join(tested)


def test_contracted_models_declare_not_null_as_a_constraint():
    # with an enforced contract the table is created with the column NOT NULL and the warehouse
    # refuses a null as it is written (tests/silver/test_silver_world.py); a not_null data test
    # there would only scan the table again, one more dbt node and Dagster check on every run
    tested = [f"{path.relative_to(DBT_PROJECT_DIR)}: {model['name']}.{column['name']}"
              for path, model, column, name, _ in _dbt_column_tests()
              if name == "not_null" and ((model.get("config") or {}).get("contract") or {}).get("enforced")]
    assert not tested, ("not_null data tests on contracted models (write `constraints: [{type: not_null}]` "
                        "instead):\n" + "\n".join(tested))


def test_silver_keys_are_checked_as_written_not_again_by_gates_or_data_tests():
    # the unique_key_check post-hook looks, as a build writes, at the keys it merged (every key of
    # a whole-table build: tests/gold/test_unique_key_check.py); a gate expectation would group
    # every key of the table after every run (~2 s a run at SF 1, growing with the tables)
    silver = {name: node for name, node in model_nodes().items() if node["fqn"][1] == "silver"}
    unchecked = [name for name, node in silver.items()
                 if not isinstance(node["config"].get("unique_key"), str)
                 or not any("unique_key_check()" in hook["sql"] for hook in node["config"]["post-hook"])]
    assert not unchecked, f"silver models without a unique_key the post-hook checks: {unchecked}"
    gated = [f"{table}.{e.kwargs.get('column')}" for table, suite in suites().items() if table in silver
             for e in suite.expectations if e.expect == "expect_column_values_to_be_unique"]
    assert not gated, f"silver key uniqueness checked again by the gates: {gated}"
    tested = [f"{path.relative_to(DBT_PROJECT_DIR)}: {model['name']}.{column['name']}"
              for path, model, column, name, _ in _dbt_column_tests()
              if name == "unique" and model["name"] in silver
              and column["name"] == silver[model["name"]]["config"]["unique_key"]]
    assert not tested, "silver key uniqueness checked again by dbt data tests:\n" + "\n".join(tested)
