"""The disposition workflow: legal and illegal transitions, nothing lost across publications,
the feedback delivery for the pipeline, the changes feed, and the hash-chained audit log."""
from __future__ import annotations

import csv
import datetime as dt

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.contracts import registry
from orchestration.service import audit, dispositions, tables
from orchestration.service.store import audit_log, disposition_events, now_in_china
from service_helpers import alert_id, auth, fixture_alerts, make_alert

SM03_XIHU = alert_id("SM03", "village_finance_330100:ZF1")
SM03_RUIAN = alert_id("SM03", "village_finance_330300:ZF2")


def act(client, token, alert, **body):
    return client.post(f"/alerts/{alert}/dispositions", json=body, headers=auth(token))


def status_of(client, token, alert) -> str:
    return client.get(f"/alerts/{alert}", headers=auth(token)).json()["disposition_status"]


def test_full_path_to_rectified(client, tokens):
    for action, expected in (("verify", "verifying"), ("confirm", "confirmed"), ("rectify", "rectified")):
        response = act(client, tokens.county, SM03_XIHU, action=action)
        assert response.status_code == 201, response.text
        assert response.json()["to_status"] == expected and response.json()["actor"] == "xihu-jw"
    detail = client.get(f"/alerts/{SM03_XIHU}", headers=auth(tokens.county)).json()
    assert [e["action"] for e in detail["dispositions"]] == ["verify", "confirm", "rectify"]
    assert detail["legal_actions"] == []


def test_dismiss_needs_a_reason_and_reopen_too(client, tokens):
    act(client, tokens.county, SM03_XIHU, action="verify")
    response = act(client, tokens.county, SM03_XIHU, action="dismiss")
    assert response.status_code == 422 and "needs a reason" in response.json()["error"]
    response = act(client, tokens.county, SM03_XIHU, action="dismiss", reason="   ")
    assert response.status_code == 422
    assert act(client, tokens.county, SM03_XIHU, action="dismiss", reason="同名不同人").status_code == 201
    assert act(client, tokens.county, SM03_XIHU, action="reopen").status_code == 422
    assert act(client, tokens.county, SM03_XIHU, action="reopen", reason="新线索").json()["to_status"] == "verifying"


@pytest.mark.parametrize("path, action", [
    ([], "confirm"), ([], "dismiss"), ([], "rectify"), ([], "reopen"),
    (["verify"], "verify"), (["verify"], "rectify"), (["verify"], "reopen"),
    (["verify", "confirm"], "dismiss"), (["verify", "confirm"], "transfer"), (["verify", "confirm"], "confirm"),
    (["verify", "confirm", "rectify"], "reopen"),
])
def test_illegal_transitions_are_refused_and_write_nothing(client, tokens, store, path, action):
    for step in path:
        assert act(client, tokens.county, SM03_XIHU, action=step).status_code == 201
    before = (len(dispositions.history(store, SM03_XIHU)), audit.verify_chain(store).entries)
    body = {"action": action, "reason": "r"} | ({"to_unit": "西湖区农业农村局"} if action == "transfer" else {})
    response = act(client, tokens.county, SM03_XIHU, **body)
    assert response.status_code == 409 and "illegal transition" in response.json()["error"]
    assert (len(dispositions.history(store, SM03_XIHU)), audit.verify_chain(store).entries) == before


def test_transfer_to_another_unit(client, tokens):
    response = act(client, tokens.county, SM03_XIHU, action="transfer")
    assert response.status_code == 422 and "to_unit" in response.json()["error"]
    response = act(client, tokens.county, SM03_XIHU, action="transfer", to_unit="西湖区农业农村局", reason="职能部门核查")
    assert response.status_code == 201 and response.json()["to_status"] == "pushed"
    detail = client.get(f"/alerts/{SM03_XIHU}", headers=auth(tokens.county)).json()
    assert detail["disposition_unit"] == "西湖区农业农村局"
    assert act(client, tokens.county, SM03_XIHU, action="verify").json()["unit"] == "西湖区农业农村局"


