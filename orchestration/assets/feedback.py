"""Dispositions flow back on every run: the alert service's pending dispositions are exported into
landing as the ``disposition_feedback_330000`` delivery before that system is ingested.

``landing/disposition_feedback_330000`` runs ``orchestration.service.feedback.export_dispositions``
over the service's store (``<lake>/service/service.sqlite``, or ``POWERTRACE_SERVICE_DB``), and the
bronze asset of that system depends on it (``LANDING_UPSTREAMS``, read by bronze.py), so a run
exports first and ingests what it wrote. Without a store there is nothing to export: the asset
writes nothing and says so in its metadata. Exporting is idempotent per batch date (a second run
rewrites the same file with the same events, plus any new ones), so no disposition is lost when
the pipeline runs twice.
"""
import datetime as dt
from pathlib import Path

import dagster as dg

from orchestration.settings import lake_dir

# The province's feedback system, whose deliveries orchestration/service/feedback.py writes
# (its SYSTEM_ID). Spelled here rather than imported so that loading the code location does not
# import the service and SQLAlchemy; export_pending_dispositions refuses to run if they differ.
FEEDBACK_SYSTEM_ID = "disposition_feedback_330000"
DISPOSITION_FEEDBACK_KEY = dg.AssetKey(["landing", FEEDBACK_SYSTEM_ID])

# system_id -> the assets that write its landing deliveries: its bronze asset depends on them.
LANDING_UPSTREAMS: dict[str, list[dg.AssetKey]] = {FEEDBACK_SYSTEM_ID: [DISPOSITION_FEEDBACK_KEY]}


def feedback_batch_date(lake: Path, system_ids) -> dt.date | None:
    """The batch date of this run's feedback delivery: the latest date any of ``system_ids`` other
    than the feedback system has landed in a non-empty batch folder (None before any delivery).

    Why that date. The contract quarantines a recorded_at after its batch date, and
    export_dispositions puts into a batch only events recorded up to its date, so no exported row
    is quarantined whatever the date. The run's as-of date is the latest batch in bronze
    (models/gold/as_of_date.sql): the wall-clock date would move it past the data the other
    systems delivered (on the synthetic world, whose days end on 2026-10-31, by weeks), and with
    it every alert's last_detected_as_of. The latest delivered date moves nothing, and the
    scorecard counts a disposition recorded up to the day after the as-of date, which every event
    of this batch is. Events recorded after it wait in the store (not lost) for the first run whose
    deliveries reach their date. The feedback system's own folders are left out, so a hand-made
    export of a later date (`powertrace dispositions export`) does not drag every later run along.
    """
    from orchestration.ingest.landing import batch_date_of, system_folder

    days = [day for system_id in system_ids if system_id not in LANDING_UPSTREAMS
            if (folder := system_folder(lake, system_id)).is_dir()
            for entry in folder.iterdir()
            if entry.is_dir() and (day := batch_date_of(entry.name)) and any(entry.iterdir())]
    return max(days, default=None)


def _missing_store(url: str) -> Path | None:
    """The SQLite file ``url`` names when it does not exist (opening it would create an empty store)."""
    import sqlalchemy as sa

    if not url.startswith("sqlite"):
        return None
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:":
        return None
    return None if Path(database).is_file() else Path(database)


def export_pending_dispositions(lake: Path) -> dict:
    """Export the store's pending dispositions into landing; returns the asset's metadata."""
    import sqlalchemy as sa

    from orchestration.contracts import registry
    from orchestration.service.feedback import SYSTEM_ID, export_dispositions
    from orchestration.service.store import Store, default_url, disposition_events

    if SYSTEM_ID != FEEDBACK_SYSTEM_ID:
        raise RuntimeError(f"orchestration/service/feedback.py writes {SYSTEM_ID}, the asset graph expects "
                           f"{FEEDBACK_SYSTEM_ID} (orchestration/assets/feedback.py): make them one system")
    url = default_url(lake)
    missing = _missing_store(url)
    if missing is not None:
        return {"exported": False, "reason": f"no alert service store at {missing}: nothing to export"}
    batch_date = feedback_batch_date(lake, registry())
    if batch_date is None:
        return {"exported": False, "reason": "no source system has delivered a batch yet: no batch date to export under"}
    store = Store(url)
    try:
        export = export_dispositions(store, lake, batch_date)
        with store.read() as conn:
            waiting = conn.execute(sa.select(sa.func.count()).select_from(disposition_events)
                                   .where(disposition_events.c.export_batch.is_(None))).scalar_one()
    finally:
        store.close()
    return {"exported": True, "batch_date": batch_date.isoformat(), "events": export.events,
            "path": str(export.path.relative_to(lake)), "events_waiting": waiting}


@dg.asset(key=DISPOSITION_FEEDBACK_KEY, group_name="feedback", kinds={"csv"},
          description="Dispositions recorded in the alert service, exported into landing as the "
                      f"{FEEDBACK_SYSTEM_ID} delivery of the run's batch date (nothing without a service store).")
def disposition_feedback_export(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    metadata = export_pending_dispositions(lake_dir())
    if metadata["exported"]:
        context.log.info(f"{metadata['events']} disposition event(s) in {metadata['path']}; "
                         f"{metadata['events_waiting']} recorded after {metadata['batch_date']} wait for a later batch")
    else:
        context.log.info(metadata["reason"])
    return dg.MaterializeResult(metadata=metadata)
