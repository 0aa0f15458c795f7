"""Fixtures for the dbt project tests: the identity macros rendered as plain SQL, and DuckDB."""
from __future__ import annotations

import duckdb
import pytest

from orchestration.dbt_macros import render_macros
from orchestration.dbt_session import session_statements
from orchestration.pseudonym import DEV_KEY


@pytest.fixture(scope="session")
def identity():
    """The macros of macros/identity/ (with the engine macros they call) as callables returning
    DuckDB's SQL text.

    They are plain Jinja (no dbt context needed), so rendering them here tests the very SQL dbt
    compiles, without the cost of a dbt invocation per example.
    """
    return render_macros(["identity", "engine"])


@pytest.fixture(scope="session")
def duck():
    """A DuckDB session set up as the dbt profile's plugin sets up dbt's (development key)."""
    con = duckdb.connect()
    for statement in session_statements(DEV_KEY):
        con.execute(statement)
    yield con
    con.close()

