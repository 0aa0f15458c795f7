"""Publication: gold tables leave the private warehouse as Delta tables under ``<lake>/published/``.

Consumers (the alert service, downstream departments) read only these, never the warehouse file.
A Delta overwrite is one atomic commit, so a reader sees the previous or the new version of a
table, never a mix.
"""

from pathlib import Path

import dagster as dg

from orchestration.assets.dbt import DUCKDB_POOL
from orchestration.settings import Zones

ALERTS_KEY = dg.AssetKey(["published", "alerts"])


def read_warehouse_table(warehouse: Path, relation: str):
    """A gold relation as an Arrow table, through a read-only connection (dbt is the only writer)."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"select * from {relation}").to_arrow_table()


def relation_name(model: str) -> str:
    """The warehouse relation of a dbt model, as the prepared manifest names it."""
    import json

    from orchestration.assets.dbt import manifest_path

    nodes = json.loads(manifest_path().read_text())["nodes"]
    for node in nodes.values():
        if node["resource_type"] == "model" and node["name"] == model:
            return node["relation_name"]
    raise KeyError(f"dbt model {model!r} is not in the manifest")


def publish_table(table, target: Path, *, run_id: str) -> int:
    """Overwrite one published Delta table in a single commit; returns its new version."""
    from deltalake import DeltaTable, write_deltalake

    target.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(str(target), table, mode="overwrite", schema_mode="overwrite",
                    commit_properties=_commit_properties(run_id))
    return DeltaTable(str(target)).version()


def _commit_properties(run_id: str):
    from deltalake import CommitProperties

    return CommitProperties(custom_metadata={"powertrace.run_id": run_id})


@dg.asset(key=ALERTS_KEY, deps=[dg.AssetKey(["gold", "alerts"])], group_name="published", pool=DUCKDB_POOL,
          kinds={"delta"}, description="All alerts of live supervision models, in the alert contract of models.md.")
def published_alerts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    zones = Zones()
    table = read_warehouse_table(zones.warehouse, relation_name("alerts"))
    version = publish_table(table, zones.published / "alerts", run_id=context.run.run_id)
    counts = {}
    if table.num_rows:
        import polars as pl

        frame = pl.from_arrow(table).group_by("model_id", "severity").len().sort("model_id", "severity")
        counts = {f"{r['model_id']}/{r['severity']}": r["len"] for r in frame.iter_rows(named=True)}
    return dg.MaterializeResult(metadata={"rows": table.num_rows, "delta_version": version,
                                          "alerts_by_model": dg.MetadataValue.json(counts)})
