"""The triage page for verifying officers: server-rendered HTML under /ui (no JavaScript needed).

Alert list with filters, alert detail with its evidence and relation path, the disposition form,
and a chart of alerts and verified-hit rate per model. It signs in with the same API tokens
(pasted once, then kept in an HttpOnly, SameSite=Strict cookie) and answers through the same
functions as the API (queries.py, dispositions.py), so scope, permissions and audit are the same.
Forms that change something carry a CSRF token bound to the signed-in token.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from orchestration.service import audit, dispositions, queries
from orchestration.service.access import AuthError, Principal, authenticate
from orchestration.service.api_schemas import ALERT_ID, MODEL_ID, REGION
from orchestration.service.dispositions import ACTIONS, STATUSES, DispositionError
from orchestration.service.tables import SEVERITIES

COOKIE = "powertrace_token"
PAGE_SIZE = 50
TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                               autoescape=True, undefined=jinja2.StrictUndefined)
_SECRET = secrets.token_bytes(32)  # per process: forms rendered by an earlier process are re-rendered

router = APIRouter(prefix="/ui", include_in_schema=False)


class BadFilter(ValueError):
    pass


def _render(name: str, status: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template(name).render(**context), status_code=status)


def _csrf(principal: Principal) -> str:
    return hmac.new(_SECRET, principal.token_id.encode(), hashlib.sha256).hexdigest()


def _signed_in(request: Request) -> Principal | None:
    try:
        principal = authenticate(request.app.state.service.store, request.cookies.get(COOKIE))
    except AuthError:
        return None
    return principal if principal.can("read") else None


def _to_login() -> RedirectResponse:
    return RedirectResponse("/ui/login", status_code=303)


def _filters(params) -> tuple[queries.AlertFilters, dict]:
    """The list page's filters from its query string; empty fields are no filter."""
    raw = {k: (params.get(k) or "").strip() for k in
           ("model_id", "severity", "region", "lifecycle", "disposition", "date_from", "date_to")}
    checks = {"model_id": lambda v: re.match(MODEL_ID, v), "region": lambda v: re.match(REGION, v),
              "severity": lambda v: v in SEVERITIES, "lifecycle": lambda v: v in queries.LIFECYCLES,
              "disposition": lambda v: v in STATUSES}
    for key, ok in checks.items():
        if raw[key] and not ok(raw[key]):
            raise BadFilter(f"{key}: {raw[key]!r} is not a valid value")
    dates = {}
    for key in ("date_from", "date_to"):
        try:
            dates[key] = dt.date.fromisoformat(raw[key]) if raw[key] else None
        except ValueError:
            raise BadFilter(f"{key}: {raw[key]!r} is not a date (YYYY-MM-DD)") from None
    f = queries.AlertFilters(raw["model_id"] or None, raw["severity"] or None, raw["region"] or None,
                             raw["lifecycle"] or None, raw["disposition"] or None, dates["date_from"], dates["date_to"])
    return f, raw


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def home() -> Response:
    return RedirectResponse("/ui/alerts", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form() -> Response:
    return _render("login.html", error=None, principal=None)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, token: str = Form(..., max_length=200)) -> Response:
    try:
        principal = authenticate(request.app.state.service.store, token.strip())
    except AuthError as exc:
        return _render("login.html", 401, error=str(exc), principal=None)
    if not principal.can("read"):
        return _render("login.html", 403, error="此令牌无查看线索权限（read）", principal=None)
    response = RedirectResponse("/ui/alerts", status_code=303)
    response.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict", path="/ui")
    return response


@router.get("/logout")
def logout() -> Response:
    response = _to_login()
    response.delete_cookie(COOKIE, path="/ui")
    return response


