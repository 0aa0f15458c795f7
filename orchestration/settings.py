"""Where things live. One setting places all data: the lake.

- data: ``--lake DIR`` or ``POWERTRACE_LAKE`` (default ``<project>/lake``); every zone
  (landing, bronze, quarantine, ledger, published, restricted, truth, warehouse, gates, publications) is below it.
- tool state: ``POWERTRACE_STATE`` (default ``<project>/.state``) holds the Dagster instance
  (``dagster/``, used unless ``DAGSTER_HOME`` is set), the dbt ``target/`` and logs, and
  ``cache/`` (the parsed source contracts).
- ops notification: ``POWERTRACE_WEBHOOK_URL`` receives failed runs and gates as JSON
  (``orchestration/automation/notify.py``); unset, its sensors are stopped and only log.
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent
DBT_PROJECT_DIR = PROJECT_DIR / "dbt_project"
EXPECTATIONS_DIR = PROJECT_DIR / "expectations"
SOURCES_DIR = PACKAGE_DIR / "sources"

# The world the synthetic generator writes, and the as-of date of its last batch.
DEFAULT_SCALE = 0.01
DEFAULT_SEED = 20261127


# DuckDB's memory limit for every warehouse session, dbt's (profiles.yml reads the same variable,
# with the same default) and the readers' (gates, publication). DuckDB's own default, 80% of RAM,
# would let one reader take the whole 12 GiB an SF 10 run may use; beyond the limit it spills.
DUCKDB_MEMORY_DEFAULT = "6GB"


def duckdb_memory_limit() -> str:
    return os.environ.get("POWERTRACE_DUCKDB_MEMORY") or DUCKDB_MEMORY_DEFAULT


def lake_dir(override: str | os.PathLike | None = None) -> Path:
    value = override or os.environ.get("POWERTRACE_LAKE") or PROJECT_DIR / "lake"
    return Path(value).resolve()


def state_dir() -> Path:
    return Path(os.environ.get("POWERTRACE_STATE") or PROJECT_DIR / ".state").resolve()


def dbt_target_dir() -> Path:
    """dbt's target/ (manifest, run results): tool state, never data."""
    return state_dir() / "dbt" / "target"


def dbt_log_dir() -> Path:
    return state_dir() / "dbt" / "logs"


def ingest_threads() -> int:
    """Systems of one kind ingested at once (``POWERTRACE_INGEST_THREADS``, default 2, the cores
    here). Kinds of one system (the provincial registries, the largest deliveries) are never
    doubled up; set 1 where memory is tight."""
    value = os.environ.get("POWERTRACE_INGEST_THREADS", "2")
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"POWERTRACE_INGEST_THREADS must be a whole number of at least 1, not {value!r}")
    return int(value)


def dagster_home() -> Path:
    return Path(os.environ.get("DAGSTER_HOME") or state_dir() / "dagster").resolve()


class Zones:
    """The lake's folders. Nothing outside ``root`` is written by the data path."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = lake_dir(root)

    landing = property(lambda self: self.root / "landing")
    bronze = property(lambda self: self.root / "bronze")
    quarantine = property(lambda self: self.root / "quarantine")
    ledger = property(lambda self: self.root / "ledger")
    published = property(lambda self: self.root / "published")
    restricted = property(lambda self: self.root / "restricted")
    truth = property(lambda self: self.root / "truth")
    warehouse = property(lambda self: self.root / "warehouse.duckdb")
    # gate results per run (Delta) and the Great Expectations Data Docs ops open in a browser
    gates = property(lambda self: self.root / "gates")
    # one row per run and published table: versions, gate results, bronze versions (history, rollback)
    publications = property(lambda self: self.root / "publications")
    # what can always be rebuilt, so deleting it loses nothing: the landed files' sha256 (ingest/landing.py)
    cache = property(lambda self: self.root / "cache")

    def bronze_table(self, system_id: str, entity: str) -> Path:
        return self.bronze / system_id / entity
