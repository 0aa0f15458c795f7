"""``powertrace publish history`` and ``powertrace publish rollback --to RUN_ID``."""
from __future__ import annotations

import json

import click

from orchestration.settings import Zones


@click.group()
def publish() -> None:
    """Publications of <lake>/published/: history and rollback."""


@publish.command("history")
@click.option("--limit", type=int, default=20, show_default=True, help="Newest publications shown.")
@click.pass_context
def history_command(ctx: click.Context, limit: int) -> None:
    """List publications, newest first: run id, as-of date, tables written and held, gates, stale models."""
    from orchestration.publish.history import history

    zones = Zones(ctx.obj["lake"])
    rows = history(zones)
    if not rows.height:
        click.echo(f"no publication under {zones.published} yet: `powertrace run` publishes")
        return
    for row in rows.head(limit).iter_rows(named=True):
        gates = json.loads(row["gates"] or "{}")
        failed = sorted(t for t, g in gates.items() if not g["passed"])
        what = f"rollback to {row['restored_run']}" if row["kind"] == "rollback" else \
            f"gates {len(gates) - len(failed)}/{len(gates)} green" + (f" (failed: {', '.join(failed)})" if failed else "")
        stale = json.loads(row["stale_models"] or "[]")
        click.echo(f"{row['published_at']:%Y-%m-%d %H:%M:%S}  {row['run_id']}  as of {row['as_of_date']}  "
                   f"{row['written']} written, {row['held']} held  {what}"
                   + (f"  stale: {', '.join(stale)}" if stale else ""))


@publish.command("rollback")
@click.option("--to", "to_run", required=True, help="Run id whose consumer tables are restored (see history).")
@click.pass_context
def rollback_command(ctx: click.Context, to_run: str) -> None:
    """Restore every consumer table to its version after run TO (Delta time travel, logged)."""
    from orchestration.publish.history import PublicationError, rollback

    try:
        restored = rollback(Zones(ctx.obj["lake"]), to_run, log=click.echo)
    except PublicationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"rolled back {len(restored)} tables to run {to_run}")
