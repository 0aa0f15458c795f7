"""Daily operation: the daily schedule of ``main_job`` and ``powertrace backfill`` over a range of
batch dates.

One job serves both. A run without the tag ``powertrace/batch_dates`` ingests what is new or
re-delivered since the ledger saw it (the daily run, the landing sensor); a run with it, e.g.
``2026-10-01..2026-10-05``, re-ingests every landed batch of that range instead, and the rest of
``main_job`` (dbt, gates, publication) follows once: a backfill is one run, not one per day. The
bronze assets read the tag (``requested_batch_dates``); ops can also set it on a launch in the UI.
"""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path

import click
import dagster as dg

BATCH_DATES_TAG = "powertrace/batch_dates"
TRIGGER_TAG = "powertrace/trigger"
DAILY_CRON_ENV = "POWERTRACE_DAILY_CRON"
DEFAULT_DAILY_CRON = "0 6 * * *"      # after the sources' nightly deliveries
TIMEZONE = "Asia/Shanghai"


def daily_schedule(job) -> dg.ScheduleDefinition:
    """Runs ``job`` once a day (``POWERTRACE_DAILY_CRON``, Asia/Shanghai); stopped until ops start it."""
    cron = os.environ.get(DAILY_CRON_ENV) or DEFAULT_DAILY_CRON
    try:
        return dg.ScheduleDefinition(
            name="daily_main_job", job=job, cron_schedule=cron, execution_timezone=TIMEZONE,
            default_status=dg.DefaultScheduleStatus.STOPPED, tags={TRIGGER_TAG: "schedule"},
            description=f"The daily run ({cron}, {TIMEZONE}): new and re-delivered batches → published alerts.")
    except dg.DagsterInvalidDefinitionError as exc:
        raise ValueError(f"{DAILY_CRON_ENV}={cron!r}: {exc}") from None


def batch_range_tag(start: dt.date, end: dt.date) -> str:
    return f"{start.isoformat()}..{end.isoformat()}"


def parse_batch_range(value: str) -> tuple[dt.date, dt.date]:
    """``FROM..TO`` (or one date) → (FROM, TO); a clear error naming the tag otherwise."""
    first, _, last = value.strip().partition("..")
    try:
        start = dt.date.fromisoformat(first.strip())
        end = dt.date.fromisoformat(last.strip()) if last else start
    except ValueError:
        raise ValueError(f"run tag {BATCH_DATES_TAG}={value!r}: expected YYYY-MM-DD..YYYY-MM-DD or one date") from None
    if end < start:
        raise ValueError(f"run tag {BATCH_DATES_TAG}={value!r}: the range ends before it starts")
    return start, end


def landed_in_range(lake: Path, system_id: str, start: dt.date, end: dt.date) -> list[dt.date]:
    from orchestration.ingest.system import landed_dates

    return [d for d in landed_dates(lake, system_id) if start <= d <= end]


def requested_batch_dates(tags: Mapping[str, str], lake: Path, system_id: str) -> list[dt.date] | None:
    """The batch dates a run must re-ingest for one system: its landed dates inside the run's
    ``powertrace/batch_dates`` range, or None (no tag: new and re-delivered batches)."""
    value = tags.get(BATCH_DATES_TAG)
    if value is None:
        return None
    return landed_in_range(lake, system_id, *parse_batch_range(value))


def run_backfill(lake: Path, start: dt.date, end: dt.date, echo=print) -> bool:
    """One run of ``main_job`` re-ingesting every landed batch dated ``start`` … ``end``."""
    from orchestration.contracts import registry
    from orchestration.run_cli import run_main_job
    from orchestration.settings import Zones

    landed = {sid: dates for sid in registry() if (dates := landed_in_range(lake, sid, start, end))}
    if not landed:
        raise click.ClickException(f"no batch folder dated {start} … {end} in {Zones(lake).landing}: nothing to backfill")
    batches = sum(len(d) for d in landed.values())
    echo(f"backfill {start} … {end}: {batches} landed batch(es) of {len(landed)} system(s), then dbt, gates "
         "and publication once")
    return run_main_job(Zones(lake), echo=echo,
                        tags={BATCH_DATES_TAG: batch_range_tag(start, end), TRIGGER_TAG: "backfill"})


_DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.command()
@click.option("--from", "start", type=_DATE, required=True, help="First batch date (YYYY-MM-DD).")
@click.option("--to", "end", type=_DATE, required=True, help="Last batch date, included (YYYY-MM-DD).")
@click.pass_context
def backfill(ctx: click.Context, start: dt.datetime, end: dt.datetime) -> None:
    """Re-ingest the landed batches dated FROM … TO and run the rest of main_job once (one Dagster run)."""
    from orchestration.settings import Zones
    from orchestration.summary import render_summary

    if end < start:
        raise click.BadParameter(f"--to {end:%Y-%m-%d} is before --from {start:%Y-%m-%d}", param_hint="--to")
    zones = Zones(ctx.obj["lake"])
    ok = run_backfill(zones.root, start.date(), end.date(), echo=click.echo)
    click.echo(render_summary(zones))
    if not ok:
        raise SystemExit(1)
