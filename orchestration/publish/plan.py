"""What a run may publish, given its gate results: write-audit-publish's decision.

A gated table whose suite failed holds back everything that reads it (its lineage in the dbt
manifest): a supervision model reading it keeps its previously published alerts, marked stale;
a published table reading it (the payee index, the scorecard) keeps its previous version. A
``hold_all`` suite (the alerts table itself) holds back the whole publication.
"""
from __future__ import annotations

from dataclasses import dataclass, field

DOMAINS = ("village", "medical", "bidding", "social_insurance", "social_assistance", "assets")
# Everything a run publishes to <lake>/published/ (docs/gates.md says who reads which).
CONSUMER_TABLES = ("alerts", "alerts_red", *(f"alerts_yellow_{d}" for d in DOMAINS),
                   "ineligible_payees", "scorecard", "coverage")
# The consumer tables and the dbt model each is built from (alerts and its per-consumer cuts are
# built by publication itself from the gated gold.alerts; coverage from the gate results).
SOURCE_MODELS = {"alerts": "alerts", "ineligible_payees": "ineligible_payees", "scorecard": "scorecard"}
# Tables with a model_id column, published model by model: a held-back model keeps its previous
# rows, the other models' rows are this run's. They are held whole only when an input they read
# besides the supervision models fails (the scorecard's dispositions).
PER_MODEL = {"alerts", "scorecard"}


@dataclass
class PublicationPlan:
    failed_tables: set[str]
    hold_all: bool
    held_models: dict[str, list[str]] = field(default_factory=dict)   # model_id -> failed inputs
    held_tables: dict[str, list[str]] = field(default_factory=dict)   # published table -> failed inputs
    model_inputs: dict[str, list[str]] = field(default_factory=dict)  # model_id -> gated inputs

    def describe(self) -> str:
        if self.hold_all:
            return f"publication held back entirely: {', '.join(sorted(self.failed_tables))} failed"
        if not self.failed_tables:
            return "all gates green: every model and table published"
        parts = [f"gates failed: {', '.join(sorted(self.failed_tables))}"]
        if self.held_models:
            parts.append("stale models: " + ", ".join(f"{m} (reads {', '.join(i)})" for m, i in sorted(self.held_models.items())))
        if self.held_tables:
            parts.append("held tables: " + ", ".join(sorted(self.held_tables)))
        return "; ".join(parts)


def plan_publication(failed: set[str], hold_all_tables: set[str], gated: set[str]) -> PublicationPlan:
    """Decide from the failed suites (by table), which suites hold everything, and which tables are gated."""
    from orchestration.warehouse import supervision_models, upstream_models

    plan = PublicationPlan(failed_tables=set(failed), hold_all=bool(failed & hold_all_tables))
    for name, meta in supervision_models().items():
        if meta.get("mode") != "live":
            continue
        inputs = sorted((upstream_models(name) | {name}) & gated)
        plan.model_inputs[meta["model_id"]] = inputs
        broken = sorted(set(inputs) & failed)
        if broken:
            plan.held_models[meta["model_id"]] = broken
    read_by_models = set().union(*(upstream_models(n) | {n} for n in supervision_models()))
    for table, model in SOURCE_MODELS.items():
        reads = upstream_models(model) | {model}
        if table in PER_MODEL:
            reads -= read_by_models
        broken = sorted(reads & failed)
        if broken:
            plan.held_tables[table] = broken
    return plan
