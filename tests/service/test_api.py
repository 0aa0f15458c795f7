"""The HTTP API over a published lake: list, filters, paging, detail, subject, export, scorecard,
health, and a new publication picked up without a restart."""
from __future__ import annotations

import csv
import datetime as dt
import io

from orchestration.service import tables
from service_helpers import CADRE_REF, COMPANY, alert_id, auth, fixture_alerts, make_alert

SM03_XIHU = alert_id("SM03", "village_finance_330100:ZF1")
SM03_RUIAN = alert_id("SM03", "village_finance_330300:ZF2")


def ids(response) -> set[str]:
    assert response.status_code == 200, response.text
    return {a["alert_id"] for a in response.json()["items"]}


def test_health_needs_no_token(client):
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["alerts"] == len(fixture_alerts()) and body["ineligible_payees_version"] == 0


def test_health_without_a_publication_is_degraded(tmp_path, store):
    from fastapi.testclient import TestClient

    from orchestration.service.api import Service, create_app
    from orchestration.service.publication import PublishedLake

    app = create_app(Service(PublishedLake(tmp_path / "empty", reload_seconds=0), store))
    with TestClient(app) as c:
        body = c.get("/health").json()
    assert body["status"] == "degraded" and body["alerts"] == 0 and "no alerts published" in body["problem"]


def test_province_lists_everything_newest_first(client, tokens):
    body = client.get("/alerts", headers=auth(tokens.province)).json()
    assert body["total"] == len(fixture_alerts())
    dates = [a["event_date"] for a in body["items"]]
    assert dates == sorted(dates, reverse=True)
    first = next(a for a in body["items"] if a["alert_id"] == SM03_XIHU)
    assert first["amount"] == "1200.00" and first["disposition_status"] == "pushed"


def test_filters(client, tokens):
    h = auth(tokens.province)
    assert ids(client.get("/alerts", params={"model_id": "SM03"}, headers=h)) == {SM03_XIHU, SM03_RUIAN}
    assert len(ids(client.get("/alerts", params={"severity": "yellow"}, headers=h))) == 4
    assert ids(client.get("/alerts", params={"region": "330300"}, headers=h)) == {SM03_RUIAN}  # a city
    resolved = ids(client.get("/alerts", params={"lifecycle": "resolved"}, headers=h))
    stale = ids(client.get("/alerts", params={"lifecycle": "stale"}, headers=h))
    open_ = ids(client.get("/alerts", params={"lifecycle": "open"}, headers=h))
    assert len(resolved) == 1 and len(stale) == 1 and len(open_) == 5 and not (open_ & stale)
    in_august = ids(client.get("/alerts", params={"date_from": "2026-08-01", "date_to": "2026-08-31"}, headers=h))
    assert in_august == {alert_id("SM04", "H1|G1|2026-08"), alert_id("SM04", "H1|G1|2026-08|D1")}


def test_disposition_status_filter(client, tokens):
    h = auth(tokens.province)
    assert client.post(f"/alerts/{SM03_XIHU}/dispositions", json={"action": "verify"}, headers=h).status_code == 201
    assert ids(client.get("/alerts", params={"disposition": "verifying"}, headers=h)) == {SM03_XIHU}
    pushed = ids(client.get("/alerts", params={"disposition": "pushed"}, headers=h))
    assert SM03_XIHU not in pushed and len(pushed) == len(fixture_alerts()) - 1


def test_paging(client, tokens):
    h = auth(tokens.province)
    pages = [client.get("/alerts", params={"limit": 3, "offset": o}, headers=h).json() for o in (0, 3, 6)]
    seen = [a["alert_id"] for p in pages for a in p["items"]]
    assert len(seen) == len(set(seen)) == len(fixture_alerts()) and all(p["total"] == 7 for p in pages)


def test_detail_has_evidence_and_relation_path(client, tokens):
    body = client.get(f"/alerts/{SM03_XIHU}", headers=auth(tokens.county)).json()
    assert body["evidence"]["records"][0] == {"entity": "village_payment", "key": "village_finance_330100:ZF1"}
    finding = body["findings"][0]
    assert finding["relation_path"] == [{"from": "payee", "relation": "is", "to": "salaried cadre"}]
    assert body["legal_actions"] == ["verify", "transfer"] and body["dispositions"] == []


