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


def _git(repo: Path, *args: str) -> str:
    # not stripped: a status line starts with a space when only the work tree differs (" M path")
    return subprocess.run(["git", *args], capture_output=True, text=True, cwd=repo, check=True).stdout


def _commit(results: Path | None = None) -> str:
    """HEAD's short hash, and whether tracked files differ from it: a figure measured on code no
    commit holds says so. Neither RESULTS.md itself (an earlier benchmark of the same session
    wrote it) nor untracked files (e.g. a lake inside the checkout) count."""
    results = results or RESULTS
    try:
        head = _git(results.parent, "rev-parse", "--short", "HEAD").strip()
        top = Path(_git(results.parent, "rev-parse", "--show-toplevel").strip())
        status = _git(results.parent, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    own = results.resolve().relative_to(top.resolve()).as_posix()
    changed = [line for line in status.splitlines() if line[3:] != own]
    return f"{head} with uncommitted changes" if changed else head


def record(title: str, setting: str, lines: list[str], *, command: str) -> None:
    body = "\n".join([f"## {title}", "",
                      f"- measured: {dt.date.today()}, commit {_commit()}, {_machine()}",
                      f"- setting: {setting}", f"- command: `{command}`", "", "```", *lines, "```", "", ""])
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\nWritten by the scripts in bench/.\n\n"
    # the section runs to the next one, the blank line before it included: the body ends with one
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(body, text) if pattern.search(text) else text.rstrip() + "\n\n" + body
    RESULTS.write_text(text)
