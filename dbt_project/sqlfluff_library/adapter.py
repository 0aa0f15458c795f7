"""sqlfluff's stand-in for dbt's `adapter` (library_path in .sqlfluff): the lint renders the DuckDB
SQL of the engine-dependent macros, dispatching as dbt does (orchestration.dbt_macros)."""
from orchestration.dbt_macros import MacroAdapter

dispatch = MacroAdapter("duckdb").dispatch