def test_detail_reads_the_alert_contract_macros_evidence_shape(lake, service, client, tokens):
    import json

    evidence = {"model_id": "SM03", "primary_key": "k", "findings": [
        {"branch": "cadre", "records": [{"entity": "village_cadre", "key": "c1"}],
         "relation": "payee is a salaried cadre of the paying village at pay_date", "figures": {"amount": 5}}]}
    tables.write_published(lake, "alerts", [make_alert("SM03", "k", evidence=json.dumps(evidence))])
    service.lake.refresh()
    body = client.get(f"/alerts/{alert_id('SM03', 'k')}", headers=auth(tokens.county)).json()
    assert body["findings"] == [{"branch": "cadre", "records": [{"entity": "village_cadre", "key": "c1"}],
                                 "relation_path": ["payee is a salaried cadre of the paying village at pay_date"],
                                 "figures": {"amount": 5}, "thresholds": {}}]


def test_unknown_alert_is_404(client, tokens):
    response = client.get(f"/alerts/{'0' * 32}", headers=auth(tokens.province))
    assert response.status_code == 404 and "no alert" in response.json()["error"]


def test_subject_across_models(client, tokens):
    assert ids(client.get(f"/subjects/{COMPANY}/alerts", headers=auth(tokens.province))) == {
        alert_id("SM08", "asset_trading_330100:L1"), alert_id("SM04", "H1|G1|2026-08"), alert_id("SM05", "C1|2026-09")}
    assert ids(client.get(f"/subjects/{CADRE_REF}/alerts", headers=auth(tokens.province))) >= {SM03_XIHU, SM03_RUIAN}


def test_export_csv(client, tokens):
    response = client.get("/alerts/export.csv", params={"model_id": "SM03"}, headers=auth(tokens.province))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert {r["alert_id"] for r in rows} == {SM03_XIHU, SM03_RUIAN}
    assert rows[0]["title"] == "村干部违规领取务工补贴"


def test_scorecard_counts_dispositions(client, tokens):
    h = auth(tokens.province)
    for action in ("verify", "confirm"):
        client.post(f"/alerts/{SM03_XIHU}/dispositions", json={"action": action}, headers=h)
    for body in ({"action": "verify"}, {"action": "dismiss", "reason": "namesake"}):
        client.post(f"/alerts/{SM03_RUIAN}/dispositions", json=body, headers=h)
    rows = {(r["model_id"], r["region_code"]): r for r in client.get("/scorecard", headers=h).json()}
    assert rows[("SM03", "330106")]["confirmed"] == 1 and rows[("SM03", "330106")]["verified_hit_rate"] == 1.0
    assert rows[("SM03", "330381")]["dismissed"] == 1 and rows[("SM03", "330381")]["verified_hit_rate"] == 0.0
    assert rows[("SM02", "330102")]["resolved"] == 1 and rows[("SM02", "330102")]["verified_hit_rate"] is None


def test_new_publication_is_served_without_restart(lake, service, client, tokens):
    h = auth(tokens.province)
    assert client.get("/alerts", headers=h).json()["total"] == 7
    tables.write_published(lake, "alerts", [*fixture_alerts(), make_alert("SM03", "village_finance_330100:ZF3",
                                                                          event_date=dt.date(2026, 10, 30))])
    assert service.lake.refresh() is True          # what the background thread does every few seconds
    body = client.get("/alerts", headers=h).json()
    assert body["total"] == 8 and body["publication_version"] == 1
    assert service.lake.refresh() is False          # nothing new: nothing reloaded


def test_background_reload(lake, store, tokens):
    import time

    from fastapi.testclient import TestClient

    from orchestration.service.api import Service, create_app
    from orchestration.service.publication import PublishedLake

    service = Service(PublishedLake(lake, reload_seconds=0.1), store)
    with TestClient(create_app(service)) as c:
        tables.write_published(lake, "alerts", fixture_alerts()[:2])
        deadline = time.monotonic() + 10
        while c.get("/health").json()["alerts"] != 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert c.get("/health").json()["alerts"] == 2


def test_openapi_describes_every_route(client):
    spec = client.get("/openapi.json").json()
    assert {"/alerts", "/alerts/{alert_id}", "/alerts/{alert_id}/dispositions", "/feed", "/subjects/{subject_ref}/alerts",
            "/subjects/{subject_ref}/identity", "/alerts/export.csv", "/scorecard", "/health",
            "/checks/payment"} <= set(spec["paths"])
    assert not any(p.startswith("/ui") for p in spec["paths"])
