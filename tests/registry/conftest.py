"""Fixtures for the source registry tests: the shipped registry and editable copies of it."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from orchestration.contracts import Contract, load_registry
from orchestration.settings import SOURCES_DIR

# A city system with several tables and two mapping versions: a rich contract to break.
SAMPLE = Path("city/village_finance/village_finance_330200.yml")


@pytest.fixture(scope="session")
def registry() -> dict[str, Contract]:
    return load_registry(SOURCES_DIR)


@pytest.fixture
def sources_copy(tmp_path, monkeypatch) -> Path:
    """A private registry holding one valid contract, made current through POWERTRACE_SOURCES."""
    root = tmp_path / "sources"
    (root / SAMPLE.parent).mkdir(parents=True)
    shutil.copy(SOURCES_DIR / SAMPLE, root / SAMPLE)
    monkeypatch.setenv("POWERTRACE_SOURCES", str(root))
    return root


@pytest.fixture
def sample_path(sources_copy) -> Path:
    """The copied sample contract, to be broken by a test."""
    return sources_copy / SAMPLE

