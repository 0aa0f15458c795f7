"""SQL text built from values: a string literal and a quoted identifier, each escaped by doubling
its quote character (standard SQL; DuckDB and Delta's predicate parser read them so)."""
from __future__ import annotations


def sql_string(value: str) -> str:
    """``value`` as a single-quoted SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'
