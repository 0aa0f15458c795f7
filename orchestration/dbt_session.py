"""dbt-duckdb plugin: the per-run values every warehouse session needs, set as DuckDB variables.

The dbt profile (``dbt_project/profiles.yml``) loads this module as a dbt-duckdb plugin. On every
DuckDB cursor dbt opens it sets:

- ``powertrace_lake``: the lake folder. Bronze sources read
  ``delta_scan(getvariable('powertrace_lake') || '/bronze/<system_id>/<table>')``, so the lake is
  resolved when a query runs, never when dbt parses: one manifest serves every lake.
- ``powertrace_hmac_ipad`` / ``powertrace_hmac_opad``: the HMAC-SHA256 pads of the pseudonym key
  (64-byte BLOBs). The ``person_ref`` macro hashes in SQL with them, so the key itself never
  appears in compiled SQL, in dbt's logs or in the manifest.
"""
from __future__ import annotations

import hashlib
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from orchestration.pseudonym import pseudonym_key

SHA256_BLOCK = 64  # bytes


def hmac_pads(key: str) -> tuple[bytes, bytes]:
    """(K xor ipad, K xor opad) of RFC 2104 for HMAC-SHA256, K the key padded to one block."""
    k = key.encode("utf-8")
    if len(k) > SHA256_BLOCK:
        k = hashlib.sha256(k).digest()
    k = k.ljust(SHA256_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k)


def session_statements(lake: str, key: str) -> list[str]:
    """The SET VARIABLE statements of one session (values are hex or quoted, never raw input)."""
    ipad, opad = hmac_pads(key)
    quoted_lake = lake.rstrip("/").replace("'", "''")
    return [f"SET VARIABLE powertrace_lake = '{quoted_lake}'",
            f"SET VARIABLE powertrace_hmac_ipad = unhex('{ipad.hex()}')",
            f"SET VARIABLE powertrace_hmac_opad = unhex('{opad.hex()}')"]


class Plugin(BasePlugin):
    """Configured in profiles.yml with ``config: {lake: "{{ env_var('POWERTRACE_LAKE') }}"}``."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        lake = plugin_config.get("lake")
        if not lake:
            raise ValueError("dbt profile: the orchestration.dbt_session plugin needs config.lake "
                             "(set POWERTRACE_LAKE to the lake folder)")
        self._statements = session_statements(str(lake), pseudonym_key())

    def configure_connection(self, conn) -> None:
        self.configure_cursor(conn)

    def configure_cursor(self, cursor) -> None:
        # DuckDB variables belong to one connection, and every dbt thread has its own cursor.
        for statement in self._statements:
            cursor.execute(statement)
