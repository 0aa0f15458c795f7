"""Fixtures of the world generator's tests: a few-system registry and tiny worlds rendered with it."""
from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from orchestration.contracts import registry
from orchestration.settings import SOURCES_DIR
from world_helpers import MINI_SYSTEMS, tiny


@pytest.fixture(scope="session")
def mini_sources(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("mini_sources")
    for sid, folder in MINI_SYSTEMS.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(SOURCES_DIR / folder / f"{sid}.yml", root / folder / f"{sid}.yml")
    return root


@pytest.fixture(scope="session")
def single_source(tmp_path_factory) -> Path:
    """A registry of one small system (the marriage registry): the cheapest world to render."""
    root = tmp_path_factory.mktemp("single_source")
    folder = MINI_SYSTEMS["marriage_registry_330000"]
    (root / folder).mkdir(parents=True)
    shutil.copy(SOURCES_DIR / folder / "marriage_registry_330000.yml", root / folder)
    return root


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory, mini_sources) -> Path:
    return tiny(tmp_path_factory.mktemp("tiny_world"), mini_sources)


@pytest.fixture(scope="session")
def world_registry():
    return registry(SOURCES_DIR)


@pytest.fixture(scope="session")
def manifest(small_world) -> pl.DataFrame:
    return pl.read_parquet(small_world / "truth" / "manifest.parquet")
