"""The restricted re-identification table is rewritten only when its rows changed: a daily run
over registries that did not change adds no identical version of 1.4 M rows (SF 1)."""
from __future__ import annotations

import shutil

import duckdb
import polars as pl

from orchestration.publish.restricted import publish_restricted
from orchestration.warehouse import relation_name


def warehouse_with(lake, rows: list[tuple[str, str, str | None]]) -> None:
    lake.mkdir(exist_ok=True)
    relation = relation_name("person_identity")
    schema = relation.rsplit(".", 1)[0]
    with duckdb.connect(str(lake / "warehouse.duckdb")) as con:
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create or replace table {relation} (person_ref varchar, id_number varchar, name varchar, "
                    "name_source varchar)")
        con.executemany(f"insert into {relation} values (?, ?, ?, 'test')", rows)


def test_unchanged_rows_write_no_new_version_and_any_change_does(tmp_path):
    lake = tmp_path / "lake"
    rows = [("p1", "330102199001011234", "张三"), ("p2", "33010219900101123X", None)]
    warehouse_with(lake, rows)
    first = publish_restricted(lake, run_id="r1")
    assert (first["rows"], first["delta_version"], first["written"]) == (2, 0, True)
    again = publish_restricted(lake, run_id="r2")
    assert (again["delta_version"], again["written"]) == (0, False)

    warehouse_with(lake, [rows[0], ("p2", "33010219900101123X", "李四")])   # a name now known
    changed = publish_restricted(lake, run_id="r3")
    assert (changed["delta_version"], changed["written"]) == (1, True)
    published = pl.read_delta(str(lake / "restricted" / "person_identity"))
    assert published.sort("person_ref")["name"].to_list() == ["张三", "李四"]
    assert published.columns == ["person_ref", "id_number", "name"]

    warehouse_with(lake, [rows[0]])   # a row gone
    assert publish_restricted(lake, run_id="r4")["written"]
    assert pl.read_delta(str(lake / "restricted" / "person_identity")).height == 1

    shutil.rmtree(lake / "restricted")   # a lost table is written again
    assert publish_restricted(lake, run_id="r5") | {"delta_version": None} == \
        {"rows": 1, "delta_version": None, "written": True}