def test_expected_status_guards_against_a_stale_form(client, tokens):
    act(client, tokens.county, SM03_XIHU, action="verify")
    response = act(client, tokens.county, SM03_XIHU, action="confirm", expected_status="pushed")
    assert response.status_code == 409 and "meanwhile" in response.json()["error"]


def test_cannot_dispose_of_an_invisible_alert(client, tokens, store):
    assert act(client, tokens.county, SM03_RUIAN, action="verify").status_code == 404
    assert dispositions.history(store, SM03_RUIAN) == []


def test_dispositions_survive_rerun_redetection_resolution_and_new_version(lake, service, client, tokens):
    act(client, tokens.county, SM03_XIHU, action="verify")
    act(client, tokens.county, SM03_XIHU, action="confirm")
    base = {a["alert_id"]: a for a in fixture_alerts()}[SM03_XIHU]
    republications = [
        [a for a in fixture_alerts()],                                                  # a re-run, same data
        [a for a in fixture_alerts() if a["alert_id"] != SM03_XIHU],                     # no longer produced
        [*[a for a in fixture_alerts() if a["alert_id"] != SM03_XIHU],                   # resolved
         {**base, "status": "resolved", "resolved_as_of": dt.date(2026, 11, 2)}],
        [*[a for a in fixture_alerts() if a["alert_id"] != SM03_XIHU],                   # re-detected, new version
         {**base, "model_version": "1.1.0", "last_detected_as_of": dt.date(2026, 11, 5)}],
    ]
    for rows in republications:
        tables.write_published(lake, "alerts", rows)
        service.lake.refresh()
    detail = client.get(f"/alerts/{SM03_XIHU}", headers=auth(tokens.county)).json()
    assert detail["model_version"] == "1.1.0" and detail["disposition_status"] == "confirmed"
    assert [e["action"] for e in detail["dispositions"]] == ["verify", "confirm"]
    assert act(client, tokens.county, SM03_XIHU, action="rectify").status_code == 201


def test_concurrent_actions_one_wins(client, tokens, service):
    """Two officers confirm and dismiss at once: the state machine sees them one after the other."""
    from concurrent.futures import ThreadPoolExecutor

    act(client, tokens.county, SM03_XIHU, action="verify")
    bodies = [{"action": "confirm"}, {"action": "dismiss", "reason": "查无实据"}] * 4
    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(lambda b: act(client, tokens.county, SM03_XIHU, **b).status_code, bodies))
    assert codes.count(201) == 1 and codes.count(409) == len(bodies) - 1


# --------------------------------------------------------------------------- feedback to the lakehouse
def test_feedback_delivery_follows_the_contract(client, tokens, store, lake):
    from orchestration.service.feedback import SYSTEM_ID, export_dispositions

    china = dt.timezone(dt.timedelta(hours=8))
    now = [None]
    real_clock, store.clock = store.clock, lambda: now[0]
    for moment, body in ((dt.datetime(2026, 11, 2, 9, 0, tzinfo=china), {"action": "verify"}),
                         (dt.datetime(2026, 11, 2, 23, 59, 59, tzinfo=china),
                          {"action": "transfer", "to_unit": "西湖区农业农村局"}),
                         (dt.datetime(2026, 11, 3, 0, 0, 1, tzinfo=china), {"action": "verify"})):
        now[0] = moment
        assert act(client, tokens.county, SM03_XIHU, **body).status_code == 201
    store.clock = real_clock

    first = export_dispositions(store, lake, dt.date(2026, 11, 2))
    contract = registry()[SYSTEM_ID].tables["disposition"]
    assert first.path == lake / "landing" / SYSTEM_ID / "2026-11-02" / "disposition.csv"
    import fnmatch
    assert fnmatch.fnmatch(first.path.name, contract.file_pattern)
    rows = list(csv.DictReader(first.path.open(encoding="utf-8")))
    assert list(rows[0]) == ["alert_id", "status", "reason", "actor", "recorded_at"]
    assert [(r["status"], r["reason"], r["recorded_at"]) for r in rows] == [
        ("verifying", "", "2026-11-02T09:00:00.000000"),
        ("pushed", "转办至西湖区农业农村局", "2026-11-02T23:59:59.000000")]
    # the same date again: the same rows (re-ingesting a batch replaces it); the next day: the rest
    assert export_dispositions(store, lake, dt.date(2026, 11, 2)).events == 2
    second = export_dispositions(store, lake, dt.date(2026, 11, 3))
    assert second.events == 1 and list(csv.DictReader(second.path.open()))[0]["recorded_at"].startswith("2026-11-03")


