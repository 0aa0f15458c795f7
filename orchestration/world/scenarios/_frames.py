"""Clean world rows as polars frames with the canonical dtypes, the input of every truth oracle.

Decimals become Float64: the oracles compare sums of 2-dp amounts against round thresholds, and
a float carries those exactly enough (the planting code keeps clear margins around thresholds).

Oracles take ``tables`` (entity -> DataFrame, or LazyFrame scans of ``truth/clean/``) and never
hold a large entity whole: they read it through ``lazy`` with filters and only the columns they
need, and work through the world in groups of keys (``groups``: villages, recipients, projects...)
loading per group only the rows that can decide that group's alerts.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
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


# --------------------------------------------------------------------------- reading for the oracles
GROUP_SIZE = 1000   # keys per group an oracle judges at a time (the memory it needs does not grow with scale)


def lazy(tables: Mapping[str, pl.DataFrame | pl.LazyFrame], entity: str) -> pl.LazyFrame:
    """An entity of ``tables`` as a LazyFrame (empty, with the entity's schema, when absent)."""
    table = tables.get(entity)
    return pl.LazyFrame(schema=schema_of(entity)) if table is None else table.lazy()


def collect(query: pl.LazyFrame) -> pl.DataFrame:
    return query.collect(engine="streaming")


def matching(tables: Mapping[str, pl.DataFrame | pl.LazyFrame], entity: str, keys: pl.DataFrame,
             columns: list[str] | None = None) -> pl.DataFrame:
    """The rows of ``entity`` (only ``columns``, which include the key columns, when given) whose
    values in the columns of ``keys`` equal one of its rows, nulls equal. A semi-join, done as an
    ``is_in`` filter on the first key column while scanning (a join over a large scan holds far
    more memory) and the exact join on what is left."""
    first = keys.get_column(keys.columns[0])
    pick = pl.col(first.name).is_in(first.drop_nulls().unique().to_list())
    if first.null_count():
        pick = pick | pl.col(first.name).is_null()
    query = lazy(tables, entity).filter(pick)
    rows = collect(query.select(columns) if columns else query)
    if len(keys.columns) > 1:
        rows = rows.join(keys.unique(), on=keys.columns, how="semi", nulls_equal=True, maintain_order="left")
    return rows


def distinct(tables: Mapping[str, pl.DataFrame | pl.LazyFrame], entity: str, column: str | pl.Expr) -> list:
    """The distinct non-null values of a column (or expression) of an entity, sorted."""
    expr = pl.col(column) if isinstance(column, str) else column
    values = collect(lazy(tables, entity).select(expr.alias("_value")).drop_nulls().unique())
    return sorted(values.get_column("_value").to_list())


def groups(values: Iterable) -> Iterator[list]:
    """``values`` in consecutive groups of at most ``GROUP_SIZE``."""
    values = list(values)
    for start in range(0, len(values), GROUP_SIZE):
        yield values[start:start + GROUP_SIZE]


def slices(frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
    """``frame``'s rows in consecutive slices of at most ``GROUP_SIZE``."""
    for start in range(0, frame.height, GROUP_SIZE):
        yield frame.slice(start, GROUP_SIZE)
