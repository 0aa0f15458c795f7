"""Phase markers: where a pipeline run is, written as it goes.

When ``POWERTRACE_PHASE_LOG`` names a file, each phase of a run — ``ingestion`` (per system),
``dbt_build``, ``gate``, ``publication`` — appends ``enter <phase> <detail> <pid>`` when it starts and
``leave …`` when it ends, flushed at once. Ops can tail it to see where a run hangs; the
crash-safety test reads it to prove that each SIGKILL landed inside the phase it aimed at.
Unset (the default), nothing is written.
"""
from __future__ import annotations

import os
from contextlib import contextmanager


def _mark(line: str) -> None:
    path = os.environ.get("POWERTRACE_PHASE_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{line} {os.getpid()}\n")
            out.flush()
            os.fsync(out.fileno())


@contextmanager
def phase(name: str, detail: str = "-"):
    _mark(f"enter {name} {detail}")
    yield
    _mark(f"leave {name} {detail}")
