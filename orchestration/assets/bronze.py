"""Bronze assets, generated from the source registry: one asset per delivered table
(``bronze/<system_id>/<table>``, the Delta table it writes), one multi_asset per kind.

Why a multi_asset per kind: Dagster costs ~95 ms per step but ~50 ms per asset inside one
multi_asset, and 153 single-asset steps would dominate a small run. Each table is still its own
asset, so lineage (dbt sources map onto them one to one), selection and the UI stay per table,
and a 154th contract file appears here with no Python change. A system's tables are ingested
together (a batch is one delivery), so selecting one table of a system ingests them all. Within a
kind, systems are ingested two at a time (threads); their progress lines are logged as they come,
their events in registry order.

Each asset carries a blocking asset check ``ledger_reconciles``: every landed record is in bronze
or in quarantine (records sent, per the manifest or counted, = bronze rows + quarantined rows),
and a check ``fresh`` from its contract's ``freshness_days``: a stale source fails it with
severity WARN, visible in the UI, never blocking.
"""
import functools
import queue
from collections import defaultdict
from collections.abc import Iterator, Set as AbstractSet
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import dagster as dg

from orchestration.assets.feedback import LANDING_UPSTREAMS
from orchestration.automation.schedules import requested_batch_dates
from orchestration.contracts import Contract, registry
from orchestration.phases import phase
from orchestration.settings import ingest_threads, lake_dir

LEDGER_CHECK = "ledger_reconciles"
FRESHNESS_CHECK = "fresh"
# A failed write (a file still being copied, a Delta commit conflict) usually passes on a second
# try; ingestion replaces whole batches, so a retried step never duplicates a row.
INGEST_RETRY = dg.RetryPolicy(max_retries=2, delay=15, backoff=dg.Backoff.EXPONENTIAL)


def bronze_key(system_id: str, table: str) -> dg.AssetKey:
    return dg.AssetKey(["bronze", system_id, table])


def system_keys(contract: Contract) -> list[dg.AssetKey]:
    return [bronze_key(contract.system_id, t) for t in contract.tables]


@functools.lru_cache(maxsize=4)
def _as_of(lake: Path, run_id: str):
    """The day freshness is judged on, once per run (it lists every system's landing folder):
    every kind's step of a run judges on the same day."""
    from orchestration.ingest.landing import latest_landed_date

    return latest_landed_date(lake)


@functools.lru_cache(maxsize=4)
def _shared_writes(lake: Path, run_id: str):
    """The run's quarantine and ledger writes, shared by its kinds' steps (in one process) so that
    the ledger is read once per run, not once per kind (~60 ms each at SF 1, 19 kinds). Each
    step still commits its own systems' rows when it ends; a retried step re-reads the ledger for
    the systems it had already served (SharedWrites.fingerprints)."""
    from orchestration.ingest import SharedWrites

    return SharedWrites(lake)


def _spec(c: Contract, table: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        bronze_key(c.system_id, table),
        deps=LANDING_UPSTREAMS.get(c.system_id, ()),  # assets that write this system's deliveries
        group_name=f"bronze_{c.kind}",
        description=f"{c.name} ({c.department}): {table} → {c.tables[table].entity}",
        kinds={"delta", c.delivery.format},
        tags={"level": c.level, "kind": c.kind, **({"sensitive": "true"} if c.sensitive else {})},
        metadata={"system_id": c.system_id, "region_code": c.region_code, "delivery_mode": c.delivery.mode,
                  "entity": c.tables[table].entity, "file_pattern": c.tables[table].file_pattern},
    )


