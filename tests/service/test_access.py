"""Access control: scopes and roles on every path, re-identification as its own permission,
expired and revoked tokens, and the tokens CLI."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.service import audit
from orchestration.service.access import create_token, revoke_token
from service_helpers import CADRE_ID, CADRE_REF, COMPANY, OFFICIAL_REF, alert_id, auth, fixture_alerts

SM03_XIHU = alert_id("SM03", "village_finance_330100:ZF1")
SM03_RUIAN = alert_id("SM03", "village_finance_330300:ZF2")
SM04_YELLOW = alert_id("SM04", "H1|G1|2026-08")
SM04_RED = alert_id("SM04", "H1|G1|2026-08|D1")


def every_path_ids(client, token: str) -> dict[str, set[str]]:
    """The alert ids a token reaches by each path: list, detail of every fixture alert, subject,
    export, feed; and the counties of its scorecard."""
    h = auth(token)
    seen = {"list": {a["alert_id"] for a in client.get("/alerts", params={"limit": 1000}, headers=h).json()["items"]}}
    seen["detail"] = {a["alert_id"] for a in fixture_alerts()
                      if client.get(f"/alerts/{a['alert_id']}", headers=h).status_code == 200}
    seen["subject"] = {a["alert_id"] for ref in {a["subject_ref"] for a in fixture_alerts()}
                       for a in client.get(f"/subjects/{ref}/alerts", headers=h).json()["items"]}
    export = client.get("/alerts/export.csv", headers=h).text.lstrip("\ufeff").splitlines()[1:]
    seen["export"] = {line.split(",")[0] for line in export}
    seen["feed"] = {a["alert_id"] for a in client.get("/feed", headers=h).json()["items"]}
    return seen


def test_county_sees_only_its_county_by_every_path(client, tokens):
    xihu = {a["alert_id"] for a in fixture_alerts() if a["region_code"] == "330106"}
    for path, got in every_path_ids(client, tokens.county).items():
        assert got == xihu, path
    assert {r["region_code"] for r in client.get("/scorecard", headers=auth(tokens.county)).json()} == {"330106"}
    response = client.get(f"/alerts/{SM03_RUIAN}", headers=auth(tokens.county))
    assert response.status_code == 404  # the same answer as for an id that does not exist


def test_other_county_cannot_see_xihu(client, tokens):
    for path, got in every_path_ids(client, tokens.other_county).items():
        assert got == {SM03_RUIAN}, path


def test_city_sees_its_counties(client, tokens):
    hangzhou = {a["alert_id"] for a in fixture_alerts() if a["region_code"].startswith("3301")}
    assert every_path_ids(client, tokens.city)["list"] == hangzhou


def test_department_sees_only_yellow_alerts_of_its_domain(client, tokens):
    for path, got in every_path_ids(client, tokens.medical).items():
        assert got == {SM04_YELLOW}, path
    rows = client.get("/scorecard", headers=auth(tokens.medical)).json()
    assert [(r["model_id"], r["alerts_red"], r["alerts_yellow"]) for r in rows] == [("SM04", 0, 1)]
    assert client.get(f"/alerts/{SM04_RED}", headers=auth(tokens.medical)).status_code == 404


def test_reidentification_is_a_separate_audited_permission(client, tokens, store):
    response = client.get(f"/subjects/{CADRE_REF}/identity", headers=auth(tokens.county))
    assert response.status_code == 403 and "reidentify" in response.json()["error"]
    response = client.get(f"/subjects/{CADRE_REF}/identity", headers=auth(tokens.county_reid))
    assert response.json() == {"subject_ref": CADRE_REF, "id_number": CADRE_ID, "name": "张三"}
    latest = audit.entries(store, limit=1)[0]
    assert (latest["actor"], latest["action"], latest["target"]) == ("xihu-jw-reid", "subject.reidentify", CADRE_REF)


def test_reidentification_only_of_subjects_of_visible_alerts(client, tokens):
    # OFFICIAL_REF is the subject of a red medical alert in Xihu: not visible to the Rui'an token.
    other = create_token(client.app.state.service.store, name="ruian-reid", role="inspection",
                         region_code="330381", reidentify=True).token
    assert client.get(f"/subjects/{OFFICIAL_REF}/identity", headers=auth(other)).status_code == 404
    assert client.get(f"/subjects/{COMPANY}/identity", headers=auth(other)).status_code == 404


def test_payment_token_reads_no_alerts(client, tokens):
    response = client.get("/alerts", headers=auth(tokens.payment))
    assert response.status_code == 403 and "read" in response.json()["error"]


def test_read_only_token_cannot_dispose(client, tokens):
    response = client.post(f"/alerts/{SM03_XIHU}/dispositions", json={"action": "verify"}, headers=auth(tokens.read_only))
    assert response.status_code == 403


@pytest.mark.parametrize("header, message", [
    (None, "missing API token"),
    ({"Authorization": "Bearer nonsense"}, "malformed"),
    ({"Authorization": "Bearer pt_0123456789abcdef_" + "x" * 43}, "unknown API token"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing API token"),
])
def test_missing_or_bad_tokens_are_401(client, tokens, header, message):
    response = client.get("/alerts", headers=header or {})
    assert response.status_code == 401 and message in response.json()["error"]
    assert response.headers["www-authenticate"] == "Bearer"


def test_wrong_secret_of_a_real_token_is_401(client, tokens):
    prefix = tokens.county.rsplit("_", 1)[0] if tokens.county.count("_") == 2 else tokens.county[:19]
    forged = tokens.county[:20] + ("A" if tokens.county[20] != "A" else "B") + tokens.county[21:]
    assert forged.startswith(prefix[:19])
    assert client.get("/alerts", headers=auth(forged)).status_code == 401


def test_revoked_token_is_401(client, tokens, store):
    token_id = tokens.county.split("_")[1]
    assert client.get("/alerts", headers=auth(tokens.county)).status_code == 200
    assert revoke_token(store, token_id)
    response = client.get("/alerts", headers=auth(tokens.county))
    assert response.status_code == 401 and "revoked" in response.json()["error"]
    assert not revoke_token(store, token_id)


def test_expired_token_is_401(client, store):
    token = create_token(store, name="short", role="inspection", region_code="330106", expires_days=1).token
    assert client.get("/alerts", headers=auth(token)).status_code == 200
    real_clock = store.clock
    store.clock = lambda: real_clock() + dt.timedelta(days=2)
    response = client.get("/alerts", headers=auth(token))
    assert response.status_code == 401 and "expired" in response.json()["error"]


@pytest.mark.parametrize("kwargs, message", [
    ({"role": "boss", "region_code": "330106"}, "role"),
    ({"role": "inspection", "region_code": "33010"}, "region"),
    ({"role": "inspection", "region_code": "110101"}, "region"),
    ({"role": "department", "region_code": "330106"}, "domain"),
    ({"role": "inspection", "region_code": "330106", "domain": "medical"}, "domain"),
    ({"role": "payment", "region_code": "330106", "reidentify": True}, "payment token"),
])
def test_bad_grants_are_refused(store, kwargs, message):
    with pytest.raises(ValueError, match=message):
        create_token(store, name="x", **kwargs)


def test_tokens_cli(tmp_path):
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    base = ["--lake", str(tmp_path / "lake"), "tokens"]
    created = runner.invoke(main, [*base, "create", "--name", "xihu-health", "--role", "department",
                                   "--region", "330106", "--domain", "medical", "--db", db])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[0]
    assert token.startswith("pt_")
    listed = runner.invoke(main, [*base, "list", "--json", "--db", db])
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["name"], r["role"], r["domain"], r["revoked_at"]) for r in rows] == [("xihu-health", "department", "medical", None)]
    assert "secret_hash" not in rows[0] and token.split("_", 2)[2] not in listed.stdout
    assert runner.invoke(main, [*base, "revoke", rows[0]["token_id"], "--db", db]).exit_code == 0
    assert "revoked" in runner.invoke(main, [*base, "list", "--db", db]).stdout
    again = runner.invoke(main, [*base, "revoke", rows[0]["token_id"], "--db", db])
    assert again.exit_code != 0 and "no active token" in again.output
    bad = runner.invoke(main, [*base, "create", "--name", "x", "--role", "department", "--region", "330106", "--db", db])
    assert bad.exit_code == 2 and "domain" in bad.output
