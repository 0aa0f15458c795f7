"""``powertrace ingest`` and ``powertrace quarantine``: bronze ingestion without Dagster."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from orchestration.contracts import Contract, registry
from orchestration.settings import lake_dir


def _lake(ctx: click.Context) -> Path:
    return Path((ctx.obj or {}).get("lake") or lake_dir())


def _contracts(systems: tuple[str, ...]) -> list[Contract]:
    known = registry()
    unknown = [s for s in systems if s not in known]
    if unknown:
        raise click.BadParameter(f"unknown system id(s) {unknown}; see `powertrace sources list`", param_hint="--system")
    return [known[s] for s in (systems or sorted(known))]


def _table(header: list[str], rows: list[list[object]]) -> str:
    """A plain aligned text table (numbers right-aligned)."""
    cells = [[str(v) for v in row] for row in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(row: list[str], source: list[object]) -> str:
        return "  ".join(c.rjust(w) if isinstance(v, int) and not isinstance(v, bool) else c.ljust(w)
                         for c, w, v in zip(row, widths, source)).rstrip()

    out = [line(cells[0], header), "  ".join("-" * w for w in widths)]
    out += [line(c, r) for c, r in zip(cells[1:], rows)]
    return "\n".join(out)


@click.command()
@click.option("--system", "systems", multiple=True, metavar="ID", help="Ingest only this system (repeatable).")
@click.option("--force", is_flag=True, help="Re-ingest every landed batch, not only new or re-delivered ones.")
@click.pass_context
def ingest(ctx: click.Context, systems: tuple[str, ...], force: bool) -> None:
    """Ingest landed batches into bronze, quarantine and ledger; exit 1 if a file does not reconcile."""
    from orchestration.ingest.landing import latest_landed_date
    from orchestration.ingest.system import ingest_system

    lake = _lake(ctx)
    contracts = _contracts(systems)
    as_of = latest_landed_date(lake) or dt.date.today()     # freshness is judged against the lake's newest batch
    rows, unreconciled = [], []
    for n, contract in enumerate(contracts, start=1):
        sid = contract.system_id
        result = ingest_system(contract, lake, force=force, as_of=as_of, log=lambda msg: click.echo(f"  {msg}"))
        status = "ok" if result.reconciled else "NOT RECONCILED"
        click.echo(f"[{n}/{len(contracts)}] {sid}: {len(result.batches)} batch(es), {len(result.files)} file(s), "
                   f"{result.rows_bronze} to bronze, {result.rows_quarantined} quarantined: {status}")
        unreconciled += [f"{sid} {u}" for u in result.unreconciled]
        if result.batches:
            rows.append([sid, len(result.batches), len(result.files), result.records_sent, result.rows_bronze,
                         result.rows_quarantined, "yes" if result.reconciled else "NO"])
    click.echo("")
    if rows:
        click.echo(_table(["system", "batches", "files", "sent", "bronze", "quarantined", "reconciled"], rows))
    else:
        click.echo("Nothing new to ingest (use --force to re-ingest every landed batch).")
    if unreconciled:
        click.echo(f"\n{len(unreconciled)} file(s) do not reconcile (records sent != bronze + quarantined):", err=True)
        for u in unreconciled:
            click.echo(f"  {u}", err=True)
        ctx.exit(1)


@click.group()
def quarantine() -> None:
    """Inspect quarantined rows (raw personal data: never publish) and replay them after a contract fix."""


@quarantine.command("list")
@click.option("--system", default=None, metavar="ID", help="Only this system.")
@click.pass_context
def list_(ctx: click.Context, system: str | None) -> None:
    """Quarantined rows counted by system, table and rule."""
    from orchestration.ingest.quarantine import quarantine_counts

    counts = quarantine_counts(_lake(ctx), system)
    if not counts.height:
        click.echo("The quarantine is empty.")
        return
    rows = [[s, t or "(no table)", r, n] for s, t, r, n in counts.iter_rows()]
    click.echo(_table(["system", "table", "rule", "rows"], rows))
    click.echo(f"\n{sum(r[3] for r in rows)} row(s) in quarantine.")


@quarantine.command()
@click.option("--system", default=None, metavar="ID", help="Only this system.")
@click.option("--rule", default=None, help="Only this rule (e.g. unparsable_date).")
@click.option("--limit", default=20, show_default=True, help="At most this many rows.")
@click.pass_context
def show(ctx: click.Context, system: str | None, rule: str | None, limit: int) -> None:
    """Quarantined rows with file, row number, rule, reason and raw line."""
    from orchestration.ingest.quarantine import quarantine_frame

    rows = quarantine_frame(_lake(ctx), system, rule).sort("system_id", "batch_date", "file_name", "source_row")
    for r in rows.head(limit).iter_rows(named=True):
        where = f"{r['batch_date']}/{r['file_name']}" + (f":{r['source_row']}" if r["source_row"] is not None else "")
        click.echo(f"{r['system_id']} {where} [{r['rule']}] {r['reason']}")
        click.echo(f"    {r['raw_line'] if r['raw_line'] is not None else '(no raw line: the file could not be read)'}")
    shown = min(limit, rows.height)
    click.echo(f"\n{shown} of {rows.height} row(s) shown." if rows.height else "No quarantined rows match.")


@quarantine.command()
@click.option("--system", required=True, metavar="ID", help="The system whose quarantined batches are replayed.")
@click.option("--batch", "batches", multiple=True, metavar="DATE", type=click.DateTime(["%Y-%m-%d"]),
              help="Only this batch date (repeatable); default: every batch with quarantined rows.")
@click.pass_context
def replay(ctx: click.Context, system: str, batches: tuple[dt.datetime, ...]) -> None:
    """Re-ingest quarantined batches with the current contract (after a contract fix)."""
    from orchestration.ingest.quarantine import replay_quarantine

    contract = _contracts((system,))[0]
    dates = [b.date() for b in batches] or None
    result = replay_quarantine(contract, _lake(ctx), dates, log=lambda msg: click.echo(f"  {msg}"))
    if not result.batches:
        click.echo(f"{system}: nothing quarantined" + (f" for {[d.isoformat() for d in dates]}" if dates else ""))
        return
    click.echo(f"{system}: replayed {len(result.batches)} batch(es) "
               f"{', '.join(d.isoformat() for d in result.batches)}")
    click.echo(f"  quarantined rows: {result.quarantined_before} before, {result.quarantined_after} after "
               f"({result.released} released)")
    if result.ingest is not None:
        click.echo(f"  bronze rows of those batches: {result.ingest.rows_bronze}")
        if not result.ingest.reconciled:
            for u in result.ingest.unreconciled:
                click.echo(f"  NOT RECONCILED {u}", err=True)
            ctx.exit(1)
