"""Restricted publication: the re-identification table leaves the warehouse as
``<lake>/restricted/person_identity`` (Delta), never beside the ordinary published tables.

Only the alert service's re-identification path reads it, under its own permission: it maps a
``person_ref`` of an alert back to the normalised id_number and the name. Nothing under
``<lake>/published/`` may hold a raw id_number or a full name (tests/silver/test_no_raw_identity.py
scans them); this zone is the one exception, which is why it has its own folder.
"""
from pathlib import Path

import dagster as dg

from orchestration.assets.dbt import DUCKDB_POOL
from orchestration.assets.publish import publish_table, read_warehouse_table
from orchestration.settings import Zones

# Not ["restricted", "person_identity"]: that is the dbt model in the warehouse, this the lake copy.
PERSON_IDENTITY_KEY = dg.AssetKey(["lake_restricted", "person_identity"])
# The dbt model's relation (schema restricted, see dbt_project/dbt_project.yml).
PERSON_IDENTITY_RELATION = "restricted.person_identity"


def publish_restricted(lake: str | Path | None = None, *, run_id: str = "manual") -> dict[str, int]:
    """Overwrite ``<lake>/restricted/person_identity`` from the warehouse in one Delta commit.

    Reads through a read-only DuckDB connection (dbt is the only writer of the warehouse).
    Returns {"rows": ..., "delta_version": ...}.
    """
    zones = Zones(lake)
    table = read_warehouse_table(zones.warehouse, PERSON_IDENTITY_RELATION)
    version = publish_table(table, zones.restricted / "person_identity", run_id=run_id)
    return {"rows": table.num_rows, "delta_version": version}


@dg.asset(key=PERSON_IDENTITY_KEY, deps=[dg.AssetKey(["restricted", "person_identity"])], group_name="restricted",
          pool=DUCKDB_POOL, kinds={"delta"},
          description="RESTRICTED re-identification table (person_ref → id_number, name) for the alert service.")
def restricted_person_identity(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    published = publish_restricted(run_id=context.run.run_id)
    return dg.MaterializeResult(metadata=published)
