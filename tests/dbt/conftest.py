"""Fixtures for the dbt project tests: the identity macros rendered as plain SQL, and DuckDB."""
from __future__ import annotations

import duckdb
import jinja2
import pytest

from orchestration.dbt_session import session_statements
from orchestration.pseudonym import DEV_KEY
from orchestration.settings import DBT_PROJECT_DIR

IDENTITY_MACROS = DBT_PROJECT_DIR / "macros" / "identity"


@pytest.fixture(scope="session")
def identity():
    """The macros of macros/identity/ as callables returning SQL text.

    They are plain Jinja (no dbt context needed), so rendering them here tests the very SQL dbt
    compiles, without the cost of a dbt invocation per example.
    """
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(IDENTITY_MACROS.glob("*.sql")))
    return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(text).module


@pytest.fixture(scope="session")
def duck():
    """A DuckDB session set up as the dbt profile's plugin sets up dbt's (development key)."""
    con = duckdb.connect()
    for statement in session_statements("/nonexistent-lake", DEV_KEY):
        con.execute(statement)
    yield con
    con.close()

