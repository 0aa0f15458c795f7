"""Crash safety: `powertrace run` killed with SIGKILL inside each of its phases, again and again,
then run to the end, leaves the lake as an uninterrupted run does.

Seeded: the kill plan (which phase, how long after it starts) comes from one random.Random. Each
kill is proven to lie inside its phase by the phase log the pipeline writes
(orchestration/phases.py: the last line for that phase is an `enter` without its `leave`). The
whole process group is killed (dbt runs as a child process), as a power cut would.

After the last kill the run completes; then bronze holds no duplicate rows, the ledger
reconciles, and every published table equals the one an uninterrupted run on a copy of the same
landing published (run ids and Delta versions aside).
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

pytestmark = pytest.mark.soak

SEED = 20261127
# ingestion first: only the first runs have batches left to ingest
PLAN = ["ingestion", "ingestion", "ingestion", "dbt_build", "dbt_build", "dbt_build", "gate", "gate",
        "publication", "publication"]
RUN_ID_COLUMNS = {"run_id"}


def powertrace(lake: Path, home: Path, phase_log: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "POWERTRACE_LAKE": str(lake), "DAGSTER_HOME": str(home),
           "POWERTRACE_PHASE_LOG": str(phase_log)}
    return subprocess.Popen([str(Path(sys.executable).with_name("powertrace")), "--lake", str(lake), *args],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def open_phase(lines: list[str]) -> str | None:
    """The phase entered and not yet left, from the phase log's lines."""
    inside: dict[str, int] = {}
    for line in lines:
        what, name = line.split()[:2]
        inside[name] = inside.get(name, 0) + (1 if what == "enter" else -1)
    return next((n for n, depth in inside.items() if depth > 0), None)


def kill_inside(lake: Path, home: Path, phase: str, delay: float, tmp: Path) -> bool:
    """Start a run, SIGKILL its process group `delay` s after it enters `phase`; True when the kill
    is proven inside the phase, False when the phase was never entered or already left."""
    log = tmp / f"phases-{time.monotonic_ns()}.log"
    log.touch()
    process = powertrace(lake, home, log, "run")
    entered_at = None
    try:
        while process.poll() is None:
            lines = log.read_text().splitlines()
            now_in = open_phase(lines)
            if now_in == phase and entered_at is None:
                entered_at = time.monotonic()
            if entered_at is not None and time.monotonic() - entered_at >= delay:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return open_phase(log.read_text().splitlines()) == phase
            time.sleep(0.01)
        return False
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def complete_run(lake: Path, home: Path, tmp: Path) -> None:
    process = powertrace(lake, home, tmp / "phases-final.log", "run")
    assert process.wait(timeout=1200) == 0, f"the run after the kills failed (lake {lake})"


def published(lake: Path) -> dict[str, pl.DataFrame]:
    tables = {}
    for path in sorted((lake / "published").iterdir()):
        frame = pl.read_delta(str(path))
        frame = frame.drop([c for c in frame.columns if c in RUN_ID_COLUMNS])
        tables[path.name] = frame.sort(frame.columns) if frame.height else frame
    return tables


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    from orchestration.world.generate import generate

    root = tmp_path_factory.mktemp("crash_world")
    generate(root, 0.005, 11, progress=False)
    return root


def lake_from(world: Path, root: Path) -> Path:
    for zone in ("landing", "truth"):
        shutil.copytree(world / zone, root / zone)
    return root


def test_sigkill_in_every_phase_leaves_the_lake_as_an_uninterrupted_run(world, tmp_path):
    reference = lake_from(world, tmp_path / "reference")
    complete_run(reference, tmp_path / "reference-dagster", tmp_path)

    lake = lake_from(world, tmp_path / "crashed")
    home = tmp_path / "crashed-dagster"
    rng = random.Random(SEED)
    proven = []
    for phase in PLAN:
        for attempt in range(4):  # a phase shorter than the delay is retried with a shorter one
            delay = rng.uniform(0.0, 2.0) / (attempt + 1)
            if kill_inside(lake, home, phase, delay, tmp_path):
                proven.append(phase)
                break
    assert proven == PLAN, f"kills proven inside their phase: {proven}"
    complete_run(lake, home, tmp_path)

    ledger = pl.read_delta(str(lake / "ledger"))
    assert ledger["reconciled"].all()
    for table_dir in sorted((lake / "bronze").glob("*/*")):
        bronze = pl.read_delta(str(table_dir))
        assert bronze.select("_batch_date", "_file_name", "_source_row").is_duplicated().sum() == 0, table_dir
    assert ledger["rows_bronze"].sum() == sum(pl.read_delta(str(t)).height for t in (lake / "bronze").glob("*/*"))

    want, got = published(reference), published(lake)
    assert set(got) == set(want)
    for name in want:
        assert got[name].equals(want[name]), f"published/{name} differs from the uninterrupted run"
