"""Evaluate rendered macro SQL over values in DuckDB (the identity macro tests' one helper)."""
from __future__ import annotations

import duckdb


def evaluate(con: duckdb.DuckDBPyConnection, sql_of, values: list):
    """``sql_of('v')`` evaluated over each value (in order); returns the results."""
    rows = con.execute(f"select {sql_of('v')} from (select unnest(?::varchar[]) as v, "
                       "generate_subscripts(?::varchar[], 1) as i) order by i", [values, values]).fetchall()
    return [r[0] for r in rows]
