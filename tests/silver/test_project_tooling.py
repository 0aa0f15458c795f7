"""The model author's tools: the SQL style lint (sqlfluff, config in .sqlfluff at the repo root)
passes on every model, and `dbt docs generate` builds the lineage site from the project."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_DIR

pytestmark = pytest.mark.slow


def test_sqlfluff_lint_passes():
    if not (DBT_PROJECT_DIR / "macros" / "generated").exists():
        pytest.fail("dbt_project/macros/generated is missing: run `powertrace prepare` before linting")
    sqlfluff = Path(sys.executable).parent / "sqlfluff"
    result = subprocess.run([str(sqlfluff), "lint", "dbt_project", "--processes", "2"],
                            cwd=PROJECT_DIR, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:]


def test_dbt_docs_generate_builds_the_lineage_site(built_world):
    result = built_world.dbt("docs", "generate")
    assert result.success, result.exception
    site = built_world.target
    assert (site / "index.html").exists() and (site / "catalog.json").exists()
    import json

    catalog = json.loads((site / "catalog.json").read_text())
    assert "model.powertrace.relation" in catalog["nodes"]