def test_feedback_delivery_is_ingested_by_the_contract(client, tokens, store, lake):
    """The written file passes the disposition_feedback contract (bronze reader + contract rules)."""
    from orchestration.ingest.apply import apply_contract
    from orchestration.ingest.readers import read_file
    from orchestration.service.feedback import SYSTEM_ID, export_dispositions

    act(client, tokens.county, SM03_XIHU, action="verify")
    act(client, tokens.county, SM03_XIHU, action="dismiss", reason='同名不同人, "引号" 与逗号')
    batch = now_in_china().date()
    path = export_dispositions(store, lake, batch).path
    contract = registry()[SYSTEM_ID]
    applied = apply_contract(read_file(path, contract.delivery), contract.tables["disposition"], batch, path.name)
    assert applied.quarantined.height == 0, applied.quarantined
    assert applied.bronze["status"].to_list() == ["verifying", "dismissed"]
    assert applied.bronze["reason"].to_list()[1] == '同名不同人, "引号" 与逗号'


def test_dispositions_cli_export(tmp_path, lake, store, client, tokens):
    act(client, tokens.county, SM03_XIHU, action="verify")
    result = CliRunner().invoke(main, ["--lake", str(lake), "dispositions", "export", "--batch-date",
                                       now_in_china().date().isoformat(), "--db", store.url])
    assert result.exit_code == 0, result.output
    assert "1 disposition event(s)" in result.output


# --------------------------------------------------------------------------- changes feed
def test_feed_pages_then_reports_only_changes(lake, service, client, tokens):
    h = auth(tokens.province)
    first = client.get("/feed", params={"limit": 4}, headers=h).json()
    assert first["has_more"] and len(first["items"]) == 4 and {i["change"] for i in first["items"]} == {"new"}
    second = client.get("/feed", params={"cursor": first["next_cursor"], "limit": 4}, headers=h).json()
    assert not second["has_more"] and len(second["items"]) == 3
    everything = [i["alert_id"] for i in first["items"] + second["items"]]
    assert everything == sorted(everything) and len(set(everything)) == 7
    cursor = second["next_cursor"]
    assert client.get("/feed", params={"cursor": cursor}, headers=h).json()["items"] == []

    # a new run: one alert's amount changed, one alert gone, one new, every last_detected_as_of moved on
    from decimal import Decimal
    rows = [{**a, "last_detected_as_of": dt.date(2026, 11, 1)} for a in fixture_alerts()]
    rows[0]["amount"] = Decimal("1300.00")
    removed = rows.pop(1)
    rows.append(make_alert("SM03", "village_finance_330100:ZF7"))
    tables.write_published(lake, "alerts", rows)
    service.lake.refresh()
    client.post(f"/alerts/{rows[2]['alert_id']}/dispositions", json={"action": "verify"}, headers=h)
    changes = client.get("/feed", params={"cursor": cursor}, headers=h).json()
    assert {i["alert_id"]: i["change"] for i in changes["items"]} == {
        rows[0]["alert_id"]: "changed", removed["alert_id"]: "removed",
        alert_id("SM03", "village_finance_330100:ZF7"): "new", rows[2]["alert_id"]: "disposition"}
    assert client.get("/feed", params={"cursor": changes["next_cursor"]}, headers=h).json()["items"] == []


def test_feed_is_scoped(lake, service, client, tokens):
    items = client.get("/feed", headers=auth(tokens.other_county)).json()["items"]
    assert [i["alert_id"] for i in items] == [SM03_RUIAN]
    act(client, tokens.county, SM03_XIHU, action="verify")
    cursor = client.get("/feed", headers=auth(tokens.other_county)).json()["next_cursor"]
    assert client.get("/feed", params={"cursor": cursor}, headers=auth(tokens.other_county)).json()["items"] == []


