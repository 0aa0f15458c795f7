"""The console script exits without Python's interpreter teardown (orchestration.cli.entry): its
exit codes, its output and its atexit handlers must be those of a normal exit."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from orchestration.cli import main

POWERTRACE = str(Path(sys.executable).with_name("powertrace"))


def test_the_console_script_is_the_fast_exit_entry():
    script = Path(POWERTRACE).read_text()
    assert "from orchestration.cli import entry" in script


def test_success_and_usage_errors_keep_their_exit_codes():
    ok = subprocess.run([POWERTRACE, "--help"], capture_output=True, text=True)
    assert ok.returncode == 0 and "Commands" in ok.stdout
    wrong = subprocess.run([POWERTRACE, "no-such-command"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "No such command" in wrong.stderr


def test_all_output_reaches_a_pipe(tmp_path):
    """stdout is flushed before the process ends: a piped listing arrives whole."""
    expected = CliRunner().invoke(main, ["sources", "list"]).output
    piped = subprocess.run([POWERTRACE, "sources", "list"], capture_output=True, text=True)
    assert piped.returncode == 0 and len(expected) > 4096 and piped.stdout == expected


def test_atexit_handlers_still_run():
    code = ("import atexit, sys; from orchestration.cli import entry; "
            "atexit.register(lambda: print('handler ran')); sys.argv = ['powertrace', '--help']; entry()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.rstrip().endswith("handler ran")


def test_a_message_exit_prints_it_and_exits_1():
    code = ("import sys, click; import orchestration.cli as cli; "
            "cli.main = click.Command('x', callback=lambda: sys.exit('broken')); sys.argv = ['x']; cli.entry()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1 and "broken" in done.stderr
