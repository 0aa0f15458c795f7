"""``powertrace sources``: list the registry with each system's delivery status, validate contracts.

A system's status is judged against the lake's as-of date (the latest batch date in the ledger),
not against the wall clock, so that the same lake always reports the same status.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from orchestration.contracts import (Contract, ContractError, contract_paths, load_contract,
                                     load_registry, sources_dir)
from orchestration.settings import Zones

NEVER = "never delivered"


@dataclass(frozen=True)
class SourceStatus:
    system_id: str
    kind: str
    level: str
    region: str
    format: str
    last_batch: str   # ISO date of the latest ingested batch, or "-"
    status: str       # never delivered | fresh | stale (N days)


def last_batches(lake: Path) -> dict[str, dt.date]:
    """Latest ``batch_date`` per system in the ledger; empty when nothing was ingested yet."""
    ledger = Zones(lake).ledger
    if not (ledger / "_delta_log").is_dir():
        return {}
    import polars as pl  # only paid for when there is a ledger to read

    frame = (pl.read_delta(str(ledger), columns=["system_id", "batch_date"])
             .group_by("system_id").agg(pl.col("batch_date").max()))
    return {row["system_id"]: _as_date(row["batch_date"]) for row in frame.iter_rows(named=True)}


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def freshness(contract: Contract, last: dt.date | None, as_of: dt.date | None) -> str:
    """``fresh`` while the latest batch is at most ``freshness_days`` older than the as-of date."""
    if last is None or as_of is None:
        return NEVER
    age = (as_of - last).days
    return "fresh" if age <= contract.delivery.freshness_days else f"stale ({age} days)"


def source_statuses(registry: dict[str, Contract], batches: dict[str, dt.date]) -> list[SourceStatus]:
    as_of = max(batches.values(), default=None)
    out = []
    for sid in sorted(registry):
        c = registry[sid]
        last = batches.get(sid)
        out.append(SourceStatus(sid, c.kind, c.level, c.region_code, c.delivery.format,
                                last.isoformat() if last else "-", freshness(c, last, as_of)))
    return out


def render_table(rows: list[SourceStatus]) -> str:
    """Plain aligned columns (ids and codes are ASCII, so character width is display width)."""
    headers = list(SourceStatus.__dataclass_fields__)
    cells = [headers] + [[str(v) for v in asdict(r).values()] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@click.group()
def sources() -> None:
    """The source registry: one contract per system under orchestration/sources/<level>/<kind>/."""


@sources.command("list")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Aligned table for people, JSON list for scripts.")
@click.option("--kind", help="Only systems of this kind, e.g. village_finance.")
@click.option("--level", type=click.Choice(["province", "city", "hospital"]), help="Only systems of this level.")
@click.pass_context
def list_sources(ctx: click.Context, output: str, kind: str | None, level: str | None) -> None:
    """Every registered system with its latest ingested batch and freshness."""
    try:
        registry = load_registry()
    except ContractError as exc:
        raise click.ClickException(str(exc)) from None
    rows = source_statuses(registry, last_batches(ctx.obj["lake"]))
    rows = [r for r in rows if (kind is None or r.kind == kind) and (level is None or r.level == level)]
    if output == "json":
        click.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2))
        return
    click.echo(render_table(rows))
    click.echo(f"\n{len(rows)} systems")


def validation_errors(paths: list[Path]) -> tuple[int, list[str]]:
    """(number of contract files checked, every error found: file, field and rule)."""
    files: list[Path] = []
    for p in paths:
        files.extend(contract_paths(p) if p.is_dir() else [p])
    errors: list[str] = []
    seen: dict[str, Path] = {}
    for path in files:
        try:
            contract = load_contract(path)
        except (ContractError, OSError) as exc:
            errors.append(str(exc))
            continue
        if contract.system_id in seen:
            errors.append(f"{path}: field system_id: {contract.system_id!r} is already declared in {seen[contract.system_id]}")
        seen.setdefault(contract.system_id, path)
        errors.extend(_location_errors(path, contract))
    return len(files), errors


def _location_errors(path: Path, contract: Contract) -> list[str]:
    """A contract inside the registry folder lives at <level>/<kind>/<system_id>.yml."""
    root = sources_dir().resolve()
    try:
        parts = path.resolve().relative_to(root).parts
    except ValueError:
        return []  # a draft outside the registry (e.g. from `powertrace onboard`)
    expected = (contract.level, contract.kind, path.name)
    if parts != expected:
        return [f"{path}: field level/kind: the file must be at {'/'.join(expected)} under {root}"]
    return []


@sources.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Validate all contracts (or the given files and folders); exit 1 on any error."""
    count, errors = validation_errors(list(paths) or [sources_dir()])
    if errors:
        for e in errors:
            click.echo(e, err=True)
        click.echo(f"FAILED: {len(errors)} error(s) in {count} contract file(s)", err=True)
        raise SystemExit(1)
    click.echo(f"OK: {count} contracts valid")
