"""``powertrace prepare`` and ``powertrace run``: the main job end to end through Dagster."""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import click

from orchestration.settings import (DBT_PROJECT_DIR, DEFAULT_SCALE, DEFAULT_SEED, Zones, dagster_home, dbt_log_dir,
                                    dbt_target_dir)

# What the prepared manifest depends on: when none of these changed, prepare is a no-op. The
# generator is one of them: a change to what it writes must reach checkouts prepared before it.
_PREPARE_INPUTS = ("dbt_project", "orchestration/sources", "orchestration/canonical",
                   "orchestration/dbt_sources.py")
_DAGSTER_YAML = """\
# Written by `powertrace run`. One DuckDB writer at a time: every pool (dbt's duckdb_writer
# included) runs one step at once across all runs of this instance.
concurrency:
  pools:
    default_limit: 1
# Dagster's SQLite storage in this folder, its event log keeping its connections (about 16 s of
# every run went to opening one per event: orchestration/event_log.py).
storage:
  custom:
    module: orchestration.event_log
    class: KeptConnectionSqliteStorage
    config:
      base_dir: {home}
telemetry:
  enabled: false
"""


def project_fingerprint() -> str:
    """A hash of every file the dbt project's meaning depends on (_PREPARE_INPUTS): `prepare`
    re-parses when it changes, and incremental supervision models judge in full once after it
    (POWERTRACE_DBT_PROJECT_FINGERPRINT, dbt_project/macros/alerts/incremental_alerts.sql)."""
    from orchestration.settings import PROJECT_DIR

    digest = hashlib.sha256()
    for entry in _PREPARE_INPUTS:
        top = PROJECT_DIR / entry
        for path in sorted(top.rglob("*")) if top.is_dir() else [top]:
            generated = path.match("models/sources/*.yml") or "generated" in path.parts
            if path.is_file() and not generated and not {"target", "logs", "__pycache__"} & set(path.parts):
                digest.update(str(path.relative_to(PROJECT_DIR)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def prepare_project(force: bool = False, echo=print) -> Path:
    """Generate the dbt sources from the registry and parse the project into a manifest."""
    from orchestration.contracts import registry
    from orchestration.duckdb_setup import ensure_delta_extension

    ensure_delta_extension()
    target = dbt_target_dir()
    stamp = target / ".prepared-from"
    fingerprint = project_fingerprint()
    manifest = target / "manifest.json"
    if not force and manifest.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return manifest
    from orchestration.dbt_sources import write_sources  # imports dbt's adapter (~0.3 s): only to write

    written = write_sources(DBT_PROJECT_DIR, registry())
    echo(f"prepare: wrote dbt sources for {len(registry())} systems ({len(written)} files); parsing dbt project")
    from dbt.cli.main import dbtRunner

    os.environ.setdefault("POWERTRACE_LAKE", str(Zones().root))
    result = dbtRunner().invoke(["parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                                 str(DBT_PROJECT_DIR), "--target-path", str(target),
                                 "--log-path", str(dbt_log_dir()), "--quiet"])
    if not result.success:
        raise click.ClickException(f"dbt parse failed: {result.exception}")
    stamp.write_text(fingerprint)
    return manifest


@click.command()
@click.option("--force", is_flag=True, help="Re-generate and re-parse even when nothing changed.")
def prepare(force: bool) -> None:
    """Generate dbt sources from the registry and build the dbt manifest (run before loading Dagster)."""
    path = prepare_project(force=force, echo=click.echo)
    click.echo(f"manifest ready: {path}")


def dagster_instance():
    """The persistent Dagster instance (``DAGSTER_HOME``, default ``.state/dagster``)."""
    from dagster import DagsterInstance

    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    # Ours (first line) but from an older release or another folder: brought up to date; an
    # operator's own file is left alone.
    wanted = _DAGSTER_YAML.format(home=json.dumps(str(home)))
    present = config.read_text() if config.exists() else None
    if present is None or (present.startswith(wanted.splitlines()[0]) and present != wanted):
        config.write_text(wanted)
    os.environ["DAGSTER_HOME"] = str(home)
    return DagsterInstance.get()


# Which process runs an in-process run: lets the next `powertrace run` recognise a dead one.
PID_TAG = "powertrace/pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def release_dead_runs(instance, echo=print) -> list[str]:
    """Runs an earlier `powertrace run` left unfinished because its process died (killed, machine
    lost): marked failed, and their pool slots freed — else the next run would wait forever for
    the duckdb_writer slot they hold. Runs launched by the UI or the daemon carry no pid tag and
    are left to Dagster's run monitoring."""
    from dagster import DagsterRunStatus, RunsFilter

    released = []
    unfinished = [DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.CANCELING]
    for run in instance.get_runs(filters=RunsFilter(statuses=unfinished)):
        pid = run.tags.get(PID_TAG)
        if pid is None or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        instance.report_run_failed(run, f"process {pid} of this run is gone (killed or crashed); "
                                        "released by the next powertrace run")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
        echo(f"dagster run {run.run_id}: its process {pid} died; marked failed and its pool slots freed")
    return released


def run_main_job(zones: Zones, *, echo=print, tags: dict[str, str] | None = None) -> bool:
    """Materialise every asset in one run of ``main_job`` on the persistent instance, with run ``tags``."""
    prepare_project(echo=echo)
    instance = dagster_instance()
    release_dead_runs(instance, echo=echo)
    from orchestration.definitions import MAIN_JOB, defs

    job = defs.resolve_job_def(MAIN_JOB)
    # INFO, not DEBUG: one line per system ingested and per dbt node, not per Dagster event.
    run_config = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config,
                                    tags={**(tags or {}), PID_TAG: str(os.getpid())})
    echo(f"dagster run {result.run_id}: {'SUCCESS' if result.success else 'FAILURE'} "
         f"(instance {dagster_home()}; open `dagster dev` to see it)")
    return result.success


@click.command()
@click.option("--scale", type=float, default=DEFAULT_SCALE, show_default=True,
              help="Scale factor of the synthetic world generated when landing is empty.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Seed of that world.")
@click.pass_context
def run(ctx: click.Context, scale: float, seed: int) -> None:
    """Run the main job end to end: (generate) → bronze → silver → gold → published alerts, then summarise."""
    zones = Zones(ctx.obj["lake"])
    started = time.monotonic()
    if not zones.landing.exists() or not any(zones.landing.iterdir()):
        from orchestration.world.generate import generate

        click.echo(f"landing is empty: generating the synthetic world (scale {scale}, seed {seed}) into {zones.landing}")
        generate(zones.root, scale=scale, seed=seed, progress=sys.stderr.isatty())
    ok = run_main_job(zones, echo=click.echo)
    from orchestration.summary import render_summary

    click.echo(render_summary(zones))
    click.echo(f"elapsed: {time.monotonic() - started:.1f} s")
    if not ok:
        raise SystemExit(1)
