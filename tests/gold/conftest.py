"""Fixtures of the gold tests: a private copy of the dbt project, built with dbt in process."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from orchestration.contracts import registry
from orchestration.dbt_sources import write_sources
from orchestration.settings import DBT_PROJECT_DIR

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "dbt"))  # dbt_bronze_fixture

KEY = "test-key-for-gold"


class DbtProjectCopy:
    """The shipped dbt project copied under tmp (sources generated there): tests may add models."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / "dbt_project"
        self.target = root / "state" / "target"
        shutil.copytree(DBT_PROJECT_DIR, self.dir,
                        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "sources", "generated"))

    def prepare(self) -> None:
        write_sources(self.dir, registry())

    def dbt(self, lake: Path, *args: str) -> list[str]:
        """Run dbt in process on ``lake``; returns the names of nodes that did not succeed."""
        return list(self.dbt_failures(lake, *args))

    def dbt_failures(self, lake: Path, *args: str) -> dict[str, str]:
        """Run dbt in process on ``lake``; returns each node that did not succeed with its message."""
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
        from dbt.cli.main import dbtRunner

        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("POWERTRACE_LAKE", str(lake))
            mp.setenv("POWERTRACE_PSEUDONYM_KEY", KEY)
            result = dbtRunner().invoke([*args, "--project-dir", str(self.dir), "--profiles-dir", str(self.dir),
                                         "--target-path", str(self.target),
                                         "--log-path", str(self.root / "state" / "logs"), "--quiet"])
        # dbt-duckdb keeps the database open in this process: close it for the readers that follow
        DuckDBConnectionManager.close_all_connections()
        failed = {r.node.name: r.message or "" for r in (result.result or []) if r.status not in ("success", "pass")}
        if not result.success and not failed:
            raise RuntimeError(f"dbt {' '.join(args)} failed: {result.exception}")
        return failed


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory) -> DbtProjectCopy:
    return DbtProjectCopy(tmp_path_factory.mktemp("gold_dbt"))
