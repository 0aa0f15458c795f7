"""``powertrace maintain``: compaction and vacuum of the lake's Delta tables.

Every run adds small files (one commit per bronze table per ingest, one overwrite per published
table per publication); compaction merges them, and vacuum deletes the files no version within the
retention still reads (and files no commit ever referenced, left by a write that died).

Retention:
- ``published/*``: every version the last ``POWERTRACE_KEEP_PUBLICATIONS`` (default 30)
  publications of ``<lake>/publications`` refer to stays loadable, so ``powertrace publish
  rollback`` can go back that many runs. The retention is the age of the oldest of those
  publications (plus an hour of slack for clock differences), and their versions are also kept
  by number. Time travel needs the Delta log too: the table's ``delta.logRetentionDuration`` is
  raised to cover the retention (whole 30-day steps, so the property rarely changes).
- every other zone (bronze, quarantine, ledger, gates/results, publications, restricted): a fixed
  retention, 7 days by default (``--retention-hours``): older bronze versions are not needed to
  rebuild, and a reader that started before a rewrite has days to finish.
Run it between runs (e.g. after the daily run): a compaction that races a writer loses the
commit race and is reported as an error for that table, and the next maintain compacts it.
"""
from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import click

from orchestration.settings import Zones

KEEP_PUBLICATIONS_ENV = "POWERTRACE_KEEP_PUBLICATIONS"
DEFAULT_KEEP_PUBLICATIONS = 30
DEFAULT_RETENTION_HOURS = 7 * 24
CLOCK_SLACK_HOURS = 1
LOG_RETENTION_STEP_DAYS = 30          # Delta's default log retention, and the step it is raised by
LOG_RETENTION_PROPERTY = "delta.logRetentionDuration"
_INTERVAL = re.compile(r"interval\s+(\d+)\s+(second|minute|hour|day|week)s?", re.IGNORECASE)
_UNIT_HOURS = {"second": 1 / 3600, "minute": 1 / 60, "hour": 1, "day": 24, "week": 168}


@dataclass(frozen=True)
class Retention:
    hours: int
    keep_versions: tuple[int, ...] = ()   # versions kept whatever their age (published tables)


@dataclass(frozen=True)
class PublishedRetention:
    """What the last N publications need: how far back, and which version of each table."""

    publications: int                          # publications counted (at most N)
    oldest: dt.datetime                        # published_at of the oldest of them
    hours: int
    versions: dict[str, tuple[int, ...]]       # consumer table -> versions they refer to

    def for_table(self, table: str) -> Retention:
        return Retention(self.hours, self.versions.get(table, ()))


@dataclass
class TableOutcome:
    zone: str
    path: Path
    retention_hours: int
    files: int = 0                 # data files of the current version before compaction
    compacted_removed: int = 0
    compacted_added: int = 0
    vacuumed: int = 0              # files deleted (dry run: that would be deleted)
    freed_bytes: int = 0
    log_retention: str | None = None   # the log retention set on the table, when raised
    error: str | None = None


@dataclass
class MaintenanceReport:
    dry_run: bool
    default_hours: int
    published: PublishedRetention | None
    tables: list[TableOutcome] = field(default_factory=list)

    @property
    def errors(self) -> list[TableOutcome]:
        return [t for t in self.tables if t.error]


def keep_publications() -> int:
    value = os.environ.get(KEEP_PUBLICATIONS_ENV) or str(DEFAULT_KEEP_PUBLICATIONS)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{KEEP_PUBLICATIONS_ENV}={value!r}: expected a whole number of publications >= 1")
    return int(value)


def lake_delta_tables(zones: Zones) -> list[tuple[str, Path]]:
    """(zone, table folder) of every Delta table the platform writes, in a stable order."""
    candidates = [("bronze", p) for p in sorted(zones.bronze.glob("*/*"))]
    candidates += [("quarantine", zones.quarantine), ("ledger", zones.ledger)]
    candidates += [("gates", p) for p in sorted(zones.gates.glob("*"))]
    candidates += [("publications", zones.publications)]
    candidates += [("published", p) for p in sorted(zones.published.glob("*"))]
    candidates += [("restricted", p) for p in sorted(zones.restricted.glob("*"))]
    return [(zone, path) for zone, path in candidates if (path / "_delta_log").is_dir()]


def published_retention(zones: Zones, keep: int, now: dt.datetime) -> PublishedRetention | None:
    """The retention that keeps the last ``keep`` publications loadable; None before the first."""
    from orchestration.publish.history import history, versions_after

    recent = history(zones).head(keep)
    if not recent.height:
        return None
    oldest = recent["published_at"].min()
    versions: dict[str, set[int]] = defaultdict(set)
    for run_id in recent["run_id"]:
        for table, version in versions_after(zones, run_id).items():
            versions[table].add(version)
    age = max(now - oldest, dt.timedelta(0))
    hours = math.ceil(age / dt.timedelta(hours=1)) + CLOCK_SLACK_HOURS
    return PublishedRetention(recent.height, oldest, hours, {t: tuple(sorted(v)) for t, v in versions.items()})


