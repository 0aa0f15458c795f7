"""dbt's parse state: a build that had to re-parse (its profile differed from the saved parse's:
another lake, another memory cap) leaves its parse for the next build, so only the first run after
such a change pays dbt's full parse."""
from __future__ import annotations

import pytest

from orchestration.assets import dbt as dbt_assets


@pytest.fixture
def prepared(tmp_path, monkeypatch):
    target = tmp_path / "target"
    target.mkdir()
    monkeypatch.setattr(dbt_assets, "dbt_target_dir", lambda: target)
    return target


def test_a_changed_parse_replaces_the_saved_one(prepared, tmp_path):
    (prepared / dbt_assets.PARTIAL_PARSE).write_bytes(b"parsed for lake A")
    run = tmp_path / "run"
    run.mkdir()
    (run / dbt_assets.PARTIAL_PARSE).write_bytes(b"parsed for lake B")

    assert dbt_assets.keep_partial_parse(run)
    assert (prepared / dbt_assets.PARTIAL_PARSE).read_bytes() == b"parsed for lake B"
    assert sorted(p.name for p in prepared.iterdir()) == [dbt_assets.PARTIAL_PARSE]  # no temporary left

    assert not dbt_assets.keep_partial_parse(run)  # the same parse: nothing to do


def test_a_build_without_a_parse_leaves_the_saved_one(prepared, tmp_path):
    (prepared / dbt_assets.PARTIAL_PARSE).write_bytes(b"parsed")
    assert not dbt_assets.keep_partial_parse(tmp_path)
    assert (prepared / dbt_assets.PARTIAL_PARSE).read_bytes() == b"parsed"
