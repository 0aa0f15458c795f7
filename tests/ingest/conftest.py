"""Fixtures of the ingestion tests: a lake and the payment contract, in tmp_path."""
from __future__ import annotations

from pathlib import Path

import pytest
from ingest_helpers import contract_doc, write_contract

from orchestration.contracts import Contract


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    path = tmp_path / "lake"
    path.mkdir()
    return path


@pytest.fixture
def contract(tmp_path: Path) -> Contract:
    return write_contract(tmp_path, contract_doc())
