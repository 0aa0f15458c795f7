"""dbt's view materialization on DuckDB, kept unless the SQL changed (macros/materializations/
duckdb_view.sql): a second build leaves the view as it is, a change of its SQL or --full-refresh
re-creates it. One staging view over the pension system's (empty) bronze table; to tell a kept
view from a re-created one, the test swaps the built view for a stand-in carrying the same
fingerprint: a build that keeps the view keeps the stand-in."""
from __future__ import annotations

import duckdb
import pytest

from dbt_bronze_fixture import write_bronze
from orchestration.contracts import registry

VIEW = "stg_pension__pension_payment"


@pytest.fixture(scope="module")
def lake(project_copy, tmp_path_factory):
    project_copy.prepare()
    lake = tmp_path_factory.mktemp("lake")
    write_bronze(lake, {s: c for s, c in registry().items() if c.kind == "pension"}, {})
    return lake


def fingerprint(lake) -> str:
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("select comment from duckdb_views() where view_name = ?", [VIEW]).fetchone()[0]


def columns(lake) -> list[str]:
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        # the catalog's column names: the view's bronze catalog is not attached to this session
        return [r[0] for r in con.execute("select column_name from duckdb_columns() where table_name = ? "
                                          "order by column_index", [VIEW]).fetchall()]


def swap_in_stand_in(lake, comment: str) -> None:
    with duckdb.connect(str(lake / "warehouse.duckdb")) as con:
        con.execute(f"create or replace view staging.{VIEW} as select 1 as stand_in")
        con.execute(f"comment on view staging.{VIEW} is '{comment}'")


def test_a_view_is_recreated_only_when_its_sql_changes(project_copy, lake):
    build = ("run", "-s", VIEW)
    assert project_copy.dbt(lake, *build) == []
    built = fingerprint(lake)
    assert built.startswith("powertrace sql md5 ") and "pension_id" in columns(lake)

    swap_in_stand_in(lake, built)
    assert project_copy.dbt(lake, *build) == []
    assert columns(lake) == ["stand_in"]           # same SQL: the view was left as it was

    assert project_copy.dbt(lake, *build, "--full-refresh") == []
    assert "pension_id" in columns(lake) and fingerprint(lake) == built

    swap_in_stand_in(lake, built)
    sql = next((project_copy.dir / "models" / "staging").rglob(f"{VIEW}.sql"))
    sql.write_text(sql.read_text() + "\n-- a changed view\n")
    assert project_copy.dbt(lake, *build) == []
    assert "pension_id" in columns(lake) and fingerprint(lake) not in (built, None)
