"""Every silver model's unique_key names one row, checked as the build writes (the post-hook
unique_key_check, macros/silver/unique_key_check.sql): a build of the whole table checks every
key, an incremental build the keys it merged; a failed check fails the model, naming it, the key
and the row count, and leaves the table as it was. Throw-away silver models over literal rows;
`var('batch')` picks the rows of each build."""
from __future__ import annotations

import duckdb
import pytest


def _model(strategy: str, batches: dict[int, str], unique_key: str | None = "k") -> str:
    key = f", unique_key='{unique_key}'" if unique_key else ""
    cases = "\n".join(f"{{% {'if' if i == 0 else 'elif'} var('batch', 1) == {n} %}}\nselect * from (values {rows}) as t(k, v)"
                      for i, (n, rows) in enumerate(batches.items()))
    return (f"{{{{ config(materialized='incremental', incremental_strategy='{strategy}'{key}) }}}}\n"
            f"{cases}\n{{% endif %}}\n")


MODELS = {
    "key_whole_table_repeated": _model("delete+insert", {1: "('A', 1), ('B', 2), ('A', 3)"}),
    "key_merged": _model("delete+insert", {1: "('A', 1), ('B', 2)", 2: "('B', 3), ('C', 4)", 3: "('D', 5)"}),
    # append does not replace a key's rows: a merged key can repeat one the table holds
    "key_appended": _model("append", {1: "('A', 1), ('B', 2)", 2: "('B', 3)"}),
    "key_undeclared": _model("delete+insert", {1: "('A', 1)"}, unique_key=None),
}


@pytest.fixture(scope="module")
def lake(project_copy, tmp_path_factory):
    for name, sql in MODELS.items():
        (project_copy.dir / "models" / "silver" / f"{name}.sql").write_text(sql)
    project_copy.prepare()
    return tmp_path_factory.mktemp("lake")


def build(project_copy, lake, model: str, batch: int, *args: str) -> dict[str, str]:
    return project_copy.dbt_failures(lake, "run", "-s", model, "--vars", f"{{batch: {batch}}}", *args)


def rows(lake, model: str) -> list[tuple]:
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(f"select k, v from silver.{model} order by k, v").fetchall()


def test_a_whole_table_build_with_a_repeated_key_fails_naming_model_key_and_rows(project_copy, lake):
    failures = build(project_copy, lake, "key_whole_table_repeated", 1)
    assert "silver.key_whole_table_repeated: 2 rows have k A after this build's write" in failures[
        "key_whole_table_repeated"]


def test_an_incremental_build_checks_the_keys_it_merged(project_copy, lake):
    assert build(project_copy, lake, "key_merged", 1) == {}
    assert build(project_copy, lake, "key_merged", 2) == {}          # B replaced, C added
    assert rows(lake, "key_merged") == [("A", 1), ("B", 3), ("C", 4)]

    # a repeated key the build did not merge is not its doing: it looks only at what it wrote
    with duckdb.connect(str(lake / "warehouse.duckdb")) as con:
        con.execute("insert into silver.key_merged values ('A', 9)")
    assert build(project_copy, lake, "key_merged", 3) == {}
    # a build of the whole table looks at every key again
    assert build(project_copy, lake, "key_merged", 1, "--full-refresh") == {}
    assert rows(lake, "key_merged") == [("A", 1), ("B", 2)]


def test_a_merged_key_the_table_already_holds_fails_and_the_table_stays_as_it_was(project_copy, lake):
    assert build(project_copy, lake, "key_appended", 1) == {}
    failures = build(project_copy, lake, "key_appended", 2)
    assert "silver.key_appended: 2 rows have k B after this build's write" in failures["key_appended"]
    assert rows(lake, "key_appended") == [("A", 1), ("B", 2)]         # rolled back


def test_a_silver_model_without_unique_key_is_refused(project_copy, lake):
    failures = build(project_copy, lake, "key_undeclared", 1)
    assert "key_undeclared: a silver model names its one key column as config unique_key" in failures[
        "key_undeclared"]
