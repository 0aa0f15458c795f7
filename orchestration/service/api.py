"""The HTTP API of ``powertrace serve`` (FastAPI; OpenAPI at /openapi.json, docs at /docs).

Every route but /health needs a token (``Authorization: Bearer pt_…``); what it may see and do
is decided in access.py and applied in queries.py. Alert detail reads, re-identifications,
exports and dispositions are written to the audit log before the answer leaves. Bad input is
answered 4xx with ``{"error": "..."}`` and writes nothing.
"""
from __future__ import annotations

import datetime as dt
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import orjson
from fastapi import Depends, FastAPI, Path as PathParam, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from orchestration.service import audit, dispositions, queries
from orchestration.service.access import AuthError, Forbidden, Principal, authenticate
from orchestration.service.api_schemas import (
    ALERT_ID, MODEL_ID, REGION, SUBJECT_REF, AlertDetail, AlertPage, DispositionEvent, DispositionRequest,
    DispositionStatus, Error, FeedPage, Health, Identity, Lifecycle, PaymentCheckRequest, PaymentCheckResponse,
    ScorecardRow, Severity)
from orchestration.service.dispositions import DispositionError
from orchestration.service.payment_check import CATEGORIES, canonical_category, check_payment
from orchestration.service.publication import PublishedLake
from orchestration.service.store import Store
from orchestration.service.tables import lookup_person

MAX_BODY_BYTES = 64 * 1024
API_ERRORS = {400: {"model": Error}, 401: {"model": Error}, 403: {"model": Error}, 422: {"model": Error}}


@dataclass
class Service:
    """What a running service holds: the published lake, its own store, the pseudonym key."""
    lake: PublishedLake
    store: Store
    pseudonym_key: str | None = None
    max_body_bytes: int = MAX_BODY_BYTES
    payment_fast_path: bool = True    # False: every payment check through the framework's route

    @classmethod
    def open(cls, lake: Path, db_url: str | None = None, reload_seconds: float = 5.0, **kwargs) -> "Service":
        return cls(PublishedLake(lake, reload_seconds), Store.for_lake(lake, db_url), **kwargs)


# --------------------------------------------------------------------------- request plumbing
def service_of(request: Request) -> Service:
    return request.app.state.service


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


async def current_principal(request: Request) -> Principal:
    # async: a token lookup is one indexed read, cheaper than a hop to the thread pool.
    return authenticate(service_of(request).store, bearer_token(request))


def require(permission: str):
    async def dependency(request: Request) -> Principal:
        principal = await current_principal(request)
        if not principal.can(permission):
            raise Forbidden(f"token {principal.token_id} ({principal.role}) lacks the {permission} permission")
        return principal
    return dependency


Reader = Annotated[Principal, Depends(require("read"))]


def _query_names(dependant) -> set[str]:
    """Query parameter names a route declares, its dependencies' included."""
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def reject_unknown_query(request: Request) -> None:
    """A misspelt filter (?modle_id=SM03) must not silently return everything: 422 instead."""
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant") or request.url.path.startswith("/ui"):
        return
    known = _query_names(route.dependant)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise RequestValidationError([{"loc": ("query", name), "type": "extra_forbidden", "input": None,
                                       "msg": f"unknown query parameter; this route takes {', '.join(sorted(known)) or 'none'}"}
                                      for name in unknown])


def alert_filters(
    model_id: Annotated[str | None, Query(pattern=MODEL_ID, description="e.g. SM03")] = None,
    severity: Severity | None = None,
    region: Annotated[str | None, Query(pattern=REGION, description="province, city or county code")] = None,
    lifecycle: Annotated[Lifecycle | None, Query(description="open (not stale), resolved or stale")] = None,
    disposition: DispositionStatus | None = None,
    date_from: Annotated[dt.date | None, Query(description="event_date on or after")] = None,
    date_to: Annotated[dt.date | None, Query(description="event_date on or before")] = None,
) -> queries.AlertFilters:
    return queries.AlertFilters(model_id, severity, region, lifecycle, disposition, date_from, date_to)


Filters = Annotated[queries.AlertFilters, Depends(alert_filters)]
AlertIdPath = Annotated[str, PathParam(pattern=ALERT_ID, description="32 hex characters")]
SubjectPath = Annotated[str, PathParam(pattern=SUBJECT_REF, description="person_ref (64 hex) or credit code")]


def _visible_or_404(service: Service, principal: Principal, alert_id: str) -> dict:
    alert = queries.visible_alert(service.lake.current, principal, alert_id)
    if alert is None:
        raise StarletteHTTPException(404, f"no alert {alert_id} that this token may see")
    return alert


