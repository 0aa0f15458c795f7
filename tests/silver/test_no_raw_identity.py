"""No raw identity outside the restricted zone: every column of every gold and silver table and of
every table published under <lake>/published/ is scanned for id_number-shaped values in any
spelling (full-width digits, spaces, lowercase x, legacy 15 digits) and for the full names of
restricted.person_identity. The restricted re-identification table is published under
<lake>/restricted/, never under published/."""
from __future__ import annotations

import json

import pytest

from orchestration.publish.core import commit_table
from orchestration.publish.restricted import publish_restricted
from orchestration.warehouse import read_relation
from orchestration.identity import id_numbers_in

pytestmark = pytest.mark.slow


def test_the_scanner_finds_every_spelling():
    ident = "33012019630404004X"
    spellings = [ident, ident.lower(), "３３０１２０１９６３０４０４００４Ｘ", "3301 2019 6304 0400 4X", "330120630404004",
                 json.dumps({"k": ident}), f"x:{ident}|y"]
    assert all(id_numbers_in(s) for s in spellings)
    not_ids = ["91330102000123457F", "913301020001234570", "a" * 10 + "330120196304040040" + "b",
               "2026-10-15", "330102001001", "12345678.90",
               "3.142139871223395", '{"median_rent_per_m2":3.142139871223395}',
               "official_roster_330000:e979|113302050006012014|2020-12-24"]   # an org code, born in the year 500
    assert not any(id_numbers_in(s) for s in not_ids)


@pytest.fixture(scope="module")
def published(built_world):
    """The world's gold tables published the way publication writes them, and the restricted table."""
    lake = built_world.lake
    for t in built_world.query("select table_name from information_schema.tables where table_schema = 'gold'"):
        commit_table(lake / "published" / t["table_name"],
                     read_relation(lake / "warehouse.duckdb", f"gold.{t['table_name']}"), "test")
    publish_restricted(lake, run_id="test")
    return lake


def cells(rows: list[dict]):
    for row in rows:
        for column, value in row.items():
            if isinstance(value, str):
                yield column, value


def test_gold_silver_and_published_hold_no_id_number_and_no_full_name(built_world, published):
    from deltalake import DeltaTable

    names = {r["name"] for r in built_world.query("select name from restricted.person_identity where name is not null")}
    names = {n for n in names if len(n) >= 2}
    assert names
    tables = {f"{t['table_schema']}.{t['table_name']}": built_world.query(
                  f"select * from {t['table_schema']}.{t['table_name']}")
              for t in built_world.query("select table_schema, table_name from information_schema.tables "
                                         "where table_schema in ('gold', 'silver')")}
    for folder in sorted((published / "published").iterdir()):
        tables[f"published/{folder.name}"] = DeltaTable(str(folder)).to_pyarrow_table().to_pylist()
    assert any(t.startswith("gold.") for t in tables) and any(t.startswith("published/") for t in tables)
    leaks = []
    for table, rows in tables.items():
        for column, value in cells(rows):
            if id_numbers_in(value):
                leaks.append((table, column, "id_number", value[:80]))
            elif value in names or any(v in names for v in _json_strings(value)):
                leaks.append((table, column, "name", value[:80]))
    assert not leaks, leaks[:20]


def _json_strings(value: str) -> list[str]:
    """The string values inside a JSON cell (evidence), so a name nested there is found."""
    if not value.startswith(("{", "[")):
        return []
    try:
        parsed = json.loads(value)
    except ValueError:
        return []
    out, stack = [], [parsed]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            out.append(item)
    return out


def test_the_restricted_table_is_published_apart(built_world, published):
    from deltalake import DeltaTable

    assert not (published / "published" / "person_identity").exists()
    restricted = DeltaTable(str(published / "restricted" / "person_identity")).to_pyarrow_table()
    assert restricted.num_rows == built_world.query("select count(*) as n from restricted.person_identity")[0]["n"]
    assert set(restricted.column_names) == {"person_ref", "id_number", "name"}
