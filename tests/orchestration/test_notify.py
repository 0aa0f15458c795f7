"""Ops notification: the run-failure and gate-failure sensors post to a local HTTP server, once
per failure; without a URL they log the payload; a broken webhook never makes them raise."""
from __future__ import annotations

import importlib
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from orchestration.automation import notify
from orchestration.automation.notify import gate_failure_sensor, post_webhook, run_failure_sensor

WEBSERVER = "http://dagster.test:3000"


@dg.op
def read_source():
    raise ValueError("source file unreadable")


@dg.job
def failing_job():
    read_source()


@dg.asset
def silver_person():
    return 1


@dg.asset_check(asset=silver_person, blocking=True)
def identifier_validity():
    return dg.AssetCheckResult(passed=False, description="valid id rate below threshold",
                               metadata={"valid_rate": 0.5, "threshold": 0.9, "sample": "3301**********1234"})


@dg.asset_check(asset=silver_person)
def keys_unique():
    return dg.AssetCheckResult(passed=True)


@dg.asset_check(asset=silver_person)
def freshness():
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)


defs = dg.Definitions(
    assets=[silver_person], asset_checks=[identifier_validity, keys_unique, freshness],
    jobs=[failing_job, dg.define_asset_job("gated_job", selection=dg.AssetSelection.all())],
)


class Recorder(BaseHTTPRequestHandler):
    """Records JSON bodies posted to /; /error answers 500, /slow answers nothing for a second."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/slow":
            time.sleep(1)
            return
        if self.path == "/error":
            self.send_response(500)
        else:
            self.server.received.append(json.loads(body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.daemon_threads = True
    server.block_on_close = False
    server.received = []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv(notify.WEBHOOK_URL_ENV, url + "/")
    monkeypatch.setenv(notify.WEBSERVER_URL_ENV, WEBSERVER)
    yield url, server.received
    server.shutdown()
    server.server_close()


@pytest.fixture
def instance(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        yield instance


def run(job_name: str, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def(job_name).execute_in_process(instance=instance, raise_on_error=False)


def evaluate_run_failure(result: dg.ExecuteInProcessResult, instance: dg.DagsterInstance):
    context = dg.build_run_status_sensor_context(
        sensor_name=run_failure_sensor.name, dagster_event=result.get_run_failure_event(),
        dagster_instance=instance, dagster_run=result.dagster_run).for_run_failure()
    return run_failure_sensor(context)


def evaluate_gates(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    return gate_failure_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))


def test_run_failure_is_posted_with_its_root_error(webhook, instance):
    _, received = webhook
    result = run("failing_job", instance)
    assert not result.success
    evaluate_run_failure(result, instance)
    run_id = result.run_id
    assert received == [{
        "event": "run_failure", "run_id": run_id, "job": "failing_job",
        "error": "read_source: ValueError: source file unreadable",
        "dagster_url": f"{WEBSERVER}/runs/{run_id}",
    }]


def test_each_failed_error_gate_is_posted_once(webhook, instance):
    _, received = webhook
    before = run("gated_job", instance)
    first = evaluate_gates(instance, None)
    assert received == [], "the first tick anchors the cursor and replays no history"

    gated = run("gated_job", instance)
    run("failing_job", instance)
    assert not gated.success and gated.run_id != before.run_id
    second = evaluate_gates(instance, first.cursor)
    third = evaluate_gates(instance, second.cursor)

    assert received == [{
        "event": "gate_failure", "run_id": gated.run_id, "job": "gated_job",
        "asset_key": "silver_person", "check_name": "identifier_validity",
        "description": "valid id rate below threshold",
        "metadata": {"valid_rate": 0.5, "threshold": 0.9, "sample": "3301**********1234"},
        "dagster_url": f"{WEBSERVER}/runs/{gated.run_id}",
    }]
    assert "1 gate failure(s) in 2 ended run(s)" in second.skip_reason.skip_message
    assert "0 gate failure(s) in 0 ended run(s)" in third.skip_reason.skip_message


def test_without_url_the_payload_is_logged(monkeypatch, instance, capfd):
    monkeypatch.delenv(notify.WEBHOOK_URL_ENV, raising=False)
    monkeypatch.delenv(notify.WEBSERVER_URL_ENV, raising=False)
    result = run("failing_job", instance)
    capfd.readouterr()
    evaluate_run_failure(result, instance)
    logged = capfd.readouterr().err
    assert f"{notify.WEBHOOK_URL_ENV} is not set" in logged
    assert result.run_id in logged and "source file unreadable" in logged


def test_unreachable_webhook_warns_and_does_not_raise(monkeypatch, instance, capfd):
    with socket.socket() as probe:           # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(notify.WEBHOOK_URL_ENV, f"http://127.0.0.1:{port}/hook/SECRET")
    result = run("failing_job", instance)
    capfd.readouterr()
    evaluate_run_failure(result, instance)
    logged = capfd.readouterr().err
    assert f"webhook at 127.0.0.1:{port} did not take the run_failure notification" in logged
    assert "SECRET" not in logged


@pytest.mark.parametrize("path", ["/error", "/slow"])
def test_failing_or_slow_webhook_is_a_warning(webhook, monkeypatch, caplog, path):
    url, received = webhook
    monkeypatch.setenv(notify.WEBHOOK_URL_ENV, url + path)
    monkeypatch.setattr(notify, "TIMEOUT_SECONDS", 0.2)
    assert post_webhook({"event": "run_failure", "run_id": "r1"}, logging.getLogger("notify-test")) is False
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert '"run_id": "r1"' in caplog.records[0].getMessage()
    assert received == []


def test_sensors_run_by_default_only_when_a_url_is_set(monkeypatch):
    monkeypatch.setenv(notify.WEBHOOK_URL_ENV, "http://127.0.0.1:9/")
    loaded = importlib.reload(notify)
    assert {s.default_status for s in loaded.notification_sensors} == {dg.DefaultSensorStatus.RUNNING}
    monkeypatch.delenv(notify.WEBHOOK_URL_ENV)
    loaded = importlib.reload(notify)
    assert {s.default_status for s in loaded.notification_sensors} == {dg.DefaultSensorStatus.STOPPED}

