"""The quality gates as Dagster asset checks: one check ``expectations`` per suite of
``expectations/``, on the dbt model it gates, all evaluated in one step (Great Expectations is
imported once per run, inside the step, never at load).

How a failure holds publication back:
- a ``hold_all`` suite (gold alerts) is a blocking check: when it fails, Dagster skips the
  publication step and consumers stay on the last good publication;
- a ``hold_readers`` suite (silver entities, the payee index, the scorecard) fails its check
  with severity ERROR without stopping the run: the publication step, which runs after this
  one, holds back exactly the models and tables that read the failed table (their last
  publication stays, marked stale). Dagster's own blocking acts on whole steps, and would hold
  back every model for one broken entity.
"""

import dagster as dg

from orchestration.assets.dbt import DUCKDB_POOL, PowertraceTranslator
from orchestration.gates.suites import suites
from orchestration.phases import phase
from orchestration.settings import Zones

GATE_CHECK = "expectations"


def model_key(model: str) -> dg.AssetKey:
    """The asset key of a dbt model, as the dbt assets name it."""
    from orchestration.warehouse import model_nodes

    return PowertraceTranslator().get_asset_key(model_nodes()[model])


def _check_result(key: dg.AssetKey, result, docs: str) -> dg.AssetCheckResult:
    failures = [{"expectation": r.expectation, "engine": r.engine, "unexpected": r.unexpected_count,
                 "observed": r.observed, "sample": r.unexpected_sample, "error": r.error} for r in result.failures]
    return dg.AssetCheckResult(
        asset_key=key, check_name=GATE_CHECK, passed=result.passed, severity=dg.AssetCheckSeverity.ERROR,
        description=result.summary(),
        metadata={"expectations": len(result.results), "failed": len(result.failures),
                  "warnings": dg.MetadataValue.json([f"{w.expectation}: {w.observed}" for w in result.warnings]),
                  "failures": dg.MetadataValue.json(failures), "on_failure": result.on_failure,
                  "data_docs": dg.MetadataValue.path(docs)})


def build_gate_checks() -> dg.AssetChecksDefinition:
    by_key = {model_key(table): suite for table, suite in suites().items()}

    @dg.multi_asset_check(
        name="quality_gates",
        specs=[dg.AssetCheckSpec(GATE_CHECK, asset=key, blocking=suite.on_failure == "hold_all",
                                 description=f"expectations/{suite.path.parent.name}/{suite.path.name} "
                                             f"(on failure: {suite.on_failure})")
               for key, suite in by_key.items()],
        can_subset=True,
        pool=DUCKDB_POOL,
    )
    def quality_gates(context: dg.AssetCheckExecutionContext):
        from orchestration.gates.runner import data_docs_index, run_gates

        zones = Zones()
        chosen = {k.asset_key: by_key[k.asset_key] for k in context.selected_asset_check_keys}
        with phase("gate"):
            results = run_gates(zones, context.run.run_id, tables=[s.table for s in chosen.values()],
                                log=context.log.info)
        docs = str(data_docs_index(zones))
        for key, suite in chosen.items():
            yield _check_result(key, results[suite.table], docs)

    return quality_gates
