"""A hand-made bronze zone for dbt tests: Delta tables in the bronze layout of docs/architecture.md.

Every table of every registered system exists (empty unless rows are given), as ingestion leaves
it, so the dbt project can read systems that have not delivered.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path

import polars as pl

from orchestration.canonical import entities
from orchestration.contracts import Contract
from orchestration.ingest.delta import bronze_table_schema

INGESTED_AT = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.timezone.utc)


def bronze_schema(entity: str) -> dict[str, pl.DataType]:
    """The schema ingestion writes (canonical columns, then lineage columns)."""
    return bronze_table_schema(entities()[entity])


def bronze_frame(system_id: str, entity: str, rows: Iterable[Mapping], batch_date: dt.date) -> pl.DataFrame:
    """Rows given as canonical column -> Python value of the column's type (date, Decimal, ...);
    missing columns are null, lineage is filled in."""
    schema = bronze_schema(entity)
    records = []
    for i, row in enumerate(rows, start=2):  # line 1 is the header
        unknown = set(row) - set(schema)
        if unknown:
            raise KeyError(f"{entity}: not canonical columns: {sorted(unknown)}")
        records.append({"_system_id": system_id, "_batch_date": batch_date, "_file_name": f"{entity}.csv",
                        "_file_hash": "0" * 64, "_source_row": i, "_ingested_at": INGESTED_AT, **row})
    frame = pl.DataFrame(records, schema=schema)
    for column in schema:  # polars turns a value of the wrong type into null without a word
        given = sum(r.get(column) is not None for r in records)
        if frame[column].null_count() != len(records) - given:
            raise TypeError(f"{entity}.{column}: some values are not of type {schema[column]}")
    return frame


def write_bronze(lake: Path, registry: Mapping[str, Contract],
                 rows: Mapping[tuple[str, str], list[tuple[dt.date, list[Mapping]]]]) -> None:
    """Write bronze for every (system, table) of ``registry``: the given batches, else empty.

    ``rows[(system_id, table)]`` is a list of (batch_date, rows) deliveries.
    """
    for system_id, contract in registry.items():
        for table, spec in contract.tables.items():
            target = lake / "bronze" / system_id / table
            batches = rows.get((system_id, table)) or [(dt.date(2026, 9, 30), [])]
            frame = pl.concat([bronze_frame(system_id, spec.entity, r, d) for d, r in batches])
            frame.write_delta(str(target), mode="overwrite")
