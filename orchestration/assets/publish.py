"""Publication as one Dagster step: the consumer tables under ``<lake>/published/`` and the
restricted re-identification table, from the audited warehouse (orchestration/publish/).

The step runs after the quality gates (the blocking alerts gate makes it wait for the gate
step) and publishes only what the gates of its own run allow; without gate results for its run
it refuses, so nothing reaches consumers unaudited.
"""

import dagster as dg

from orchestration.assets.dbt import DUCKDB_POOL
from orchestration.phases import phase
from orchestration.publish.plan import CONSUMER_TABLES, DOMAINS, SOURCE_MODELS
from orchestration.settings import Zones

# Not ["restricted", "person_identity"]: that is the dbt model in the warehouse, this the lake copy.
PERSON_IDENTITY_KEY = dg.AssetKey(["lake_restricted", "person_identity"])

# Who reads what (shown in the UI).
DESCRIPTIONS = {
    "alerts": "All alerts of live supervision models (alert contract of models.md; stale flags for held-back models).",
    "alerts_red": "Red alerts, for the discipline inspection commission.",
    **{f"alerts_yellow_{d}": f"Yellow alerts of the {d} domain, for its regulating department." for d in DOMAINS},
    "ineligible_payees": "The real-time payment check's index (SM03 semantics), read by the alert service.",
    "scorecard": "Per model, rule branch and county: alerts, dispositions and verified-hit rate.",
    "coverage": "Per model and county: inputs present, fresh and gated green (no alerts vs no data).",
}


def published_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["published", table])


def _specs() -> list[dg.AssetSpec]:
    from orchestration.assets.gates import model_key

    specs = [dg.AssetSpec(published_key(t), deps=[model_key(SOURCE_MODELS.get(t, "alerts"))], group_name="published",
                          kinds={"delta"}, description=DESCRIPTIONS[t], skippable=True) for t in CONSUMER_TABLES]
    specs.append(dg.AssetSpec(PERSON_IDENTITY_KEY, deps=[model_key("person_identity")], group_name="restricted",
                              kinds={"delta"}, skippable=True,
                              description="RESTRICTED re-identification table (person_ref → id_number, name) "
                                          "for the alert service, under <lake>/restricted/."))
    return specs


def build_publication() -> dg.AssetsDefinition:
    @dg.multi_asset(name="publication", specs=_specs(), pool=DUCKDB_POOL)
    def publication(context: dg.AssetExecutionContext):
        from orchestration.publish.core import PublicationError, publish_gated
        from orchestration.publish.restricted import publish_restricted
        from orchestration.warehouse import upstream_models

        run_id = context.run.run_id
        try:
            with phase("publication"):
                published = publish_gated(Zones(), run_id, log=context.log.info)
        except PublicationError as exc:
            raise dg.Failure(str(exc)) from None
        plan = published.plan
        for table, version in published.versions.items():
            if version is None:
                continue
            metadata = {"rows": published.rows[table], "delta_version": version, "run_id": run_id,
                        "as_of": str(published.as_of)}
            if table == "alerts":
                metadata["stale_models"] = dg.MetadataValue.json(plan.held_models)
            yield dg.MaterializeResult(asset_key=published_key(table), metadata=metadata)
        identity_inputs = upstream_models("person_identity") & plan.failed_tables
        if identity_inputs:
            context.log.warning(f"restricted person_identity held back: {', '.join(sorted(identity_inputs))} failed")
        else:
            yield dg.MaterializeResult(asset_key=PERSON_IDENTITY_KEY, metadata=publish_restricted(run_id=run_id))

    return publication
