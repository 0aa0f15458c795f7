"""The dbt resource starts dbt without dagster-dbt's two per-run costs: a `dbt --version`
subprocess and a dbt adapter loaded in the run's process (orchestration/assets/dbt.py)."""
from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest
from dagster_dbt.core import resource as dagster_dbt_resource

from orchestration.assets.dbt import LocalDbtCliResource, dbt_resource, manifest_path


@pytest.fixture
def no_subprocess_version(monkeypatch):
    def refuse(command, *args, **kwargs):
        raise AssertionError(f"a subprocess was started: {command}")

    monkeypatch.setattr(dagster_dbt_resource, "check_output", refuse)


def test_the_version_is_the_installed_dbt_core_without_a_subprocess(no_subprocess_version):
    resource = dbt_resource()
    assert isinstance(resource, LocalDbtCliResource)
    assert str(resource._cli_version) == importlib.metadata.version("dbt-core")


def test_a_dbt_command_starts_without_an_adapter_in_this_process(no_subprocess_version, monkeypatch):
    started = {}

    def capture(**kwargs):
        started.update(kwargs)
        return "invocation"

    monkeypatch.setattr(dagster_dbt_resource.DbtCliInvocation, "run", staticmethod(capture))
    assert dbt_resource().cli(["ls"], manifest=manifest_path()) == "invocation"
    assert started["adapter"] is None
    assert started["cli_version"].major == 1
    assert started["args"][0].endswith("dbt") and "ls" in started["args"]


def test_dagster_runs_dbt_through_powertrace_dbt():
    # the venv's powertrace-dbt (orchestration/dbt_cli.py), not dbt itself: see the next tests
    assert Path(dbt_resource().dbt_executable).name == "powertrace-dbt"


def test_powertrace_dbt_replaces_both_manifest_writes_of_a_build():
    # in a subprocess: the replacement must not reach this process's dbt (`prepare` parses in-process)
    probe = ("from orchestration.dbt_cli import without_manifest_writes, _skip_manifest\n"
             "without_manifest_writes()\n"
             "import dbt.parser.manifest as parse, dbt.task.runnable as build\n"
             "assert parse.write_manifest is build.write_manifest is _skip_manifest\n")
    subprocess.run([sys.executable, "-c", probe], check=True)


def test_powertrace_dbt_refuses_to_start_when_dbt_moved_its_manifest_writer(monkeypatch):
    import dbt.parser.manifest
    import dbt.task.runnable

    from orchestration.dbt_cli import without_manifest_writes

    for module in (dbt.parser.manifest, dbt.task.runnable):  # restored after the test
        monkeypatch.setattr(module, "write_manifest", module.write_manifest)
    monkeypatch.delattr(dbt.task.runnable, "write_manifest")
    with pytest.raises(RuntimeError, match=r"dbt\.task\.runnable\.write_manifest is gone"):
        without_manifest_writes()
