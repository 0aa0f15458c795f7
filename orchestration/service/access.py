"""Who may see and do what: roles, regional scopes, permissions, and the API tokens that carry them.

A token has one role and one regional scope:

| role | sees | may by default |
|---|---|---|
| ``inspection`` (纪检监察, discipline inspection) | red and yellow alerts of every domain | read, dispose |
| ``department`` (regulating department, 职能部门) | only yellow alerts of its one ``domain`` | read, dispose |
| ``payment`` (a paying system, e.g. 三资 platform) | no alerts | check_payment |

The scope is a region code: ``330000`` (province: everything), a city ``3301 00`` (its counties)
or a county (only itself). An alert is visible when its region_code lies in the scope and its
severity and domain suit the role; a payment check is allowed for villages in the scope. The one
predicate below (``Principal.sees`` / ``Principal.alert_filter``) decides every path: list,
detail, subject, export, feed and scorecard.

``reidentify`` (full name and id_number of a subject) is never a default: it is granted per token.
Tokens are ``pt_<token_id>_<secret>``; only the secret's sha256 is stored, so a database copy
does not hand out working tokens.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa

from orchestration.service import audit
from orchestration.service.store import CHINA, Store, tokens
from orchestration.service.tables import DOMAINS, SEVERITIES

PERMISSIONS = ("read", "dispose", "reidentify", "check_payment")
ROLE_DEFAULTS = {
    "inspection": ("read", "dispose"),
    "department": ("read", "dispose"),
    "payment": ("check_payment",),
}
ROLES = tuple(ROLE_DEFAULTS)
REGION_CODE = re.compile(r"^\d{6}$")
MAX_NAME = 200  # a token's name and unit (tokens.name, tokens.unit)
TOKEN_SHAPE = re.compile(r"^pt_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})$")


class AuthError(Exception):
    """A request without a usable token (HTTP 401); the message says why."""


class Forbidden(Exception):
    """A valid token without the permission or scope the request needs (HTTP 403)."""


def scope_level(region_code: str) -> str:
    if region_code.endswith("0000"):
        return "province"
    if region_code.endswith("00"):
        return "city"
    return "county"


def scope_prefix(region_code: str) -> str:
    """The prefix every region code inside the scope starts with."""
    return {"province": region_code[:2], "city": region_code[:4], "county": region_code}[scope_level(region_code)]


@dataclass(frozen=True)
class Principal:
    token_id: str
    name: str
    role: str
    region_code: str
    domain: str | None
    permissions: frozenset[str]
    unit: str

    @property
    def scope(self) -> str:
        return scope_level(self.region_code)

    @property
    def severities(self) -> tuple[str, ...]:
        return ("yellow",) if self.role == "department" else SEVERITIES if self.role == "inspection" else ()

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def in_scope(self, region_code: str | None) -> bool:
        return bool(region_code) and region_code.startswith(scope_prefix(self.region_code))

    def sees(self, alert: dict) -> bool:
        """Whether this principal may see ``alert`` (a row of published/alerts)."""
        return (self.in_scope(alert.get("region_code")) and alert.get("severity") in self.severities
                and (self.role != "department" or alert.get("domain") == self.domain))

    def alert_filter(self) -> pl.Expr:
        """``sees`` as a polars predicate over published/alerts."""
        expr = (pl.col("region_code").str.starts_with(scope_prefix(self.region_code))
                & pl.col("severity").is_in(list(self.severities)))
        if self.role == "department":
            expr = expr & (pl.col("domain") == self.domain)
        return expr.fill_null(False)


# --------------------------------------------------------------------------- tokens
@dataclass(frozen=True)
class IssuedToken:
    token: str          # shown once, never stored
    principal: Principal
    expires_at: str | None


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def validate_grant(role: str, region_code: str, domain: str | None, permissions: set[str]) -> None:
    """Raise ValueError naming the field when a token's grant is not one the service understands."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if not REGION_CODE.match(region_code or "") or not region_code.startswith("33"):
        raise ValueError(f"region must be a 6-digit Zhejiang region code (330000, a city 33xx00 or a county), got {region_code!r}")
    if role == "department" and domain not in DOMAINS:
        raise ValueError(f"a department token needs --domain, one of {', '.join(DOMAINS)}, got {domain!r}")
    if role != "department" and domain is not None:
        raise ValueError(f"--domain applies to department tokens only (role {role})")
    unknown = sorted(permissions - set(PERMISSIONS))
    if unknown:
        raise ValueError(f"unknown permission(s) {unknown}; known: {', '.join(PERMISSIONS)}")
    if role == "payment" and permissions - {"check_payment"}:
        raise ValueError("a payment token may only check payments")