def _bronze_kind(kind: str, contracts: list[Contract]) -> dg.AssetsDefinition:
    by_key = {bronze_key(c.system_id, t): (c, t) for c in contracts for t in c.tables}

    @dg.multi_asset(
        name=f"bronze_{kind}",
        specs=[_spec(c, t) for c, t in by_key.values()],
        check_specs=[spec for k, (c, _) in by_key.items() for spec in (
            dg.AssetCheckSpec(LEDGER_CHECK, asset=k, blocking=True,
                              description="records sent = rows in bronze + rows quarantined, per file"),
            dg.AssetCheckSpec(FRESHNESS_CHECK, asset=k, description=(
                f"a batch within {c.delivery.freshness_days} day(s) of the newest landed batch "
                "(warns, never blocks)")))],
        can_subset=True,
        retry_policy=INGEST_RETRY,
    )
    def ingest_kind(context: dg.AssetExecutionContext):
        from orchestration.ingest import ingest_system  # heavy readers load only when a run ingests
        from orchestration.ingest.system import SystemIngestResult

        lake = lake_dir()
        checks = context.selected_asset_check_keys
        selected = context.selected_asset_keys
        as_of = _as_of(lake, context.run.run_id)
        shared = _shared_writes(lake, context.run.run_id)  # this kind's rows: one commit each, at the end
        chosen = [(c, keys) for c in contracts if (keys := [k for k in system_keys(c) if k in selected])]

        progress: queue.SimpleQueue[str] = queue.SimpleQueue()  # logged by the step's own thread only

        def ingest(contract: Contract) -> SystemIngestResult:
            with phase("ingestion", contract.system_id):
                return ingest_system(contract, lake, log=progress.put, as_of=as_of, shared=shared,
                                     batch_dates=requested_batch_dates(context.run.tags, lake, contract.system_id))

        def log_progress() -> None:
            while not progress.empty():
                context.log.info(progress.get())

        def in_registry_order(running) -> Iterator[tuple[Contract, list[dg.AssetKey], SystemIngestResult]]:
            for contract, keys, future in running:
                while not future.done():  # progress lines as they come, also during a long system
                    log_progress()
                    wait([future], timeout=0.5)
                log_progress()
                yield contract, keys, future.result()

        # Two systems at a time (settings.ingest_threads): a day's delivery of a system is small,
        # and its cost is mostly fixed (the Delta commit of each table, ~50 ms a table with
        # Dagster's events); reading files, applying the contract and the Delta writer release the
        # GIL. Systems' events come in registry order whatever order they finish in.
        with ThreadPoolExecutor(max_workers=ingest_threads(), thread_name_prefix=f"ingest-{kind}") as pool:
            running = [(c, keys, pool.submit(ingest, c)) for c, keys in chosen]
            try:
                yield from _system_events(context, in_registry_order(running), checks)
            finally:
                pool.shutdown(cancel_futures=True)  # a failed system: nothing more starts
        with phase("ingestion", f"{kind}: quarantine and ledger"):
            shared.commit()

    return ingest_kind


def _system_events(context: dg.AssetExecutionContext, outcomes, checks: AbstractSet[dg.AssetCheckKey]
                   ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Each ingested system's warnings, then per selected table its materialization, its ledger
    check and its freshness check."""
    from orchestration.ingest.system import TableSummary

    for contract, keys, result in outcomes:
        for warning in result.warnings:
            context.log.warning(warning)
        tables = result.tables
        system_figures = {k: v for k, v in result.metadata().items()
                          if k in ("batches_ingested", "latest_batch", "warnings", "rejected_files")}
        for key in keys:
            name = key.path[-1]
            figures = vars(tables.get(name) or TableSummary())
            yield dg.MaterializeResult(asset_key=key, metadata={**figures, **system_figures})
            if dg.AssetCheckKey(key, LEDGER_CHECK) in checks:
                # files matching no table of the contract belong to every table's check
                failing = [f"{f.batch_date}/{f.file_name}: {f.message}" for f in result.files
                           if not f.reconciled and f.table_name in (name, None)]
                yield dg.AssetCheckResult(asset_key=key, check_name=LEDGER_CHECK, passed=not failing,
                                          metadata={**figures, "unreconciled_files": dg.MetadataValue.json(failing)})
            if dg.AssetCheckKey(key, FRESHNESS_CHECK) in checks:
                yield dg.AssetCheckResult(asset_key=key, check_name=FRESHNESS_CHECK, passed=result.stale is None,
                                          severity=dg.AssetCheckSeverity.WARN, description=result.stale,
                                          metadata={"latest_batch": str(result.latest_batch),
                                                    "freshness_days": contract.delivery.freshness_days})


def bronze_assets(contracts: dict[str, Contract] | None = None) -> list[dg.AssetsDefinition]:
    by_kind: dict[str, list[Contract]] = defaultdict(list)
    for c in (contracts or registry()).values():
        by_kind[c.kind].append(c)
    return [_bronze_kind(kind, sorted(cs, key=lambda c: c.system_id)) for kind, cs in sorted(by_kind.items())]
