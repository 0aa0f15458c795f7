"""The world's deliveries as production meets them: a first run over every batch but the last
day's, then that day lands and the daily run follows. The benchmark of the daily run
(bench/end_to_end.py) and the test that it ends where a full build does
(tests/orchestration/test_run.py) both stage the world this way."""
from __future__ import annotations

import shutil
from pathlib import Path


def hold_back_last_day(lake: Path, held: Path) -> str:
    """Move every batch folder of the world's last day from ``<lake>/landing`` to ``held``
    (kept as ``<system>/<day>``); returns the day."""
    last = max(p.name for p in (lake / "landing").glob("*/*") if p.is_dir())
    for folder in sorted((lake / "landing").glob(f"*/{last}")):
        (held / folder.parent.name).mkdir(parents=True, exist_ok=True)
        folder.rename(held / folder.parent.name / last)
    return last


def land_held_day(lake: Path, held: Path) -> None:
    """Put the held-back batch folders back into landing (a no-op when nothing is held)."""
    for folder in sorted(held.glob("*/*")):
        folder.rename(lake / "landing" / folder.parent.name / folder.name)
    shutil.rmtree(held, ignore_errors=True)
