"""The triage page in a real headless browser: Playwright driving Debian's chromium (/usr/bin/chromium,
installed by `.ci/run`; Playwright's own browser download does not work here). Skipped, with the
reason, when no chromium is installed."""
from __future__ import annotations

import shutil
import socket
import threading
import time

import pytest

from orchestration.service.api import Service, create_app
from orchestration.service.publication import PublishedLake
from service_helpers import KEY, alert_id

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH: `apt-get install -y chromium` "
                                                         "(what .ci/run installs) to run the browser tests")
SM03_XIHU = alert_id("SM03", "village_finance_330100:ZF1")
SM03_RUIAN = alert_id("SM03", "village_finance_330300:ZF2")


@pytest.fixture
def live_server(lake, store):
    """The service on a free loopback port, in a thread of this process."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Service(PublishedLake(lake, reload_seconds=0), store, pseudonym_key=KEY))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the service did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()  # its own cookies: every test signs in afresh
    yield context.new_page()
    context.close()


def sign_in(page, base: str, token: str) -> None:
    page.goto(f"{base}/ui/alerts")
    assert page.url.endswith("/ui/login")  # not signed in: sent to the login form
    page.fill("#token", token)
    page.click("#login")
    page.wait_for_url(f"{base}/ui/alerts")


def test_officer_filters_reads_evidence_and_disposes(live_server, page, tokens, store):
    from orchestration.service import audit, dispositions

    sign_in(page, live_server, tokens.county)
    rows = page.locator("#alerts tbody tr[data-alert-id]")
    assert rows.count() == 4                                     # Xihu's alerts only
    assert SM03_RUIAN not in page.content()

    page.select_option("#f-severity", "red")
    page.click("#apply")
    page.wait_for_load_state()
    assert "severity=red" in page.url and rows.count() == 2

    page.click(f'tr[data-alert-id="{SM03_XIHU}"] a')
    page.wait_for_url(f"{live_server}/ui/alerts/{SM03_XIHU}")
    assert page.inner_text("#alert-id") == SM03_XIHU
    assert "salaried cadre" in page.inner_text(".relation-path")
    assert "village_finance_330100:ZF1" in page.inner_text("#evidence .records")
    assert page.inner_text("#disposition-status").startswith("pushed")

    page.select_option("#action", "verify")
    page.click("#submit-disposition")
    page.wait_for_url(f"{live_server}/ui/alerts/{SM03_XIHU}?done=verify")
    assert page.inner_text("#disposition-status").startswith("verifying")

    page.select_option("#action", "dismiss")                    # no reason: refused, shown, nothing written
    page.click("#submit-disposition")
    page.wait_for_load_state()
    assert "needs a reason" in page.inner_text("#disposition-error")
    assert dispositions.state_of(store, SM03_XIHU).status == "verifying"

    page.select_option("#action", "dismiss")
    page.fill("#reason", "同名不同人")
    page.click("#submit-disposition")
    page.wait_for_url(f"{live_server}/ui/alerts/{SM03_XIHU}?done=dismiss")
    assert page.inner_text("#disposition-status").startswith("dismissed")
    assert "同名不同人" in page.inner_text("#history")
    assert [e["actor"] for e in audit.entries(store, action="disposition.record")] == ["xihu-jw", "xihu-jw"]


def test_chart_of_alerts_and_verified_hit_rate_per_model(live_server, page, tokens, store, lake):
    sign_in(page, live_server, tokens.province)
    for action in ("verify", "confirm"):
        page.goto(f"{live_server}/ui/alerts/{SM03_XIHU}")
        page.select_option("#action", action)
        page.click("#submit-disposition")
        page.wait_for_url(f"{live_server}/ui/alerts/{SM03_XIHU}?done={action}")
    page.click("#nav-scorecard")
    page.wait_for_url(f"{live_server}/ui/scorecard")
    models = page.locator("#chart g.model")
    assert sorted(models.evaluate_all("gs => gs.map(g => g.dataset.model)")) == ["SM02", "SM03", "SM04", "SM05", "SM08"]
    sm03 = page.locator('#chart g.model[data-model="SM03"]')
    assert "2 条 · 100%" in sm03.text_content()
    assert float(sm03.locator(".rate-bar").get_attribute("height")) > 0


def test_other_county_alert_is_not_found_and_bad_tokens_stay_out(live_server, page, tokens):
    sign_in(page, live_server, tokens.county)
    response = page.goto(f"{live_server}/ui/alerts/{SM03_RUIAN}")
    assert response.status == 404 and "无权查看" in page.inner_text("#error")
    page.goto(f"{live_server}/ui/logout")
    page.fill("#token", "pt_0123456789abcdef_" + "x" * 43)
    page.click("#login")
    assert "unknown API token" in page.inner_text("#login-error")
    assert page.goto(f"{live_server}/ui/login").status == 200


def test_payment_token_cannot_use_the_page(live_server, page, tokens):
    page.goto(f"{live_server}/ui/login")
    page.fill("#token", tokens.payment)
    page.click("#login")
    assert "read" in page.inner_text("#login-error")
