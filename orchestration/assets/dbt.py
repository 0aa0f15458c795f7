"""The dbt project as Dagster assets (staging → silver → gold), with lineage to bronze.

The manifest is prepared ahead by ``powertrace prepare`` (sources generated from the registry,
then ``dbt parse``); loading the code location never parses dbt. dbt tests surface as asset
checks. dbt writes the warehouse DuckDB file, which has one writer at a time: the assets run in
the ``duckdb_writer`` pool (limit 1), and nothing outside dbt writes that file.
"""

import contextlib
import functools
import importlib.metadata
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from orchestration.assets.bronze import bronze_key
from orchestration.atomic_files import write_atomically
from orchestration.phases import phase
from orchestration.settings import DBT_PROJECT_DIR, dbt_log_dir, dbt_target_dir

DUCKDB_POOL = "duckdb_writer"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=dbt_target_dir())


def manifest_path():
    path = dbt_project.manifest_path
    if not path.exists():
        raise FileNotFoundError(
            f"dbt manifest not found at {path}: run `powertrace prepare` (generates the dbt sources from the "
            "registry and parses the project) before loading the code location")
    return path


DBT_ARTIFACTS_LOG = "dbt build artifacts: "   # the run's log line naming the build's target folder
PROJECT_FINGERPRINT_ENV = "POWERTRACE_DBT_PROJECT_FINGERPRINT"  # read by macros/alerts/incremental_alerts.sql


class PowertraceTranslator(DagsterDbtTranslator):
    """Bronze sources map onto the bronze asset of their system; models group by layer folder."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            meta = dbt_resource_props.get("meta", {})
            if meta.get("system_id") and meta.get("table"):
                return bronze_key(meta["system_id"], meta["table"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"  # model_thresholds and friends: configuration, not a layer
        if dbt_resource_props["resource_type"] in ("model", "snapshot") and len(fqn) > 2:
            return fqn[1]  # staging | silver | gold | restricted
        return super().get_group_name(dbt_resource_props)


def every_node(manifest: Mapping[str, Any]) -> set[str]:
    """What dbt's selection ``fqn:*`` picks in a manifest: every node and every unit test."""
    return set(manifest["nodes"]) | set(manifest.get("unit_tests", {}))


@contextlib.contextmanager
def selecting_all_without_dbt_graph() -> Iterator[None]:
    """While dagster-dbt builds the assets of the default selection (``fqn:*``), answer it from
    the manifest (every_node) instead of dbt's selection engine, whose import (dbt.graph,
    networkx: ~0.18 s) was a fifth of what the code location's load adds to the import floor.
    Other selections still go to dbt. tests/orchestration/test_asset_graph.py holds the two
    answers equal, so a dagster-dbt or dbt upgrade that changes either fails there."""
    from dagster_dbt import asset_utils
    from dagster_dbt.utils import _is_select_all  # dagster-dbt's own test for "every node"

    by_dbt = asset_utils.select_unique_ids

    def select(*, select: str, exclude: str, selector: str, project, manifest_json) -> set[str]:
        if _is_select_all(select, exclude, selector):
            return every_node(manifest_json)
        return by_dbt(select=select, exclude=exclude, selector=selector, project=project,
                      manifest_json=manifest_json)

    asset_utils.select_unique_ids = select
    try:
        yield
    finally:
        asset_utils.select_unique_ids = by_dbt


def build_dbt_assets() -> dg.AssetsDefinition:
    from orchestration.warehouse import manifest

    with selecting_all_without_dbt_graph():
        return _dbt_assets(manifest())  # manifest() raises manifest_path's error when not prepared


def _dbt_assets(manifest: Mapping[str, Any]) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=manifest,
        project=dbt_project,
        dagster_dbt_translator=PowertraceTranslator(DagsterDbtTranslatorSettings(enable_asset_checks=True)),
        pool=DUCKDB_POOL,
    )
    def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        from orchestration.gates.validate import preload_gx
        from orchestration.run_cli import project_fingerprint

        preload_gx()  # for the gate step after this one, while this process waits on dbt
        # Incremental supervision models judge in full once after any change to the project
        # (dbt_project/macros/alerts/incremental_alerts.sql); dbt inherits this environment.
        os.environ[PROJECT_FINGERPRINT_ENV] = project_fingerprint()
        # Unit tests check the models' SQL, not the day's data: CI runs them (tests/ builds the
        # project with them), the daily run does not pay for them again.
        with phase("dbt_build"):
            build = dbt.cli(["build", "--exclude-resource-type", "unit_test"], context=context)
            yield from build.stream()
        # Where this build's run_results.json and compiled SQL are (each run has its own folder):
        # for ops reading a slow or failed build, and for bench/end_to_end.py's per-node timings.
        context.log.info(f"{DBT_ARTIFACTS_LOG}{build.target_path}")
        keep_partial_parse(Path(build.target_path))

    return warehouse_models


PARTIAL_PARSE = "partial_parse.msgpack"


def keep_partial_parse(run_target: Path) -> bool:
    """Make the build's parse state the one the next build starts from; True when it changed.

    dbt re-parses the whole project (5-7 s here) when its profile differs from the one the saved
    parse was made with, and the profile holds the lake's path and the memory cap. The parse
    `powertrace prepare` saves was made with its own environment, so without this every run on
    another lake paid the full parse again; now only the first run after such a change does.
    Replaced atomically: a concurrent build reads the old file or the new one, never half of one.
    """
    fresh, kept = run_target / PARTIAL_PARSE, dbt_target_dir() / PARTIAL_PARSE
    if not fresh.is_file():
        return False
    parse = fresh.read_bytes()
    if kept.is_file() and kept.read_bytes() == parse:
        return False
    write_atomically(kept, parse)
    return True


class LocalDbtCliResource(DbtCliResource):
    """dagster-dbt's resource, without two costs each run paid before dbt started (3.4 s here).

    - ``dbt --version`` in a subprocess (2.5 s: dbt's whole import) to learn the version of the
      executable: the executable is the dbt beside this interpreter, so the version is that of
      the dbt-core installed here, read from the package's metadata.
    - A dbt adapter made in this process (profile, project and macros loaded): dagster-dbt uses
      it only to fetch row counts and column metadata, which this project does not ask for, and
      a DuckDB adapter opens the warehouse file that dbt's own process is writing.
    """

    @functools.cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def dbt_resource() -> DbtCliResource:
    # POWERTRACE_LAKE and the pseudonym key reach dbt through the environment it inherits. Each run
    # gets a folder under DBT_TARGET_PATH, seeded with the prepared partial parse found there.
    os.environ.setdefault("DBT_TARGET_PATH", str(dbt_target_dir()))
    os.environ.setdefault("DBT_LOG_PATH", str(dbt_log_dir()))
    # The dbt beside this interpreter (the venv's), even when the venv is not on PATH: its
    # powertrace-dbt (orchestration/dbt_cli.py: dbt without the build's two manifest writes), or
    # dbt itself in a venv where this package was installed without its scripts.
    beside = Path(sys.executable)
    local_dbt = next((p for p in (beside.with_name("powertrace-dbt"), beside.with_name("dbt")) if p.exists()), None)
    if local_dbt is None:  # some other dbt on PATH: let dagster-dbt ask it its version
        return DbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable="dbt")
    return LocalDbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR),
                               dbt_executable=str(local_dbt))
