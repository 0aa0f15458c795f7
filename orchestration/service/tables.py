"""The lake tables the alert service reads: where they are, their columns, how to read them.

This module is the service's only knowledge of the published schemas; everything else in
``orchestration/service/`` asks it. The pipeline writes these tables (``orchestration/assets/
publish.py``); the service never reads the dbt warehouse file.

- ``<lake>/published/alerts``: every alert of the live supervision models (models.md's contract
  plus the lifecycle columns). ``stale`` and ``stale_as_of`` may be absent (read as false / null).
- (``<lake>/published/scorecard`` is the pipeline's scorecard as of its last run, for consumers
  reading the lake; the API's ``/scorecard`` is computed live from the alerts and the current
  dispositions, so it never waits for the next run.)
- ``<lake>/published/ineligible_payees``: the real-time payment check's index (SM03):
  one row per interval in which a person may not receive a work subsidy (see payment_check.py).
- ``<lake>/restricted/person_identity``: person_ref -> id_number, name. Read only to re-identify
  a subject, under its own permission, one person at a time.

A Delta overwrite is one atomic commit, so a reader sees one version of a table, never a mix.
``table_version`` is how the service notices a new publication without a restart.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import polars as pl
import pyarrow as pa

AMOUNT = pa.decimal128(18, 2)

ALERTS = pa.schema([
    ("alert_id", pa.string()), ("model_id", pa.string()), ("model_version", pa.string()),
    ("rule_branch", pa.string()), ("severity", pa.string()), ("domain", pa.string()),
    ("region_code", pa.string()), ("primary_key", pa.string()), ("subject_ref", pa.string()),
    ("title", pa.string()), ("evidence", pa.string()), ("amount", AMOUNT), ("event_date", pa.date32()),
    ("status", pa.string()), ("first_detected_as_of", pa.date32()), ("last_detected_as_of", pa.date32()),
    ("resolved_as_of", pa.date32()), ("stale", pa.bool_()), ("stale_as_of", pa.date32()),
])
# Columns a publication may lack, with the value they stand for when absent.
ALERTS_OPTIONAL = {"stale": False, "stale_as_of": None}

INELIGIBLE_PAYEES = pa.schema([
    ("person_ref", pa.string()), ("branch", pa.string()), ("village_code", pa.string()),
    ("valid_from", pa.date32()), ("valid_to", pa.date32()),
])

PERSON_IDENTITY = pa.schema([("person_ref", pa.string()), ("id_number", pa.string()), ("name", pa.string())])

SCHEMAS = {"alerts": ALERTS, "ineligible_payees": INELIGIBLE_PAYEES}

SEVERITIES = ("red", "yellow")
DOMAINS = ("village", "medical", "bidding", "social_insurance", "social_assistance", "assets")
LIFECYCLE_STATUSES = ("open", "resolved")


class TableError(RuntimeError):
    """A published table that cannot be used (missing columns, unreadable); names the path."""


def published_path(lake: Path, table: str) -> Path:
    return Path(lake) / "published" / table


def restricted_path(lake: Path, table: str) -> Path:
    return Path(lake) / "restricted" / table


def table_version(path: Path) -> int | None:
    """The Delta version of the table at ``path``; None when no table is there yet."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        return DeltaTable(str(path)).version()
    except TableNotFoundError:
        return None


def read_table(path: Path, schema: pa.Schema, version: int | None = None,
               optional: dict | None = None) -> pl.DataFrame:
    """A published table (at ``version``, default latest) as polars, in ``schema``'s column order.

    Columns of ``optional`` that the table lacks are filled with their default; any other missing
    column is a TableError naming the table and the columns."""
    from deltalake import DeltaTable

    try:
        frame = pl.from_arrow(DeltaTable(str(path), version=version).to_pyarrow_table())
    except Exception as exc:  # deltalake raises several types; the service needs one
        raise TableError(f"{path}: cannot read Delta table (version {version}): {exc}") from exc
    optional = optional or {}
    missing = [f.name for f in schema if f.name not in frame.columns and f.name not in optional]
    if missing:
        raise TableError(f"{path}: columns {missing} are missing (expected {schema.names})")
    fills = [pl.lit(optional[f.name], dtype=_polars_type(f.type)).alias(f.name)
             for f in schema if f.name not in frame.columns]
    frame = frame.with_columns(fills) if fills else frame
    frame = frame.select(schema.names)
    if "stale" in frame.columns:
        frame = frame.with_columns(pl.col("stale").fill_null(False))
    return frame


def read_alerts(lake: Path, version: int | None = None) -> pl.DataFrame:
    return read_table(published_path(lake, "alerts"), ALERTS, version, ALERTS_OPTIONAL)


def read_ineligible_payees(lake: Path, version: int | None = None) -> pl.DataFrame:
    return read_table(published_path(lake, "ineligible_payees"), INELIGIBLE_PAYEES, version)


def lookup_person(lake: Path, person_ref: str) -> dict | None:
    """The restricted identity row of one person (id_number, name), or None."""
    path = restricted_path(lake, "person_identity")
    if table_version(path) is None:
        return None
    rows = (pl.scan_delta(str(path)).filter(pl.col("person_ref") == person_ref)
            .select(PERSON_IDENTITY.names).head(1).collect())
    return rows.row(0, named=True) if rows.height else None


def _polars_type(arrow_type: pa.DataType) -> pl.DataType:
    return pl.from_arrow(pa.array([], type=arrow_type)).dtype


# --------------------------------------------------------------------------- writing (tests, bench, pipeline)
def to_arrow(rows: Iterable[dict], schema: pa.Schema) -> pa.Table:
    """Rows (dicts of Python values; missing keys are null) as an Arrow table of ``schema``."""
    rows = list(rows)
    return pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in rows], schema=schema)


def write_table(path: Path, rows: Iterable[dict] | pa.Table, schema: pa.Schema) -> int:
    """Overwrite the Delta table at ``path`` in one commit (as publication does); returns its version."""
    from deltalake import DeltaTable, write_deltalake

    table = rows if isinstance(rows, pa.Table) else to_arrow(rows, schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(str(path), table, mode="overwrite", schema_mode="overwrite")
    return DeltaTable(str(path)).version()


def write_published(lake: Path, table: str, rows: Iterable[dict] | pa.Table) -> int:
    return write_table(published_path(lake, table), rows, SCHEMAS[table])


def write_person_identity(lake: Path, rows: Iterable[dict]) -> int:
    return write_table(restricted_path(lake, "person_identity"), rows, PERSON_IDENTITY)

