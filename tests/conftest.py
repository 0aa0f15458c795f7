"""Fixtures shared by every test area. Keep it minimal: area fixtures live in tests/<area>/conftest.py."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> Path:
    """A lake holding the synthetic world at SF 0.01, seed 7 (landing/ and truth/), built once
    per test session with the shipped registry, every scenario module and the default defects."""
    from orchestration.world.generate import generate

    lake = tmp_path_factory.mktemp("small_world")
    generate(lake, 0.01, 7, progress=False)
    return lake