def maintain(zones: Zones, *, dry_run: bool = False, keep: int | None = None,
             default_hours: int = DEFAULT_RETENTION_HOURS, now: dt.datetime | None = None) -> MaintenanceReport:
    """Compact and vacuum every Delta table of the lake (``dry_run``: only report what would go)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    published = published_retention(zones, keep or keep_publications(), now)
    report = MaintenanceReport(dry_run, default_hours, published)
    for zone, path in lake_delta_tables(zones):
        if zone == "published" and published is not None:
            retention = published.for_table(path.name)
        else:
            retention = Retention(default_hours)
        report.tables.append(maintain_table(zone, path, retention, dry_run=dry_run,
                                            log_retention=zone == "published"))
    return report


def maintain_table(zone: str, path: Path, retention: Retention, *, dry_run: bool = False,
                   log_retention: bool = False) -> TableOutcome:
    """Compaction, then vacuum, of one table; an error is recorded on the outcome, not raised."""
    from deltalake import DeltaTable

    outcome = TableOutcome(zone, path, retention.hours)
    try:
        table = DeltaTable(str(path))
        outcome.files = len(table.file_uris())
        if not dry_run:
            metrics = table.optimize.compact()
            outcome.compacted_removed, outcome.compacted_added = metrics["numFilesRemoved"], metrics["numFilesAdded"]
            if log_retention:
                outcome.log_retention = _cover_log_retention(table, retention.hours)
        _vacuum(table, path, retention, dry_run, outcome)
    except Exception as exc:  # one table's failure must not stop the others; the CLI exits non-zero
        outcome.error = f"{type(exc).__name__}: {exc}"
    return outcome


def _vacuum(table, path: Path, retention: Retention, dry_run: bool, outcome: TableOutcome) -> None:
    options = dict(retention_hours=retention.hours, enforce_retention_duration=False, full=True,
                   keep_versions=list(retention.keep_versions) or None)
    # Vacuum lists removed files again after deleting them: count what is still on disk.
    doomed = [f for rel in table.vacuum(dry_run=True, **options) if (f := _on_disk(path, rel)) is not None]
    outcome.vacuumed = len(doomed)
    outcome.freed_bytes = sum(f.stat().st_size for f in doomed)
    if doomed and not dry_run:
        table.vacuum(dry_run=False, **options)


def _on_disk(table_path: Path, relative: str) -> Path | None:
    for candidate in (table_path / relative, table_path / unquote(relative)):
        if candidate.is_file():
            return candidate
    return None


def _cover_log_retention(table, hours: int) -> str | None:
    """Raise the table's log retention to cover ``hours`` (time travel needs the log entries too)."""
    current = table.metadata().configuration.get(LOG_RETENTION_PROPERTY)
    match = _INTERVAL.fullmatch((current or "").strip())
    current_hours = (int(match[1]) * _UNIT_HOURS[match[2].lower()] if match
                     else LOG_RETENTION_STEP_DAYS * 24 if current is None else 0)
    if current_hours >= hours:
        return None
    days = LOG_RETENTION_STEP_DAYS * math.ceil(hours / (24 * LOG_RETENTION_STEP_DAYS))
    value = f"interval {days} days"
    table.alter.set_table_properties({LOG_RETENTION_PROPERTY: value})
    return value


def render_report(report: MaintenanceReport) -> str:
    lines = []
    if report.published is None:
        lines.append(f"published: no publication logged yet; fixed retention {report.default_hours} h")
    else:
        p = report.published
        lines.append(f"published: retention {p.hours} h, keeps the last {p.publications} publication(s) "
                     f"(oldest {p.oldest:%Y-%m-%d %H:%M} UTC) loadable for rollback")
    lines.append(f"other zones: retention {report.default_hours} h")
    lines.append(f"{'zone':<13}{'tables':>7}{'files':>8}{'compacted':>14}{'vacuumed':>10}{'freed MB':>10}")
    by_zone: dict[str, list[TableOutcome]] = defaultdict(list)
    for t in report.tables:
        by_zone[t.zone].append(t)
    for zone, tables in by_zone.items():
        compacted = f"{sum(t.compacted_removed for t in tables)}→{sum(t.compacted_added for t in tables)}"
        lines.append(f"{zone:<13}{len(tables):>7}{sum(t.files for t in tables):>8}{compacted:>14}"
                     f"{sum(t.vacuumed for t in tables):>10}{sum(t.freed_bytes for t in tables) / 1e6:>10.1f}")
    lines += [f"log retention of {t.path}: raised to {t.log_retention}" for t in report.tables if t.log_retention]
    lines += [f"FAILED {t.path}: {t.error}" for t in report.errors]
    if report.dry_run:
        lines.append("dry run: nothing compacted or deleted (vacuumed = files that would be deleted)")
    return "\n".join(lines)


@click.command()
@click.option("--dry-run", is_flag=True, help="Only report what would be vacuumed; change nothing.")
@click.option("--retention-hours", type=click.IntRange(min=0), default=DEFAULT_RETENTION_HOURS, show_default=True,
              help="Retention of every zone except published/ (whose retention follows the publications).")
@click.pass_context
def maintain_command(ctx: click.Context, dry_run: bool, retention_hours: int) -> None:
    """Compact and vacuum the lake's Delta tables; published/ keeps the last POWERTRACE_KEEP_PUBLICATIONS
    publications (default 30) loadable for rollback."""
    try:
        keep = keep_publications()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    report = maintain(Zones(ctx.obj["lake"]), dry_run=dry_run, keep=keep, default_hours=retention_hours)
    click.echo(render_report(report))
    if report.errors:
        raise SystemExit(1)