@pytest.mark.parametrize("cursor", ["garbage", "eyJ2IjoiYSJ9", "eyJ2IjogOTksICJlIjogMH0", "' OR 1=1 --"])
def test_bad_cursor_is_400(client, tokens, cursor):
    response = client.get("/feed", params={"cursor": cursor}, headers=auth(tokens.province))
    assert response.status_code == 400 and "cursor" in response.json()["error"]


# --------------------------------------------------------------------------- audit chain
def test_reads_exports_and_dispositions_are_audited(client, tokens, store):
    client.get(f"/alerts/{SM03_XIHU}", headers=auth(tokens.county))
    client.get("/alerts/export.csv", params={"severity": "red"}, headers=auth(tokens.county))
    act(client, tokens.county, SM03_XIHU, action="verify")
    client.get("/alerts", headers=auth(tokens.county))          # a list read is not audited
    latest = audit.entries(store, limit=3)
    assert [(e["actor"], e["action"], e["target"]) for e in reversed(latest)] == [
        ("xihu-jw", "alert.read", SM03_XIHU), ("xihu-jw", "alerts.export", "alerts"),
        ("xihu-jw", "disposition.record", SM03_XIHU)]
    assert '"severity":"red"' in latest[1]["detail"] and '"rows":2' in latest[1]["detail"]
    assert audit.verify_chain(store).intact


def _tamper(store, statement):
    with store.engine.begin() as conn:
        conn.execute(statement)


def test_an_edited_entry_is_detected(client, tokens, store):
    client.get(f"/alerts/{SM03_XIHU}", headers=auth(tokens.county))
    act(client, tokens.county, SM03_XIHU, action="verify")
    assert audit.verify_chain(store).intact
    seq = audit.entries(store, action="alert.read")[0]["seq"]
    _tamper(store, audit_log.update().where(audit_log.c.seq == seq).values(actor="someone-else"))
    report = audit.verify_chain(store)
    assert not report.intact and any(f"entry {seq}: content altered" in p for p in report.problems)


def test_a_deleted_entry_is_detected(client, tokens, store):
    for _ in range(3):
        client.get(f"/alerts/{SM03_XIHU}", headers=auth(tokens.county))
    last = audit.entries(store, limit=1)[0]["seq"]
    _tamper(store, audit_log.delete().where(audit_log.c.seq == last - 1))
    problems = audit.verify_chain(store).problems
    assert any(f"entry {last - 1} missing" in p for p in problems) and any("does not link" in p for p in problems)


def test_a_deleted_tail_is_detected(client, tokens, store):
    client.get(f"/alerts/{SM03_XIHU}", headers=auth(tokens.county))
    last = audit.entries(store, limit=1)[0]["seq"]
    _tamper(store, audit_log.delete().where(audit_log.c.seq == last))
    assert any("chain head" in p for p in audit.verify_chain(store).problems)


def test_audit_verify_cli(client, tokens, store, lake):
    client.get(f"/alerts/{SM03_XIHU}", headers=auth(tokens.county))
    runner = CliRunner()
    ok = runner.invoke(main, ["--lake", str(lake), "audit", "verify", "--db", store.url])
    assert ok.exit_code == 0 and "chain intact" in ok.output
    _tamper(store, audit_log.update().where(audit_log.c.seq == 1).values(detail="{}"))
    broken = runner.invoke(main, ["--lake", str(lake), "audit", "verify", "--db", store.url])
    assert broken.exit_code == 1 and "entry 1: content altered" in broken.output


def test_events_are_append_only_history(client, tokens, store):
    act(client, tokens.county, SM03_XIHU, action="verify")
    act(client, tokens.county, SM03_XIHU, action="confirm")
    with store.read() as conn:
        events = conn.execute(sa.select(disposition_events.c.from_status, disposition_events.c.to_status)
                              .order_by(disposition_events.c.event_id)).all()
    assert [tuple(e) for e in events] == [("pushed", "verifying"), ("verifying", "confirmed")]
