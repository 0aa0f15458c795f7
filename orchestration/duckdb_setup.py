"""DuckDB extensions offline: DuckDB cannot download them here, so they come from PyPI packages
(`duckdb-extension-delta`, pinned with duckdb 1.5.5) and are installed into the user's extension
folder once; after that dbt-duckdb's `extensions: [delta]` and a plain `LOAD delta` work offline."""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def ensure_delta_extension() -> None:
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("LOAD delta")
    except duckdb.Error:
        import duckdb_extensions

        duckdb_extensions.import_extension("delta")
        con.execute("LOAD delta")
    finally:
        con.close()
