"""Every DuckDB session on the warehouse is capped by POWERTRACE_DUCKDB_MEMORY: dbt's through the
profile, the gates' and publication's read-only sessions through connect_readonly (uncapped,
DuckDB takes up to 80% of RAM, and one reader alone could pass an SF 10 run's 12 GiB)."""
import duckdb
import yaml

from orchestration.settings import DBT_PROJECT_DIR, DUCKDB_MEMORY_DEFAULT
from orchestration.warehouse import connect_readonly


def _limit(con) -> str:
    return con.execute("select current_setting('memory_limit')").fetchone()[0]


def test_read_only_sessions_take_the_configured_limit(tmp_path, monkeypatch):
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    monkeypatch.setenv("POWERTRACE_DUCKDB_MEMORY", "1GB")
    with connect_readonly(warehouse) as con:
        assert _limit(con) == "953.6 MiB"   # DuckDB shows 1 GB in MiB
    monkeypatch.delenv("POWERTRACE_DUCKDB_MEMORY")
    with connect_readonly(warehouse) as con:
        assert _limit(con) == "5.5 GiB"     # the default, 6 GB


def test_the_dbt_profile_has_the_same_default():
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    limit = profile["powertrace"]["outputs"]["lake"]["settings"]["memory_limit"]
    assert f"env_var('POWERTRACE_DUCKDB_MEMORY', '{DUCKDB_MEMORY_DEFAULT}')" in limit
