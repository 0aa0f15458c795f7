"""The publication log (``<lake>/publications``), ``powertrace publish history`` and ``rollback``.

One row per run and consumer table: the Delta version the run wrote (null when held back), the
models it left stale, the gate results and the bronze versions it was built from, so any
published alert traces back to its source batches. A rollback restores every consumer table to
the version it had after the chosen run (Delta time travel, as a new commit) and is logged too.
Vacuum retention (docs/operations) must keep the versions a rollback may need.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Callable

import polars as pl

from orchestration.publish.core import PublicationError
from orchestration.settings import Zones

LOG_SCHEMA = {"run_id": pl.String, "published_at": pl.Datetime("us", "UTC"), "kind": pl.String,
              "as_of_date": pl.Date, "table_name": pl.String, "delta_version": pl.Int64, "rows": pl.Int64,
              "stale_models": pl.String, "gates": pl.String, "data_versions": pl.String, "restored_run": pl.String}


def read_log(zones: Zones) -> pl.DataFrame:
    path = zones.publications
    if not (path / "_delta_log").exists():
        return pl.DataFrame(schema=LOG_SCHEMA)
    return pl.read_delta(str(path))


def _append(zones: Zones, rows: list[dict]) -> None:
    from deltalake import write_deltalake

    zones.publications.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(str(zones.publications), pl.DataFrame(rows, schema=LOG_SCHEMA).to_arrow(), mode="append")


def append_log(zones: Zones, result, gate_summary: dict, data_versions: dict) -> None:
    from orchestration.publish.core import summary_json

    now = dt.datetime.now(dt.timezone.utc)
    stale = json.dumps(sorted(result.plan.held_models))
    _append(zones, [{"run_id": result.run_id, "published_at": now, "kind": "run", "as_of_date": result.as_of,
                     "table_name": table, "delta_version": version, "rows": result.rows.get(table),
                     "stale_models": stale, "gates": summary_json(gate_summary),
                     "data_versions": summary_json(data_versions), "restored_run": None}
                    for table, version in result.versions.items()])


def last_good_as_of(zones: Zones, models: list[str]) -> dict[str, dt.date | None]:
    """Per model, the as-of date of the latest run that published its alerts fresh (not stale)."""
    runs = read_log(zones).filter((pl.col("table_name") == "alerts") & pl.col("delta_version").is_not_null()
                                  & (pl.col("kind") == "run"))
    out = {}
    for model in models:
        good = runs.filter(~pl.col("stale_models").str.json_decode(pl.List(pl.String)).list.contains(model))
        out[model] = good["as_of_date"].max() if good.height else None
    return out


def history(zones: Zones) -> pl.DataFrame:
    """One row per publication (run or rollback), newest first."""
    log = read_log(zones)
    if not log.height:
        return pl.DataFrame()
    return (log.group_by("run_id", maintain_order=True).agg(
        pl.col("published_at").first(), pl.col("kind").first(), pl.col("as_of_date").first(),
        written=pl.col("delta_version").is_not_null().sum(), held=pl.col("delta_version").is_null().sum(),
        stale_models=pl.col("stale_models").first(), restored_run=pl.col("restored_run").first(),
        gates=pl.col("gates").first())
        .sort("published_at", descending=True))


def versions_after(zones: Zones, run_id: str) -> dict[str, int]:
    """Per consumer table, its version right after ``run_id`` published (held-back tables: the
    version of the latest earlier publication)."""
    log = read_log(zones)
    if not log.filter(pl.col("run_id") == run_id).height:
        raise PublicationError(f"no publication with run id {run_id!r}: see `powertrace publish history`")
    at = log.filter(pl.col("run_id") == run_id)["published_at"].max()
    upto = log.filter((pl.col("published_at") <= at) & pl.col("delta_version").is_not_null()).sort("published_at")
    return {t: v for t, v in upto.group_by("table_name", maintain_order=True).agg(pl.col("delta_version").last()).iter_rows()}


def rollback(zones: Zones, to_run: str, log: Callable[[str], None] = print) -> dict[str, int]:
    """Restore every consumer table to its version after ``to_run``; returns the new versions."""
    from deltalake import CommitProperties, DeltaTable

    targets = versions_after(zones, to_run)
    now = dt.datetime.now(dt.timezone.utc)
    rollback_id = f"rollback-{now:%Y%m%dT%H%M%S%f}"
    restored = {}
    for table, version in sorted(targets.items()):
        delta = DeltaTable(str(zones.published / table))
        if delta.version() != version:
            delta.restore(version, commit_properties=CommitProperties(custom_metadata={"powertrace.run_id": rollback_id}))
        restored[table] = DeltaTable(str(zones.published / table)).version()
        log(f"rollback: {table} restored to version {version} (now version {restored[table]})")
    previous = read_log(zones).filter(pl.col("run_id") == to_run).row(0, named=True)
    _append(zones, [{"run_id": rollback_id, "published_at": now, "kind": "rollback", "as_of_date": previous["as_of_date"],
                     "table_name": t, "delta_version": v, "rows": None, "stale_models": previous["stale_models"],
                     "gates": previous["gates"], "data_versions": previous["data_versions"], "restored_run": to_run}
                    for t, v in restored.items()])
    return restored
