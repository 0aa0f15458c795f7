"""Sensors: new batch folders in landing start a run for the systems that delivered."""

import hashlib

import dagster as dg

from orchestration.assets.bronze import system_keys
from orchestration.contracts import registry
from orchestration.settings import lake_dir


@dg.sensor(name="landing_sensor", minimum_interval_seconds=60, asset_selection=dg.AssetSelection.all(),
           default_status=dg.DefaultSensorStatus.STOPPED,
           description="Starts a run when a system delivers a new batch folder or re-delivers one.")
def landing_sensor(context: dg.SensorEvaluationContext):
    from orchestration.ingest import ledger_fingerprints, pending_batches

    lake = lake_dir()
    known = ledger_fingerprints(lake)  # one read of the ledger for every system
    pending = {sid: pending_batches(c, lake, known) for sid, c in registry().items()}
    pending = {sid: dates for sid, dates in pending.items() if dates}
    if not pending:
        return dg.SkipReason("no new or re-delivered batches in landing")
    # The same set of pending batches yields the same run key, so a tick during a run adds nothing.
    fingerprint = ";".join(f"{sid}:{','.join(map(str, d))}" for sid, d in sorted(pending.items()))
    keys = [k for sid in sorted(pending) for k in system_keys(registry()[sid])]
    return dg.RunRequest(
        run_key=hashlib.sha256(fingerprint.encode()).hexdigest()[:16],
        asset_selection=[*keys, *_downstream_of(context, keys)],
        tags={"powertrace/trigger": "landing", "powertrace/systems": str(len(keys))},
    )


def _downstream_of(context: dg.SensorEvaluationContext, keys: list[dg.AssetKey]) -> list[dg.AssetKey]:
    graph = context.repository_def.asset_graph
    return sorted(dg.AssetSelection.assets(*keys).downstream(include_self=False).resolve(graph),
                  key=lambda k: k.to_user_string())
