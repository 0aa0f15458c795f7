"""The dbt resource starts dbt without dagster-dbt's two per-run costs: a `dbt --version`
subprocess and a dbt adapter loaded in the run's process (orchestration/assets/dbt.py)."""
from __future__ import annotations

import importlib.metadata

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
