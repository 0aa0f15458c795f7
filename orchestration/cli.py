"""The ``powertrace`` command: every operation of the platform.

Sub-commands are imported lazily, so ``powertrace sources list`` does not pay for Dagster, dbt or
Great Expectations imports it does not use.
"""
from __future__ import annotations

import atexit
import importlib
import os
import sys

import click

# name -> ("module:attribute" of a click command or group, one-line help shown by --help)
COMMANDS = {
    "generate": ("orchestration.world.cli:generate", "Write the synthetic world's deliveries into landing/."),
    "sources": ("orchestration.sources_cli:sources", "List and validate the source registry."),
    "onboard": ("orchestration.onboarding.cli:onboard", "Infer a draft contract from a sample delivery."),
    "ingest": ("orchestration.ingest.cli:ingest", "Ingest landed batches into bronze (without Dagster)."),
    "quarantine": ("orchestration.ingest.cli:quarantine", "Inspect and replay quarantined rows."),
    "prepare": ("orchestration.run_cli:prepare", "Generate dbt sources and build the dbt manifest."),
    "spark-build": ("orchestration.spark_build:spark_build_command", "Build silver and gold on Apache Spark (the dbt target spark)."),
    "run": ("orchestration.run_cli:run", "Run the main job end to end through Dagster and summarise."),
    "publish": ("orchestration.publish.cli:publish", "Publication history and rollback of the consumer tables."),
    "backfill": ("orchestration.automation.schedules:backfill", "Re-ingest the landed batches of a date range and rebuild, as one run."),
    "maintain": ("orchestration.maintenance:maintain_command", "Compact and vacuum the lake's Delta tables (retention keeps rollback)."),
    "backup": ("orchestration.backup:backup_command", "Back up the alert service's database and the Dagster instance."),
    "restore": ("orchestration.backup:restore_command", "Restore the service database and the Dagster instance from a backup."),
    "evaluate": ("orchestration.evaluate:evaluate_command", "Precision and recall of published alerts against the world's truth."),
    "new-model": ("orchestration.scaffold:new_model", "Scaffold a supervision model: SQL, YAML (shadow) and unit-test stub."),
    "serve": ("orchestration.service.cli:serve", "Serve the alert API, payment check and triage page."),
    "tokens": ("orchestration.service.cli:tokens", "Create, list and revoke the alert service's API tokens."),
    "audit": ("orchestration.service.cli:audit", "Verify and list the alert service's audit log."),
    "dispositions": ("orchestration.service.cli:dispositions", "Export dispositions as the feedback source's delivery."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target[0].split(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx, formatter):
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--lake", envvar="POWERTRACE_LAKE", type=click.Path(file_okay=False),
              help="Lake folder holding all data (env POWERTRACE_LAKE; default ./lake).")
@click.pass_context
def main(ctx: click.Context, lake: str | None) -> None:
    """powertrace: supervision lakehouse (landing → bronze → silver → gold → published alerts)."""
    import os

    from orchestration.settings import lake_dir
    resolved = lake_dir(lake)
    os.environ["POWERTRACE_LAKE"] = str(resolved)  # one setting for every tool started below (dbt, Dagster)
    ctx.obj = {"lake": resolved}


def entry() -> None:
    """The ``powertrace`` console script: :func:`main`, then exit without tearing the interpreter down.

    Why: a run leaves some 650,000 objects and the thread pools of DuckDB, polars and deltalake
    behind; Python's own shutdown (module teardown, garbage collection, joining those pools) took
    1.7-1.9 s after every `powertrace run` had finished its work, a daily run's cost for nothing.
    What shutdown must do still happens: the atexit handlers run (logging's flush among them),
    then stdout and stderr are flushed. Everything the commands write is committed before they
    return (Delta commits, DuckDB and Dagster storage). Tests call :func:`main` (click's runner),
    which exits the usual way.
    """
    try:
        main()
        code: object = 0
    except SystemExit as stop:
        code = stop.code
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): Python prints it and exits with 1
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away (`| head`), a closed stream
            pass
    os._exit(code)


if __name__ == "__main__":
    entry()
