"""Clean world rows as polars frames with the canonical dtypes, the input of every truth oracle.

Decimals become Float64: the oracles compare sums of 2-dp amounts against round thresholds, and
a float carries those exactly enough (the planting code keeps clear margins around thresholds).
"""
from __future__ import annotations

from decimal import Decimal

import polars as pl

from orchestration.canonical import entities
from orchestration.world.core import World

POLARS_TYPES: dict[str, pl.DataType] = {
    "string": pl.Utf8, "date": pl.Date, "timestamp": pl.Datetime("us"), "decimal": pl.Float64,
    "int": pl.Int64, "float": pl.Float64, "bool": pl.Boolean,
}


def schema_of(entity: str) -> dict[str, pl.DataType]:
    """The polars schema of an entity's clean frame: canonical columns plus ``_system_id``."""
    cols = {c: POLARS_TYPES[t] for c, t in entities()[entity].columns.items()}
    cols["_system_id"] = pl.Utf8
    return cols


def _as_float(value):
    return float(value) if isinstance(value, Decimal) else value


def frame(entity: str, rows: list[dict]) -> pl.DataFrame:
    """One entity's rows (list of dicts, canonical columns) as a typed frame; built column-wise."""
    schema = schema_of(entity)
    columns = {}
    for col, dtype in schema.items():
        values = [row.get(col) for row in rows]
        if dtype == pl.Float64:
            values = [_as_float(v) for v in values]
        columns[col] = pl.Series(col, values, dtype=dtype)
    return pl.DataFrame(columns, schema=schema)


def frames(world: World) -> dict[str, pl.DataFrame]:
    """Every canonical entity of the world as a typed frame (empty frames for empty entities)."""
    return {entity: frame(entity, world.tables.get(entity, [])) for entity in entities()}
