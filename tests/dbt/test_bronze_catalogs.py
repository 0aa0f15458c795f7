"""orchestration.dbt_session: every bronze Delta table is attached as the catalog its dbt source
reads, at the snapshot it had when the session began."""
from __future__ import annotations

import duckdb
import pyarrow as pa
from deltalake import write_deltalake

from orchestration.dbt_session import bronze_attach_statements
from orchestration.dbt_sources import BRONZE_LOCATION
from orchestration.duckdb_setup import ensure_delta_extension


def test_each_bronze_table_is_the_catalog_its_source_reads(tmp_path):
    lake = tmp_path / "it's a lake"                 # a quote in the path is escaped
    write_deltalake(str(lake / "bronze" / "pension_330000" / "pension_payment"), pa.table({"x": [1, 2]}))
    write_deltalake(str(lake / "bronze" / "death_registry_330000" / "death"), pa.table({"x": [3]}))
    (lake / "bronze" / "death_registry_330000" / "not_a_delta_table").mkdir()
    ensure_delta_extension()
    con = duckdb.connect()
    con.execute("load delta")
    statements = bronze_attach_statements(lake)
    assert len(statements) == 2
    for statement in statements + statements:        # attaching twice is harmless
        con.execute(statement)
    source = BRONZE_LOCATION.format(system_id="pension_330000", table="pension_payment")
    assert con.execute(f"select sum(x) from {source}").fetchone() == (3,)

    # pinned: what is committed after the session attached stays out of it, so one dbt build
    # reads one state of bronze however long it takes
    write_deltalake(str(lake / "bronze" / "pension_330000" / "pension_payment"), pa.table({"x": [10]}), mode="append")
    assert con.execute(f"select sum(x) from {source}").fetchone() == (3,)
    fresh = duckdb.connect()
    fresh.execute("load delta")
    for statement in bronze_attach_statements(lake):
        fresh.execute(statement)
    assert fresh.execute(f"select sum(x) from {source}").fetchone() == (13,)


def test_a_lake_without_bronze_attaches_nothing(tmp_path):
    assert bronze_attach_statements(tmp_path) == []
