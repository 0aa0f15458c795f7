"""Snapshot of the whole asset graph (keys, groups, checks): a change to the graph is a reviewed
change to this snapshot. Regenerate with POWERTRACE_UPDATE_SNAPSHOTS=1 after an intended change."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

SNAPSHOT = Path(__file__).with_name("asset_graph.snapshot.txt")


@pytest.fixture(scope="module")
def definitions():
    from orchestration.run_cli import prepare_project

    prepare_project(echo=lambda *_: None)
    from orchestration.definitions import defs

    return defs


def graph_lines(defs) -> list[str]:
    graph = defs.resolve_asset_graph()
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        deps = ",".join(sorted(p.to_user_string() for p in node.parent_keys))
        lines.append(f"asset {key.to_user_string()} group={node.group_name} deps=[{deps}]")
    for check in sorted(graph.asset_check_keys, key=lambda k: k.to_user_string()):
        lines.append(f"check {check.to_user_string()}")
    return lines


def test_asset_graph_matches_snapshot(definitions):
    lines = graph_lines(definitions)
    if os.environ.get("POWERTRACE_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text("\n".join(lines) + "\n")
    expected = SNAPSHOT.read_text().splitlines()
    added = sorted(set(lines) - set(expected))
    removed = sorted(set(expected) - set(lines))
    assert not added and not removed, (
        f"asset graph changed: {len(added)} added, {len(removed)} removed\n"
        + "\n".join(["+ " + l for l in added[:20]] + ["- " + l for l in removed[:20]])
        + "\nreview, then regenerate with POWERTRACE_UPDATE_SNAPSHOTS=1")


def test_every_registered_table_is_a_bronze_asset_grouped_by_kind(definitions):
    from orchestration.contracts import registry

    graph = definitions.resolve_asset_graph()
    keys = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    for contract in registry().values():
        for table in contract.tables:
            assert keys.get(f"bronze/{contract.system_id}/{table}") == f"bronze_{contract.kind}"


def test_bronze_tables_feed_their_staging_model(definitions):
    graph = definitions.resolve_asset_graph()
    staging = graph.get(next(k for k in graph.get_all_asset_keys()
                             if k.to_user_string() == "staging/stg_village_finance__village_payment"))
    parents = {p.to_user_string() for p in staging.parent_keys}
    assert {f"bronze/village_finance_33{c:02d}00/village_payment" for c in range(1, 12)} <= parents


def test_code_location_loads_without_great_expectations_dbt_selection_or_data():
    """Loading the code location, after the check `powertrace run` makes that the project is
    prepared, imports neither Great Expectations, nor dbt's selection engine (dbt.graph and
    networkx), nor dbt's DuckDB adapter (dbt runs in its own process), nor anything that reads data."""
    import subprocess
    import sys

    heavy = ["great_expectations", "dbt.graph", "networkx", "dbt.adapters.duckdb"]
    code = ("import sys; from orchestration.run_cli import prepare_project; prepare_project(); "
            "import orchestration.definitions as d; d.defs.resolve_asset_graph(); "
            f"print([m for m in {heavy!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "POWERTRACE_LAKE": "/nonexistent-lake"})
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_default_selection_answered_from_the_manifest_equals_dbts(definitions):
    """The dbt assets' default selection (fqn:*) is answered from the manifest at load
    (orchestration/assets/dbt.py, selecting_all_without_dbt_graph): the same nodes dbt's own
    selection engine picks, and a narrower selection still goes to dbt."""
    from dagster_dbt import asset_utils
    from dagster_dbt.utils import select_unique_ids

    from orchestration.assets.dbt import every_node, selecting_all_without_dbt_graph
    from orchestration.warehouse import manifest

    by_dbt = select_unique_ids(select="fqn:*", exclude="", selector="", project=None, manifest_json=manifest())
    assert every_node(manifest()) == by_dbt
    with selecting_all_without_dbt_graph():
        narrow = asset_utils.select_unique_ids(select="sm09_collusive_bidding", exclude="", selector="",
                                               project=None, manifest_json=manifest())
    assert "model.powertrace.sm09_collusive_bidding" in narrow and "model.powertrace.alerts" not in narrow
    assert asset_utils.select_unique_ids is select_unique_ids  # put back after the build
