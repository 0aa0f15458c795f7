"""bench/RESULTS.md: each benchmark owns one section, rewritten in place with commit, date and machine."""
from __future__ import annotations

import datetime as dt
import os
import platform
import re
import subprocess
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def _machine() -> str:
    cpu = os.cpu_count()
    mem = ""
    try:
        kb = int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    return f"{platform.machine()}, {cpu} cores{mem}, Python {platform.python_version()}"


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=RESULTS.parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def record(title: str, setting: str, lines: list[str], *, command: str) -> None:
    body = "\n".join([f"## {title}", "",
                      f"- measured: {dt.date.today()}, commit {_commit()}, {_machine()}",
                      f"- setting: {setting}", f"- command: `{command}`", "", "```", *lines, "```", "", ""])
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\nWritten by the scripts in bench/.\n\n"
    # the section runs to the next one, the blank line before it included: the body ends with one
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(body, text) if pattern.search(text) else text.rstrip() + "\n\n" + body
    RESULTS.write_text(text)
