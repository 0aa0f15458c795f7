"""Ops notification: failed runs and failed gates are posted as JSON to a webhook.

The URL is ``POWERTRACE_WEBHOOK_URL``. When it is set at load, both sensors run by default;
otherwise they are stopped, and if started anyway they log each payload instead of posting it.
A webhook that is down, slow or answers with an error only yields a warning holding the payload
(the notification is not retried): a sensor that raised would fail every tick and report nothing.
"""
from __future__ import annotations

import http.client
import json
import logging
import os
import urllib.parse
import urllib.request

import dagster as dg

WEBHOOK_URL_ENV = "POWERTRACE_WEBHOOK_URL"
WEBSERVER_URL_ENV = "DAGSTER_WEBSERVER_URL"
TIMEOUT_SECONDS = 5.0
ERROR_CHARS = 300
METADATA_VALUE_CHARS = 200
# Runs read per terminal status and tick; a backlog is worked off over the following ticks.
RUNS_PER_TICK = 50
# A gate's check evaluations are in the run that ran it; its end is when its results are final.
RUN_END_EVENTS = (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE,
                  dg.DagsterEventType.RUN_CANCELED)

_DEFAULT_STATUS = (dg.DefaultSensorStatus.RUNNING if os.environ.get(WEBHOOK_URL_ENV)
                   else dg.DefaultSensorStatus.STOPPED)


def post_webhook(payload: dict, log: logging.Logger) -> bool:
    """POST ``payload`` to the webhook; True when it was accepted. Never raises."""
    body = json.dumps(payload, ensure_ascii=False, default=str)
    url = os.environ.get(WEBHOOK_URL_ENV)
    if not url:
        log.info("%s is not set; %s notification not sent: %s", WEBHOOK_URL_ENV, payload["event"], body)
        return False
    # Webhook URLs often carry their secret in the path: logs name the host only.
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        log.warning("%s must be an http(s) URL, not %r; %s notification not sent: %s",
                    WEBHOOK_URL_ENV, parts.scheme, payload["event"], body)
        return False
    request = urllib.request.Request(url, data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            response.read()
    except (OSError, ValueError, http.client.HTTPException) as exc:
        log.warning("webhook at %s did not take the %s notification (%s): %s",
                    parts.netloc, payload["event"], exc, body)
        return False
    return True


def _run_url(run_id: str) -> str | None:
    webserver = os.environ.get(WEBSERVER_URL_ENV)
    return f"{webserver.rstrip('/')}/runs/{run_id}" if webserver else None


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _failure_message(context: dg.RunFailureSensorContext) -> str:
    steps = context.get_step_failure_events()
    if not steps:
        return _shorten(context.failure_event.message or "run failed", ERROR_CHARS)
    error = steps[0].step_failure_data.error
    # Dagster wraps the op's exception; its innermost cause says what went wrong.
    while error.cause is not None:
        error = error.cause
    more = f" (+{len(steps) - 1} more failed steps)" if len(steps) > 1 else ""
    return _shorten(f"{steps[0].step_key}: {error.message}{more}", ERROR_CHARS)


@dg.run_failure_sensor(name="run_failure_sensor", default_status=_DEFAULT_STATUS,
                       description=f"Posts every failed run of this code location to {WEBHOOK_URL_ENV}.")
def run_failure_sensor(context: dg.RunFailureSensorContext):
    run = context.dagster_run
    post_webhook({
        "event": "run_failure",
        "run_id": run.run_id,
        "job": run.job_name,
        "error": _failure_message(context),
        "dagster_url": _run_url(run.run_id),
    }, context.log)


def _metadata_summary(metadata: dict[str, dg.MetadataValue]) -> dict:
    """Numbers stay numbers; anything else becomes short text (tables, samples, JSON)."""
    summary = {}
    for key, entry in metadata.items():
        value = entry.value
        if not isinstance(value, (bool, int, float, type(None))):
            value = _shorten(str(value), METADATA_VALUE_CHARS)
        summary[key] = value
    return summary


def _gate_failures(instance: dg.DagsterInstance, run_end: dg.EventLogRecord) -> list[dict]:
    evaluations = instance.get_records_for_run(
        run_end.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    payloads = []
    for record in evaluations:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation.passed or evaluation.severity != dg.AssetCheckSeverity.ERROR:
            continue
        payloads.append({
            "event": "gate_failure",
            "run_id": run_end.run_id,
            "job": run_end.event_log_entry.job_name,
            "asset_key": evaluation.asset_key.to_user_string(),
            "check_name": evaluation.check_name,
            "description": evaluation.description,
            "metadata": _metadata_summary(evaluation.metadata),
            "dagster_url": _run_url(run_end.run_id),
        })
    return payloads


def _latest_storage_id(instance: dg.DagsterInstance, event_type: dg.DagsterEventType) -> int:
    latest = instance.fetch_run_status_changes(event_type, limit=1, ascending=False).records
    return latest[0].storage_id if latest else 0


@dg.sensor(name="gate_failure_sensor", minimum_interval_seconds=60, default_status=_DEFAULT_STATUS,
           description=f"Posts every failed ERROR-severity asset check (gate) to {WEBHOOK_URL_ENV}, "
                       "once, when the run that evaluated it has ended.")
def gate_failure_sensor(context: dg.SensorEvaluationContext):
    """The cursor holds, per run-end event type, the storage id of the last run end read.

    The first tick only anchors the cursor at the present, so switching the sensor on does not
    replay the instance's whole history to the webhook.
    """
    instance = context.instance
    if context.cursor is None:
        anchor = {t.value: _latest_storage_id(instance, t) for t in RUN_END_EVENTS}
        return dg.SensorResult(cursor=json.dumps(anchor),
                               skip_reason="started: gate failures of runs ending from now on are posted")
    cursor = json.loads(context.cursor)
    runs = failures = 0
    for event_type in RUN_END_EVENTS:
        ends = instance.fetch_run_status_changes(
            dg.RunStatusChangeRecordsFilter(event_type, after_storage_id=cursor.get(event_type.value, 0)),
            limit=RUNS_PER_TICK, ascending=True).records
        for run_end in ends:
            for payload in _gate_failures(instance, run_end):
                post_webhook(payload, context.log)
                failures += 1
            cursor[event_type.value] = run_end.storage_id
        runs += len(ends)
    return dg.SensorResult(cursor=json.dumps(cursor),
                           skip_reason=f"{failures} gate failure(s) in {runs} ended run(s)")


notification_sensors = [run_failure_sensor, gate_failure_sensor]
