"""Restricted publication: the re-identification table leaves the warehouse as
``<lake>/restricted/person_identity`` (Delta), never beside the ordinary published tables.

Only the alert service's re-identification path reads it, under its own permission: it maps a
``person_ref`` of an alert back to the normalised id_number and the name. Nothing under
``<lake>/published/`` may hold a raw id_number or a full name (tests/silver/test_no_raw_identity.py
scans them); this zone is the one exception, which is why it has its own folder.
"""
from __future__ import annotations

from pathlib import Path

from orchestration.settings import Zones

# The model's other columns record how the name was chosen (for its incremental build).
PUBLISHED_COLUMNS = ("person_ref", "id_number", "name")


def publish_restricted(lake: str | Path | None = None, *, run_id: str = "manual") -> dict[str, int]:
    """Overwrite ``<lake>/restricted/person_identity`` from the warehouse in one Delta commit;
    returns {"rows": ..., "delta_version": ...}."""
    from orchestration.publish.core import commit_table
    from orchestration.warehouse import read_relation, relation_name

    zones = Zones(lake)
    table = read_relation(zones.warehouse, relation_name("person_identity"), PUBLISHED_COLUMNS)
    version = commit_table(zones.restricted / "person_identity", table, run_id)
    return {"rows": table.num_rows, "delta_version": version}
