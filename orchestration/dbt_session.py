"""dbt-duckdb plugin: what every warehouse session needs before a model runs.

The dbt profile (``dbt_project/profiles.yml``) loads this module as a dbt-duckdb plugin.

- **Bronze, attached once per dbt invocation.** When dbt opens its DuckDB connection, every bronze
  Delta table under ``<lake>/bronze/<system_id>/<table>`` is attached as the catalog
  ``bronze__<system_id>__<table>`` (``BRONZE_CATALOG``) at its current snapshot, pinned; the
  generated dbt sources read it with ``query_table('bronze__<system_id>__<table>')``. So the lake
  is resolved when dbt runs, never when it parses (one manifest serves every lake), and a build
  sees one consistent state of bronze. Why attached rather than ``delta_scan(path)`` in every
  query: ``delta_scan`` re-reads the table's Delta log each time a query is planned, and a build
  plans the 198 bronze tables about five times over (staging views, each silver model's contract
  check and its insert, ``as_of_date``, ``person_identity``): 2.5 ms a table each time, ~0.2 s
  for one query over the 85 hospitals' tables against 3 ms pinned (docs/scaling.md).
- **The pseudonym key's pads, on every cursor**: ``powertrace_hmac_ipad`` /
  ``powertrace_hmac_opad``, the HMAC-SHA256 pads of the pseudonym key (64-byte BLOBs). The
  ``person_ref`` macro hashes in SQL with them, so the key itself never appears in compiled SQL,
  in dbt's logs or in the manifest.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from orchestration.pseudonym import pseudonym_key
from orchestration.sql_quoting import sql_identifier, sql_string

SHA256_BLOCK = 64  # bytes


def hmac_pads(key: str) -> tuple[bytes, bytes]:
    """(K xor ipad, K xor opad) of RFC 2104 for HMAC-SHA256, K the key padded to one block."""
    k = key.encode("utf-8")
    if len(k) > SHA256_BLOCK:
        k = hashlib.sha256(k).digest()
    k = k.ljust(SHA256_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k)


def session_statements(key: str) -> list[str]:
    """The SET VARIABLE statements of one cursor (values are hex, never raw input)."""
    ipad, opad = hmac_pads(key)
    return [f"SET VARIABLE powertrace_hmac_ipad = unhex('{ipad.hex()}')",
            f"SET VARIABLE powertrace_hmac_opad = unhex('{opad.hex()}')"]


# The catalog name of a bronze table; orchestration/dbt_sources.py points every source at it.
BRONZE_CATALOG = "bronze__{system_id}__{table}"


def bronze_attach_statements(lake: str | Path) -> list[str]:
    """ATTACH statements for every bronze Delta table of ``lake`` (a DuckDB session with the delta
    extension loaded runs them; any session that reads the staging views needs them)."""
    statements = []
    for log in sorted((Path(lake) / "bronze").glob("*/*/_delta_log")):
        table = log.parent
        catalog = BRONZE_CATALOG.format(system_id=table.parent.name, table=table.name)
        statements.append(f"ATTACH IF NOT EXISTS {sql_string(str(table))} AS {sql_identifier(catalog)} "
                          "(TYPE delta, PIN_SNAPSHOT)")
    return statements


class Plugin(BasePlugin):
    """Configured in profiles.yml with ``config: {lake: "{{ env_var('POWERTRACE_LAKE') }}"}``."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        lake = plugin_config.get("lake")
        if not lake:
            raise ValueError("dbt profile: the orchestration.dbt_session plugin needs config.lake "
                             "(set POWERTRACE_LAKE to the lake folder)")
        self._lake = str(lake)
        self._statements = session_statements(pseudonym_key())

    def configure_connection(self, conn) -> None:
        # Catalogs belong to the database, which every cursor of the connection shares; dbt-duckdb
        # opens the connection once per invocation (after loading the delta extension).
        for statement in bronze_attach_statements(self._lake):
            conn.execute(statement)
        self.configure_cursor(conn)

    def configure_cursor(self, cursor) -> None:
        # DuckDB variables belong to one cursor, and every dbt thread has its own.
        for statement in self._statements:
            cursor.execute(statement)
