"""The short summary `powertrace run` prints: systems, rows, quarantine, reconciliation, alerts."""
from __future__ import annotations

from pathlib import Path

import polars as pl

from orchestration.settings import Zones


def _delta(path: Path) -> pl.DataFrame | None:
    return pl.read_delta(str(path)) if (path / "_delta_log").exists() else None


def render_summary(zones: Zones) -> str:
    from orchestration.contracts import registry

    lines = ["", "powertrace summary", "=================="]
    systems = registry()
    ledger = _delta(zones.ledger)
    delivered = ledger["system_id"].n_unique() if ledger is not None else 0
    lines.append(f"systems      {len(systems)} registered, {delivered} delivered")
    if ledger is not None:
        files = ledger.height
        bad = ledger.filter(~pl.col("reconciled")).height
        lines.append(f"files        {files} ingested, {files - bad} reconciled"
                     + (f", {bad} NOT RECONCILED" if bad else ""))
        lines.append(f"records      {ledger['records_sent'].sum():,} sent = {ledger['rows_bronze'].sum():,} in bronze"
                     f" + {ledger['rows_quarantined'].sum():,} quarantined")
        latest = ledger["batch_date"].max()
        lines.append(f"as of        {latest}")
    quarantine = _delta(zones.quarantine)
    if quarantine is not None and quarantine.height:
        by_rule = quarantine.group_by("rule").len().sort("len", descending=True)
        lines.append("quarantine   " + ", ".join(f"{r}: {n}" for r, n in by_rule.iter_rows()))
    lines.extend(_gates_and_publication(zones))
    alerts = _delta(zones.published / "alerts")
    if alerts is None:
        lines.append("alerts       none published")
    else:
        lines.append(f"alerts       {alerts.height} published ({zones.published / 'alerts'})")
        if alerts.height:
            table = alerts.group_by("model_id").agg(
                red=(pl.col("severity") == "red").sum(), yellow=(pl.col("severity") == "yellow").sum(),
            ).sort("model_id")
            stale = alerts.filter(pl.col("stale")).get_column("model_id").unique() if "stale" in alerts.columns else []
            lines.append("  model    red  yellow")
            for m, red, yellow in table.iter_rows():
                lines.append(f"  {m:<6} {red:>5} {yellow:>7}" + ("  STALE (gate failed)" if m in stale else ""))
    return "\n".join(lines)


def _gates_and_publication(zones: Zones) -> list[str]:
    """The latest run's gates (per suite) and what it published."""
    from orchestration.gates.runner import data_docs_index, read_results
    from orchestration.publish.history import history

    results = read_results(zones)
    if results is None:
        return ["gates        none evaluated"]
    run = results.sort("evaluated_at")["run_id"][-1]
    latest = results.filter(pl.col("run_id") == run)
    failed = latest.filter((pl.col("severity") == "error") & ~pl.col("success"))
    warned = latest.filter((pl.col("severity") == "warn") & ~pl.col("success"))
    suites = latest["table"].n_unique()
    lines = [f"gates        {suites} suites, {latest.height} expectations: "
             f"{suites - failed['table'].n_unique()} suites passed, {failed['table'].n_unique()} failed, "
             f"{warned.height} warnings (data docs {data_docs_index(zones)})"]
    for table, expectation, unexpected in failed.select("table", "expectation", "unexpected_count").iter_rows():
        lines.append(f"  FAILED {table}: {expectation}" + (f" ({unexpected} unexpected)" if unexpected else ""))
    published = history(zones)
    if published.height:
        last = published.row(0, named=True)
        stale = last["stale_models"] if last["stale_models"] != "[]" else "none"
        lines.append(f"published    run {last['run_id']} ({last['kind']}): {last['written']} tables written, "
                     f"{last['held']} held back, stale models: {stale}")
    return lines
