"""``generate``: determinism, the planted-vs-truth check and the command line."""
from __future__ import annotations

import hashlib
import types
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.contracts import registry
from orchestration.settings import SOURCES_DIR
from orchestration.world.generate import build_world, generate
from orchestration.world.truth import TruthMismatch, discover_scenarios

from world_helpers import tiny


def digests(lake: Path) -> dict[str, str]:
    """sha256 of every file under landing/ and truth/, by relative path."""
    return {p.relative_to(lake).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for zone in ("landing", "truth") for p in sorted((lake / zone).rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, tiny_world, mini_sources):
    again = digests(tiny(tmp_path / "again", mini_sources))
    assert again == digests(tiny_world)
    other = digests(tiny(tmp_path / "other", mini_sources, seed=8))
    assert set(other) & set(again)
    assert all(other[p] != again[p] for p in ("truth/manifest.parquet", "truth/clean/person.parquet"))


def test_full_world_and_truth_are_reproducible(tmp_path, small_world):
    """The whole world (every scenario module, the shipped registry) rebuilt from its seed gives
    the same clean rows, alerts and planted list, byte for byte."""
    build_world(7, 0.01, registry(SOURCES_DIR), discover_scenarios(), tmp_path / "work", tmp_path / "truth")
    rebuilt = {p: d for p, d in digests(tmp_path).items()}
    original = digests(small_world)
    assert rebuilt and all(original[p] == d for p, d in rebuilt.items())


def _module(name: str, plant=None, truth=None) -> types.ModuleType:
    module = types.ModuleType(name)
    if plant:
        module.plant = plant
    if truth:
        module.truth = truth
    return module


def test_a_wrong_planted_positive_stops_generation(tmp_path, mini_sources):
    def plant(world):
        world.plant("SM99", "a", "nowhere:1", "red", note="nothing makes this alert")
        world.plant("SM99", "a", "somewhere:2", decoy=True, note="but this one does")

    def truth(tables, params):
        return pl.DataFrame({"model_id": ["SM99"], "rule_branch": ["a"], "primary_key": ["somewhere:2"],
                             "severity": ["red"]})

    with pytest.raises(TruthMismatch) as err:
        generate(tmp_path, 0.002, 7, progress=False, scenarios=[_module("sm99", plant, truth)], sources=mini_sources)
    message = str(err.value)
    assert "positive not in truth: SM99 a nowhere:1" in message
    assert "decoy alerts: SM99 a somewhere:2" in message
    assert not (tmp_path / "landing").exists()  # nothing delivered from a world that disagrees


def test_oracle_output_is_checked(tmp_path, mini_sources):
    def truth(tables, params):
        return pl.DataFrame({"model_id": ["SM99", "SM99"], "rule_branch": ["b,a", "a"],
                             "primary_key": ["k", "k"], "severity": ["red", "red"]})

    with pytest.raises(ValueError, match="sm98.truth"):
        generate(tmp_path, 0.002, 7, progress=False, scenarios=[_module("sm98", truth=truth)], sources=mini_sources)


def test_cli_refuses_to_overwrite_then_forces(tmp_path, single_source, monkeypatch):
    monkeypatch.setenv("POWERTRACE_SOURCES", str(single_source))
    monkeypatch.setattr("orchestration.world.truth.discover_scenarios", lambda *a, **k: [])
    runner = CliRunner()
    args = ["--lake", str(tmp_path), "generate", "--scale", "0.002", "--seed", "3", "--no-progress"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "files" in first.output and (tmp_path / "truth" / "manifest.parquet").is_file()
    refused = runner.invoke(main, args)
    assert refused.exit_code != 0 and "--force" in refused.output
    forced = runner.invoke(main, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
