"""Publication: the audited warehouse tables leave for ``<lake>/published/`` (write-audit-publish).

One run publishes, under its run id:
- ``alerts``: every alert of the live models; a model held back by a failed gate keeps its last
  published alerts, ``stale`` with ``stale_as_of`` = the as-of date of its last good run;
- ``alerts_red``: red alerts, for the discipline inspection commission;
- ``alerts_yellow_<domain>``: yellow alerts, for the regulating department of each domain;
- ``ineligible_payees`` (the payment check's index) and ``scorecard``, unless a gate they read failed;
- ``coverage``: per model and county, were its inputs present, fresh and gated green — so that
  "no alerts" can be told from "no data".
Each table is overwritten in one Delta commit (a reader sees the old or the new version, never a
mix) whose metadata carries the run id; ``<lake>/publications`` records per run and table the
version written, the gate results and the bronze versions the run was built from.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import polars as pl

from orchestration.publish.plan import CONSUMER_TABLES, DOMAINS, SOURCE_MODELS, PublicationPlan


class PublicationError(RuntimeError):
    """Publication refused (no audit for the run, unknown run id for a rollback)."""
from orchestration.settings import Zones



@dataclass
class PublicationResult:
    run_id: str
    as_of: dt.date | None
    plan: PublicationPlan
    versions: dict[str, int | None] = field(default_factory=dict)   # None: held back
    rows: dict[str, int] = field(default_factory=dict)


def commit_table(target: Path, table, run_id: str, metadata: dict[str, str] | None = None) -> int:
    from deltalake import CommitProperties, DeltaTable, write_deltalake

    target.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(str(target), table, mode="overwrite", schema_mode="overwrite",
                    commit_properties=CommitProperties(custom_metadata={"powertrace.run_id": run_id, **(metadata or {})}))
    return DeltaTable(str(target)).version()


def _read_published(zones: Zones, table: str) -> pl.DataFrame | None:
    path = zones.published / table
    return pl.read_delta(str(path)) if (path / "_delta_log").exists() else None


def bronze_versions(zones: Zones) -> dict[str, int]:
    """The Delta version of every bronze table: what this publication was built from."""
    versions = {}
    for log in sorted(zones.bronze.glob("*/*/_delta_log")):
        commits = [int(p.stem) for p in log.glob("*.json") if p.stem.isdigit()]
        if commits:
            versions[f"{log.parent.parent.name}/{log.parent.name}"] = max(commits)
    return versions


def _stale_alerts(previous: pl.DataFrame | None, models: set[str], last_good_as_of) -> pl.DataFrame | None:
    """The previously published alerts of held-back models, marked stale since their last good run."""
    if previous is None or not models:
        return None
    if "stale" not in previous.columns:
        previous = previous.with_columns(stale=pl.lit(False), stale_as_of=pl.lit(None, pl.Date))
    rows = previous.filter(pl.col("model_id").is_in(sorted(models)))
    return rows.with_columns(
        stale_as_of=pl.when(pl.col("stale")).then(pl.col("stale_as_of"))
        .otherwise(pl.col("model_id").replace_strict(last_good_as_of, default=None, return_dtype=pl.Date)),
        stale=pl.lit(True))


def assemble_alerts(fresh: pl.DataFrame, previous: pl.DataFrame | None, plan: PublicationPlan,
                    last_good_as_of: dict[str, dt.date | None]) -> pl.DataFrame:
    """This run's alerts of the models that passed their gates, plus the stale ones of the others."""
    held = set(plan.held_models)
    current = fresh.filter(~pl.col("model_id").is_in(sorted(held))).with_columns(
        stale=pl.lit(False), stale_as_of=pl.lit(None, pl.Date))
    stale = _stale_alerts(previous, held, last_good_as_of)
    return pl.concat([current, stale.select(current.columns)]) if stale is not None else current


def assemble_per_model(fresh: pl.DataFrame, previous: pl.DataFrame | None, plan: PublicationPlan) -> pl.DataFrame:
    """This run's rows of the models that passed their gates, the previous rows of the others."""
    held = sorted(plan.held_models)
    current = fresh.filter(~pl.col("model_id").is_in(held))
    if previous is None or not held or previous.columns != fresh.columns:
        return current
    return pl.concat([current, previous.filter(pl.col("model_id").is_in(held))])