def create_token(store: Store, *, name: str, role: str, region_code: str, domain: str | None = None,
                 reidentify: bool = False, read_only: bool = False, unit: str | None = None,
                 expires_days: int | None = 90, created_by: str = "cli") -> IssuedToken:
    """Issue a token; the returned ``token`` string is the only time the secret is seen."""
    if not name or not name.strip():
        raise ValueError("a token needs a --name (who holds it; it is written to the audit log)")
    for option, value in (("name", name), ("unit", unit)):
        # the columns hold 200: PostgreSQL enforces that, SQLite would not, so it is checked here
        if value is not None and len(value.strip()) > MAX_NAME:
            raise ValueError(f"--{option} is {len(value.strip())} characters long; at most {MAX_NAME} are allowed")
    permissions = set(ROLE_DEFAULTS.get(role, ()))
    if read_only:
        permissions.discard("dispose")
    if reidentify:
        permissions.add("reidentify")
    validate_grant(role, region_code, domain, permissions)
    if expires_days is not None and expires_days <= 0:
        raise ValueError(f"--expires-days must be positive, got {expires_days}")
    token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    now = store.clock().astimezone(CHINA)
    expires_at = (now + dt.timedelta(days=expires_days)).isoformat(timespec="seconds") if expires_days else None
    principal = Principal(token_id, name.strip(), role, region_code, domain, frozenset(permissions),
                          (unit or name).strip())
    with store.write() as conn:
        conn.execute(tokens.insert().values(
            token_id=token_id, name=principal.name, role=role, region_code=region_code, domain=domain,
            permissions=",".join(sorted(permissions)), unit=principal.unit, secret_hash=_hash_secret(secret),
            created_at=store.now(), expires_at=expires_at, revoked_at=None))
        audit.append(conn, store, actor=created_by, action="token.create", target=token_id,
                     detail={"name": principal.name, "role": role, "region_code": region_code, "domain": domain,
                             "permissions": sorted(permissions), "expires_at": expires_at})
    return IssuedToken(f"pt_{token_id}_{secret}", principal, expires_at)


def revoke_token(store: Store, token_id: str, *, revoked_by: str = "cli") -> bool:
    """Revoke a token (by its id); False when no such unrevoked token exists."""
    with store.write() as conn:
        done = conn.execute(tokens.update().where(tokens.c.token_id == token_id, tokens.c.revoked_at.is_(None))
                            .values(revoked_at=store.now())).rowcount
        if done:
            audit.append(conn, store, actor=revoked_by, action="token.revoke", target=token_id)
    forget_token(store, token_id)
    return bool(done)


def list_tokens(store: Store) -> list[dict]:
    with store.read() as conn:
        rows = conn.execute(sa.select(tokens).order_by(tokens.c.created_at)).mappings().all()
    return [{k: v for k, v in row.items() if k != "secret_hash"} for row in rows]


def authenticate(store: Store, token: str | None) -> Principal:
    """The principal of a presented token, or AuthError saying why it is refused."""
    if not token:
        raise AuthError("missing API token: send 'Authorization: Bearer pt_…' (tokens: powertrace tokens create)")
    match = TOKEN_SHAPE.match(token)
    if not match:
        raise AuthError("malformed API token: expected pt_<16 hex>_<secret>")
    token_id, secret = match.groups()
    row = _token_row(store, token_id)
    if row is None or not hmac.compare_digest(row["secret_hash"], _hash_secret(secret)):
        raise AuthError("unknown API token")
    if row["revoked_at"]:
        raise AuthError(f"API token {token_id} was revoked at {row['revoked_at']}")
    if row["expires_at"] and dt.datetime.fromisoformat(row["expires_at"]) <= store.clock():
        raise AuthError(f"API token {token_id} expired at {row['expires_at']}")
    return Principal(row["token_id"], row["name"], row["role"], row["region_code"], row["domain"],
                     frozenset(p for p in row["permissions"].split(",") if p), row["unit"])


# A token's row is read from the database at most every TOKEN_CACHE_SECONDS per process: the
# payment check answers hundreds of requests a second and a database read would be most of each
# one's time. A revocation by this process (revoke_token) applies at once; one by another process
# (the CLI) within TOKEN_CACHE_SECONDS. Expiry is judged on every request.
TOKEN_CACHE_SECONDS = 2.0


def _token_row(store: Store, token_id: str) -> dict | None:
    cache, now = store.token_cache, time.monotonic()
    cached = cache.get(token_id)
    if cached is not None and now - cached[0] < TOKEN_CACHE_SECONDS:
        return cached[1]
    with store.read() as conn:
        row = conn.execute(sa.select(tokens).where(tokens.c.token_id == token_id)).mappings().first()
    row = dict(row) if row is not None else None
    if len(cache) > 10_000:  # unknown ids are cached too: keep a flood of them bounded
        cache.clear()
    cache[token_id] = (now, row)
    return row


def forget_token(store: Store, token_id: str) -> None:
    store.token_cache.pop(token_id, None)