# --------------------------------------------------------------------------- app
def create_app(service: Service) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.lake.start()
        yield
        service.lake.stop()

    app = FastAPI(title="powertrace alert service", version="1.0",
                  description="Alerts of the supervision models for verifying units: list, feed, detail, "
                              "dispositions, scorecard, re-identification, and the real-time payment check (SM03).",
                  lifespan=lifespan, responses=API_ERRORS, dependencies=[Depends(reject_unknown_query)])
    app.state.service = service
    _install_error_handlers(app)
    if service.payment_fast_path:
        app.add_middleware(PaymentCheckFastPath, service=service)
    app.add_middleware(BodyLimit, max_bytes=service.max_body_bytes)

    @app.get("/health", response_model=Health, tags=["service"])
    def health() -> dict:
        pub = service.lake.current
        problem = service.lake.last_error or (None if pub.alerts_version is not None else "no alerts published yet")
        return {"status": "ok" if problem is None else "degraded", "alerts_version": pub.alerts_version,
                "alerts": pub.alerts.height, "ineligible_payees_version": pub.payees_version,
                "loaded_at": pub.loaded_at, "problem": problem}

    @app.get("/alerts", response_model=AlertPage, tags=["alerts"])
    def list_alerts(principal: Reader, filters: Filters,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
                    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> dict:
        """Alerts the token may see, filtered, newest event first."""
        return queries.list_alerts(service.lake.current, principal, service.store, filters, limit=limit, offset=offset)

    @app.get("/alerts/export.csv", tags=["alerts"], response_class=Response,
             responses={200: {"content": {"text/csv": {}}, "description": "the filtered alerts as CSV"}})
    def export_alerts(principal: Reader, filters: Filters) -> Response:
        """The filtered list as CSV (every row, no paging). Audited."""
        frame = queries.filtered(service.lake.current, principal, service.store, filters)
        body = queries.export_csv(frame, service.store)
        audit.record(service.store, actor=principal.name, action="alerts.export", target="alerts",
                     detail={"filters": filters.as_dict(), "rows": frame.height, "token": principal.token_id,
                             "publication_version": service.lake.current.alerts_version})
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="alerts.csv"'})

    @app.get("/alerts/{alert_id}", response_model=AlertDetail, tags=["alerts"])
    def alert_detail(alert_id: AlertIdPath, principal: Reader) -> dict:
        """One alert with its evidence, relation path and disposition history. Audited."""
        alert = _visible_or_404(service, principal, alert_id)
        body = queries.detail(alert, service.store)
        audit.record(service.store, actor=principal.name, action="alert.read", target=alert_id,
                     detail={"token": principal.token_id, "model_id": alert["model_id"]})
        return body

    @app.post("/alerts/{alert_id}/dispositions", response_model=DispositionEvent, status_code=201,
              tags=["dispositions"], responses={404: {"model": Error}, 409: {"model": Error}})
    def dispose(alert_id: AlertIdPath, body: DispositionRequest,
                principal: Annotated[Principal, Depends(require("dispose"))]) -> dict:
        """Move the alert through the disposition workflow (verify, confirm, dismiss, rectify,
        reopen, transfer); an illegal transition is refused with 409. Audited."""
        alert = _visible_or_404(service, principal, alert_id)
        return dispositions.record(service.store, principal, alert, body.action, reason=body.reason,
                                   to_unit=body.to_unit, expected_status=body.expected_status)

    @app.get("/feed", response_model=FeedPage, tags=["alerts"], responses={410: {"model": Error}})
    def changes_feed(principal: Reader,
                     cursor: Annotated[str | None, Query(max_length=512, description="next_cursor of the last call")] = None,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict:
        """Alerts new, changed, removed or disposed of since the cursor (none: everything)."""
        parsed = queries.Cursor.decode(cursor) if cursor else None
        return queries.feed(service.lake, principal, service.store, parsed, limit)

    @app.get("/subjects/{subject_ref}/alerts", response_model=AlertPage, tags=["subjects"])
    def subject_alerts(subject_ref: SubjectPath, principal: Reader,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                       offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> dict:
        """Every alert about one person or organisation, across models."""
        return queries.list_alerts(service.lake.current, principal, service.store,
                                   queries.AlertFilters(subject_ref=subject_ref), limit=limit, offset=offset)

    @app.get("/subjects/{subject_ref}/identity", response_model=Identity, tags=["subjects"],
             responses={404: {"model": Error}})
    def reidentify(subject_ref: SubjectPath,
                   principal: Annotated[Principal, Depends(require("reidentify"))]) -> dict:
        """Full name and id_number of a person who is the subject of an alert the token may see.
        Needs the reidentify permission. Audited."""
        pub = service.lake.current
        seen = queries.filtered(pub, principal, service.store, queries.AlertFilters(subject_ref=subject_ref))
        if seen.height == 0:
            raise StarletteHTTPException(404, f"no alert about subject {subject_ref} that this token may see")
        person = lookup_person(service.lake.lake, subject_ref)
        if person is None:
            raise StarletteHTTPException(404, f"subject {subject_ref} is not a person in restricted/person_identity")
        audit.record(service.store, actor=principal.name, action="subject.reidentify", target=subject_ref,
                     detail={"token": principal.token_id, "alerts": seen["alert_id"].head(20).to_list()})
        return {"subject_ref": subject_ref, "id_number": person["id_number"], "name": person["name"]}

    @app.get("/scorecard", response_model=list[ScorecardRow], tags=["alerts"])
    def scorecard(principal: Reader) -> list[dict]:
        """Per model, rule branch and county: alerts, dispositions and verified-hit rate, over the
        alerts the token may see and their current dispositions."""
        return queries.scorecard(service.lake.current, principal, service.store)

    @app.post("/checks/payment", response_model=PaymentCheckResponse, tags=["checks"])
    async def payment_check(body: PaymentCheckRequest,
                            principal: Annotated[Principal, Depends(require("check_payment"))]) -> dict:
        """SM03 before payment: allow, block or review, with the rule and the reason."""
        return answer_payment_check(service, principal, body)

    from orchestration.service.ui import router as ui_router
    app.include_router(ui_router)
    return app


# --------------------------------------------------------------------------- the payment check
def answer_payment_check(service: Service, principal: Principal, body: PaymentCheckRequest) -> dict:
    """The check's answer (PaymentCheckResponse); Forbidden or RequestValidationError when refused."""
    if not principal.can("check_payment"):
        raise Forbidden(f"token {principal.token_id} ({principal.role}) lacks the check_payment permission")
    village = body.village_code.strip()
    if not principal.in_scope(village[:6]):
        raise Forbidden(f"village {village} is outside this token's region {principal.region_code}")
    category = canonical_category(body.category)
    if category is None:
        raise RequestValidationError([{"loc": ("body", "category"), "type": "value_error", "input": body.category,
                                       "msg": f"unknown category; use one of {', '.join(CATEGORIES)} "
                                              "or a native label of a village finance system"}])
    pub = service.lake.current
    verdict = check_payment(pub.payees, village_code=village, payee_id=body.payee_id, category=category,
                            pay_date=body.pay_date, key=service.pseudonym_key)
    return {"decision": verdict.decision, "rule": verdict.rule, "branches": list(verdict.branches),
            "reason_code": verdict.reason_code, "reason": verdict.reason, "index_version": pub.payees_version}


class PaymentCheckFastPath:
    """POST /checks/payment without the framework's per-request machinery, for the latency target
    (p99 < 10 ms at 500/s beside the load generator on two cores): a well-formed, authorised
    request is answered here by ``answer_payment_check``, the very function the route calls.
    Anything else (bad token, invalid body, out of scope) goes on to the route, which answers it
    with the usual errors; so the two paths cannot differ in what they decide."""

    PATH = "/checks/payment"

    def __init__(self, app, service: Service):
        self.app, self.service = app, service

    async def __call__(self, scope, receive, send):
        if (scope["type"] != "http" or scope["path"] != self.PATH or scope["method"] != "POST"
                or scope.get("query_string")):
            return await self.app(scope, receive, send)
        message = await receive()  # BodyLimit (outside this) hands the whole body in one message
        answer = self._answer(scope, message)
        if answer is None:
            replayed = False

            async def replay():
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return message
                return await receive()
            return await self.app(scope, replay, send)
        body = orjson.dumps(answer)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def _answer(self, scope, message) -> dict | None:
        try:
            headers = dict(scope["headers"])
            if not headers.get(b"content-type", b"").startswith(b"application/json"):
                return None
            scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
            if scheme.lower() != "bearer":
                return None
            principal = authenticate(self.service.store, token.strip())
            request = PaymentCheckRequest.model_validate_json(message.get("body", b""))
            return PaymentCheckResponse.model_validate(
                answer_payment_check(self.service, principal, request)).model_dump(mode="json")
        except Exception:  # refused or malformed: the route answers it, with the usual error
            return None


# --------------------------------------------------------------------------- errors
def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AuthError)
    async def _auth(request: Request, exc: AuthError):
        return JSONResponse({"error": str(exc)}, 401, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden):
        return JSONResponse({"error": str(exc)}, 403)

    @app.exception_handler(DispositionError)
    async def _disposition(request: Request, exc: DispositionError):
        return JSONResponse({"error": str(exc)}, exc.status)

    @app.exception_handler(queries.QueryError)
    async def _query(request: Request, exc: queries.QueryError):
        return JSONResponse({"error": str(exc)}, exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        return JSONResponse({"error": str(exc.detail)}, exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        problems = [{"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
                    for e in exc.errors()]
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return JSONResponse({"error": "the request body is not valid JSON", "detail": problems}, 400)
        summary = "; ".join(f"{p['where']}: {p['problem']}" for p in problems[:5])
        return JSONResponse({"error": f"invalid request: {summary}", "detail": problems}, 422)


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` (413) before the application sees them, whether the
    size is declared (Content-Length) or only discovered while reading (chunked). The body, small by
    then, is read here and handed on whole."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._refuse(send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.max_bytes:
                return await self._refuse(send)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send):
        body = JSONResponse({"error": f"request body larger than {self.max_bytes} bytes"}, 413).body
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
