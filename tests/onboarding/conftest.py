"""Fixtures of the onboarding tests (the sample writers are in onboarding_samples.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

BATCH = "2026-09-30"


@pytest.fixture
def batch(tmp_path) -> Path:
    """An empty batch folder named by its date, as landing/<system>/<date>/ is."""
    folder = tmp_path / "landing" / "new_system" / BATCH
    folder.mkdir(parents=True)
    return folder