def consumer_cuts(alerts: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The per-consumer tables cut from the published alerts."""
    cuts = {"alerts": alerts, "alerts_red": alerts.filter(pl.col("severity") == "red")}
    for domain in DOMAINS:
        cuts[f"alerts_yellow_{domain}"] = alerts.filter((pl.col("severity") == "yellow") & (pl.col("domain") == domain))
    return cuts


def publish_run(zones: Zones, run_id: str, plan: PublicationPlan, gate_summary: dict,
                log: Callable[[str], None] = print) -> PublicationResult:
    """Publish every consumer table this run may publish (see the module docstring)."""
    from orchestration.publish.coverage import coverage_frame
    from orchestration.publish.history import append_log, last_good_as_of
    from orchestration.warehouse import connect_readonly, relation_name

    with connect_readonly(zones.warehouse) as con:
        as_of = con.execute(f"select as_of_date from {relation_name('as_of_date')}").fetchone()[0]
        built = {t: pl.from_arrow(con.execute(f"select * from {relation_name(m)}").to_arrow_table())
                 for t, m in SOURCE_MODELS.items()}
        counties = [r[0] for r in con.execute(
            f"select distinct left(region_code, 6) from {relation_name('person')} where region_code is not null "
            "order by 1").fetchall()]
    result = PublicationResult(run_id=run_id, as_of=as_of, plan=plan)
    data_versions = {"bronze": bronze_versions(zones), "as_of": str(as_of)}
    if plan.hold_all:
        log(f"publish: {plan.describe()}; consumers stay on the last good publication")
        result.versions = dict.fromkeys(CONSUMER_TABLES)
        append_log(zones, result, gate_summary, data_versions)
        return result

    alerts = assemble_alerts(built["alerts"], _read_published(zones, "alerts"), plan,
                             last_good_as_of(zones, sorted(plan.held_models)))
    tables: dict[str, pl.DataFrame | None] = {**consumer_cuts(alerts)}
    tables["ineligible_payees"] = None if "ineligible_payees" in plan.held_tables else built["ineligible_payees"]
    tables["scorecard"] = None if "scorecard" in plan.held_tables else \
        assemble_per_model(built["scorecard"], _read_published(zones, "scorecard"), plan)
    tables["coverage"] = coverage_frame(zones, plan, counties, as_of, run_id)
    for table, frame in tables.items():
        if frame is None:
            result.versions[table] = None
            log(f"publish: {table} held back ({', '.join(plan.held_tables[table])} failed its gate)")
            continue
        result.versions[table] = commit_table(zones.published / table, frame.to_arrow(), run_id)
        result.rows[table] = frame.height
    log(f"publish: run {run_id}: {plan.describe()}; {len(result.rows)} tables written")
    append_log(zones, result, gate_summary, data_versions)
    return result


def publish_gated(zones: Zones, run_id: str, log: Callable[[str], None] = print) -> PublicationResult:
    """Publish what the gate results of ``run_id`` allow (the publication step of every run)."""
    from orchestration.gates.runner import failed_tables, results_of_run
    from orchestration.gates.suites import suites
    from orchestration.publish.plan import plan_publication

    results = results_of_run(zones, run_id)
    if results is None:
        raise PublicationError(f"no gate results for run {run_id}: publication needs this run's quality gates "
                               "(materialise the published assets together with their checks, e.g. main_job)")
    hold_all = {t for t, s in suites().items() if s.on_failure == "hold_all"}
    plan = plan_publication(failed_tables(results), hold_all, set(suites()))
    return publish_run(zones, run_id, plan, gate_summary(results), log=log)


def gate_summary(results: pl.DataFrame | None) -> dict:
    """Per gated table: passed, and the failed expectations with their unexpected counts."""
    if results is None:
        return {}
    out = {}
    for (table,), rows in results.group_by(["table"], maintain_order=True):
        failed = rows.filter((pl.col("severity") == "error") & ~pl.col("success"))
        warned = rows.filter((pl.col("severity") == "warn") & ~pl.col("success"))
        out[table] = {"passed": failed.height == 0, "expectations": rows.height,
                      "failed": [f"{e} ({n})" for e, n in failed.select("expectation", "unexpected_count").iter_rows()],
                      "warnings": warned["expectation"].to_list()}
    return out


def summary_json(summary: dict) -> str:
    return json.dumps(summary, ensure_ascii=False, sort_keys=True, default=str)
