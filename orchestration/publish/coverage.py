"""The coverage table: per live model and county, were the model's inputs present, fresh and gated
green in this run. A county without alerts and with full coverage had nothing to find; one
without coverage had no data to judge (models.md's consumers must tell the two apart).

An input is a silver entity the model reads (its dbt lineage). It is present in a county when a
system delivering that entity and serving the county (province systems serve every county, city
systems the counties of their city, others their own region) has ingested a batch; fresh when
such a system's latest batch is within its contract's freshness of the run's as-of date; gated
green when the entity's suite passed in this run.
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from orchestration.publish.plan import PublicationPlan
from orchestration.settings import Zones


def serves(system_region: str, county: str) -> bool:
    if system_region.endswith("0000"):
        return county[:2] == system_region[:2]
    if system_region.endswith("00"):
        return county[:4] == system_region[:4]
    return county == system_region


def coverage_frame(zones: Zones, plan: PublicationPlan, counties: list[str], as_of: dt.date | None,
                   run_id: str) -> pl.DataFrame:
    from orchestration.contracts import registry
    from orchestration.ingest import ledger_frame

    ledger = ledger_frame(zones.root)
    latest = dict(ledger.group_by("system_id").agg(pl.col("batch_date").max()).iter_rows()) if ledger.height else {}
    delivering: dict[str, list] = {}
    for contract in registry().values():
        for table in contract.tables.values():
            delivering.setdefault(table.entity, []).append(contract)

    rows = []
    for model_id, inputs in sorted(plan.model_inputs.items()):
        entities = [e for e in inputs if e in delivering]
        for county in counties:
            missing = []
            present = fresh = True
            for entity in entities:
                systems = [c for c in delivering[entity] if serves(c.region_code, county)]
                batches = [(latest[c.system_id], c.delivery.freshness_days) for c in systems if c.system_id in latest]
                if not batches:
                    present = fresh = False
                    missing.append(f"{entity}: no batch from {', '.join(c.system_id for c in systems) or 'any system'}")
                elif as_of is not None and not any((as_of - day).days <= days for day, days in batches):
                    fresh = False
                    missing.append(f"{entity}: stale (latest batch {max(d for d, _ in batches)})")
            failed = [e for e in inputs if e in plan.failed_tables]
            missing += [f"{e}: gate failed" for e in failed]
            rows.append({"model_id": model_id, "region_code": county, "inputs": ",".join(inputs),
                         "inputs_present": present, "inputs_fresh": fresh, "gates_green": not failed,
                         "published": model_id not in plan.held_models, "missing": "; ".join(missing) or None,
                         "as_of_date": as_of, "run_id": run_id})
    schema = {"model_id": pl.String, "region_code": pl.String, "inputs": pl.String, "inputs_present": pl.Boolean,
              "inputs_fresh": pl.Boolean, "gates_green": pl.Boolean, "published": pl.Boolean, "missing": pl.String,
              "as_of_date": pl.Date, "run_id": pl.String}
    return pl.DataFrame(rows, schema=schema)