@router.get("/alerts", response_class=HTMLResponse)
def alert_list(request: Request) -> Response:
    principal = _signed_in(request)
    if principal is None:
        return _to_login()
    service = request.app.state.service
    try:
        filters, raw = _filters(request.query_params)
        page = max(1, int(request.query_params.get("page") or 1))
    except (BadFilter, ValueError) as exc:
        return _render("error.html", 400, principal=principal, message=str(exc))
    pub = service.lake.current
    result = queries.list_alerts(pub, principal, service.store, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    models = sorted(set(queries.visible(pub, principal)["model_id"].to_list()))
    pages = max(1, -(-result["total"] // PAGE_SIZE))
    link = lambda p: "/ui/alerts?" + urlencode({**{k: v for k, v in raw.items() if v}, "page": p})
    return _render("alerts.html", principal=principal, result=result, raw=raw, models=models,
                   severities=SEVERITIES, lifecycles=queries.LIFECYCLES, statuses=STATUSES, page=page, pages=pages,
                   prev_link=link(page - 1) if page > 1 else None, next_link=link(page + 1) if page < pages else None,
                   export_link="/ui/alerts/export.csv?" + urlencode({k: v for k, v in raw.items() if v}))


@router.get("/alerts/export.csv")
def alert_export(request: Request) -> Response:
    principal = _signed_in(request)
    if principal is None:
        return _to_login()
    service = request.app.state.service
    try:
        filters, _ = _filters(request.query_params)
    except BadFilter as exc:
        return _render("error.html", 400, principal=principal, message=str(exc))
    frame = queries.filtered(service.lake.current, principal, service.store, filters)
    body = queries.export_csv(frame, service.store)
    audit.record(service.store, actor=principal.name, action="alerts.export", target="alerts",
                 detail={"filters": filters.as_dict(), "rows": frame.height, "token": principal.token_id, "via": "ui"})
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="alerts.csv"'})


def _alert_page(request: Request, principal: Principal, alert_id: str, *, status: int = 200,
                error: str | None = None, done: str | None = None) -> Response:
    service = request.app.state.service
    alert = queries.visible_alert(service.lake.current, principal, alert_id) if re.match(ALERT_ID, alert_id) else None
    if alert is None:
        return _render("error.html", 404, principal=principal, message=f"没有此线索或无权查看：{alert_id}")
    body = queries.detail(alert, service.store)
    if status == 200:
        audit.record(service.store, actor=principal.name, action="alert.read", target=alert_id,
                     detail={"token": principal.token_id, "model_id": alert["model_id"], "via": "ui"})
    actions = [ACTIONS[a] for a in body["legal_actions"]] if principal.can("dispose") else []
    return _render("alert.html", status, principal=principal, alert=body, actions=actions, csrf=_csrf(principal),
                   error=error, done=done)


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_view(request: Request, alert_id: str) -> Response:
    principal = _signed_in(request)
    if principal is None:
        return _to_login()
    return _alert_page(request, principal, alert_id, done=request.query_params.get("done"))


@router.post("/alerts/{alert_id}/disposition", response_class=HTMLResponse)
def alert_dispose(request: Request, alert_id: str, action: str = Form(..., max_length=32),
                  reason: str = Form("", max_length=2000), to_unit: str = Form("", max_length=200),
                  expected_status: str = Form("", max_length=32), csrf: str = Form("", max_length=128)) -> Response:
    principal = _signed_in(request)
    if principal is None:
        return _to_login()
    if not hmac.compare_digest(csrf, _csrf(principal)):
        return _render("error.html", 403, principal=principal, message="表单已失效（CSRF 校验失败），请刷新页面后重试")
    if not principal.can("dispose"):
        return _render("error.html", 403, principal=principal, message="此令牌无处置权限（dispose）")
    service = request.app.state.service
    alert = queries.visible_alert(service.lake.current, principal, alert_id) if re.match(ALERT_ID, alert_id) else None
    if alert is None:
        return _render("error.html", 404, principal=principal, message=f"没有此线索或无权查看：{alert_id}")
    try:
        dispositions.record(service.store, principal, alert, action, reason=reason, to_unit=to_unit,
                            expected_status=expected_status or None)
    except DispositionError as exc:
        return _alert_page(request, principal, alert_id, status=exc.status, error=str(exc))
    return RedirectResponse(f"/ui/alerts/{alert_id}?done={action}", status_code=303)


@router.get("/scorecard", response_class=HTMLResponse)
def scorecard_view(request: Request) -> Response:
    principal = _signed_in(request)
    if principal is None:
        return _to_login()
    service = request.app.state.service
    rows = queries.scorecard(service.lake.current, principal, service.store)
    models = queries.per_model(rows)
    return _render("scorecard.html", principal=principal, models=models, chart=_chart(models), rows=rows)


def _chart(models: list[dict]) -> dict:
    """Geometry of the per-model chart: a bar of alerts (left scale) and one of the verified-hit
    rate (0-100 %), side by side for each model."""
    width, height, top, bottom, left = 120 * max(1, len(models)) + 80, 300, 20, 40, 50
    plot = height - top - bottom
    peak = max([m["alerts"] for m in models] + [1])
    bars = []
    for i, m in enumerate(models):
        x = left + 20 + i * 120
        alerts_h = plot * m["alerts"] / peak
        rate = m["verified_hit_rate"]
        rate_h = plot * (rate or 0)
        bars.append({"model_id": m["model_id"], "x": x, "alerts": m["alerts"], "alerts_y": top + plot - alerts_h,
                     "alerts_h": alerts_h, "rate": rate, "rate_y": top + plot - rate_h, "rate_h": rate_h})
    return {"width": width, "height": height, "top": top, "plot": plot, "left": left, "peak": peak, "bars": bars}
