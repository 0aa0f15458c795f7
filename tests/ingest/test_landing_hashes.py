"""The landed files' sha256 are kept between runs (orchestration/ingest/landing.py, HashCache):
a daily run does not read all of landing again to find the new batch, yet a re-delivered file is
always read again, whatever times it carries."""
from __future__ import annotations

import os
import time

import pytest

from orchestration import file_cache
from orchestration.ingest import landing
from orchestration.ingest.landing import file_sha256, landed_batches

SYSTEM = "death_registry_330000"


@pytest.fixture
def lake(tmp_path):
    for day in ("2026-10-01", "2026-10-02"):
        folder = tmp_path / "landing" / SYSTEM / day
        folder.mkdir(parents=True)
        (folder / "death.csv").write_text(f"id_number\n{day}\n")
    return tmp_path


def _hashes(lake):
    batches, _ = landed_batches(lake, SYSTEM)
    return {(b.batch_date.isoformat(), f.name): f.sha256 for b in batches for f in b.files}


def test_a_settled_file_is_not_read_again(lake, monkeypatch):
    monkeypatch.setattr(file_cache, "SETTLED_NS", 0)
    first = _hashes(lake)
    assert (lake / "cache" / "landing_sha256" / f"{SYSTEM}.json").is_file()

    def unread(path):
        raise AssertionError(f"{path} was read again")

    monkeypatch.setattr(landing, "file_sha256", unread)
    assert _hashes(lake) == first


def test_a_redelivered_file_is_read_again_even_with_its_old_size_and_times(lake, monkeypatch):
    monkeypatch.setattr(file_cache, "SETTLED_NS", 0)
    _hashes(lake)
    path = lake / "landing" / SYSTEM / "2026-10-02" / "death.csv"
    before = path.stat()
    time.sleep(0.05)                                     # past the file system's clock tick
    path.write_text("id_number\n2026-10-09\n")           # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))   # and the old modification time
    assert path.stat().st_size == before.st_size
    assert _hashes(lake)[("2026-10-02", "death.csv")] == file_sha256(path)


def test_a_file_changed_in_the_last_seconds_is_not_kept(lake):
    _hashes(lake)   # the files were written just now: their hashes are not trusted yet
    cache = lake / "cache" / "landing_sha256" / f"{SYSTEM}.json"
    assert not cache.exists() or cache.read_text() == "{}"


def test_a_lost_or_corrupt_cache_only_costs_reading_again(lake, monkeypatch):
    monkeypatch.setattr(file_cache, "SETTLED_NS", 0)
    first = _hashes(lake)
    (lake / "cache" / "landing_sha256" / f"{SYSTEM}.json").write_text("{not json")
    assert _hashes(lake) == first
