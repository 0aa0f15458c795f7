"""The alert service's commands: ``powertrace serve``, ``tokens``, ``audit`` and ``dispositions``."""
from __future__ import annotations

import datetime as dt
import json

import click

DB_HELP = "Service database URL (env POWERTRACE_SERVICE_DB; default sqlite:///<lake>/service/service.sqlite)."


def _store(ctx: click.Context, db: str | None):
    from orchestration.service.store import Store

    return Store.for_lake(ctx.obj["lake"], db)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--db", envvar="POWERTRACE_SERVICE_DB", help=DB_HELP)
@click.option("--reload-seconds", default=5.0, show_default=True, type=click.FloatRange(0.5, 3600),
              help="How often to look for a new publication.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, db: str | None, reload_seconds: float, log_level: str) -> None:
    """Serve the alert API, the payment check and the triage page (/ui) over <lake>/published/."""
    import uvicorn

    from orchestration.pseudonym import pseudonym_key
    from orchestration.service.api import Service, create_app

    lake = ctx.obj["lake"]
    service = Service.open(lake, db, reload_seconds=reload_seconds, pseudonym_key=pseudonym_key())
    pub = service.lake.current
    click.echo(f"lake {lake}: alerts v{pub.alerts_version} ({pub.alerts.height} rows), "
               f"ineligible_payees v{pub.payees_version}; database {service.store.url}")
    click.echo(f"API http://{host}:{port}/docs · triage page http://{host}:{port}/ui")
    uvicorn.run(create_app(service), host=host, port=port, log_level=log_level, access_log=log_level == "debug",
                loop="uvloop", http="httptools")


@click.group()
def tokens() -> None:
    """Create, list and revoke the alert service's API tokens."""


@tokens.command("create")
@click.option("--name", required=True, help="Who holds the token (shown in the audit log), e.g. 'xihu-jw-zhang'.")
@click.option("--role", required=True, type=click.Choice(["inspection", "department", "payment"]),
              help="inspection: red and yellow alerts; department: yellow alerts of --domain; payment: payment check only.")
@click.option("--region", "region_code", required=True,
              help="Scope: 330000 (province), a city code (330100) or a county code (330106).")
@click.option("--domain", type=click.Choice(["village", "medical", "bidding", "social_insurance",
                                             "social_assistance", "assets"]), help="A department's domain.")
@click.option("--reidentify", is_flag=True, help="Also allow re-identifying subjects (name and id_number).")
@click.option("--read-only", is_flag=True, help="Without the dispose permission.")
@click.option("--unit", help="The verifying unit acting with this token (default: --name).")
@click.option("--expires-days", default=90, show_default=True, type=click.IntRange(1, 3650))
@click.option("--db", envvar="POWERTRACE_SERVICE_DB", help=DB_HELP)
@click.pass_context
def create(ctx, name, role, region_code, domain, reidentify, read_only, unit, expires_days, db) -> None:
    """Issue a token; it is printed once and cannot be shown again."""
    from orchestration.service.access import create_token

    try:
        issued = create_token(_store(ctx, db), name=name, role=role, region_code=region_code, domain=domain,
                              reidentify=reidentify, read_only=read_only, unit=unit, expires_days=expires_days)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    p = issued.principal
    click.echo(issued.token)
    click.echo(f"# token {p.token_id}: {p.name}, {p.role}, {p.scope} {p.region_code}"
               + (f", domain {p.domain}" if p.domain else "")
               + f", permissions {','.join(sorted(p.permissions))}, expires {issued.expires_at}", err=True)


@tokens.command("list")
@click.option("--db", envvar="POWERTRACE_SERVICE_DB", help=DB_HELP)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def list_(ctx, db, as_json) -> None:
    """Every token ever issued (never their secrets)."""
    from orchestration.service.access import list_tokens

    rows = list_tokens(_store(ctx, db))
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    click.echo(f"{'token_id':16}  {'state':8}  {'role':10}  {'region':6}  {'domain':17}  {'permissions':32}  name")
    now = dt.datetime.now(dt.timezone.utc)
    for r in rows:
        state = ("revoked" if r["revoked_at"] else
                 "expired" if r["expires_at"] and dt.datetime.fromisoformat(r["expires_at"]) <= now else "active")
        click.echo(f"{r['token_id']:16}  {state:8}  {r['role']:10}  {r['region_code']:6}  {r['domain'] or '-':17}  "
                   f"{r['permissions']:32}  {r['name']}")


@tokens.command("revoke")
@click.argument("token_id")
@click.option("--db", envvar="POWERTRACE_SERVICE_DB", help=DB_HELP)
@click.pass_context
def revoke(ctx, token_id, db) -> None:
    """Revoke a token by its id (the 16 hex characters after pt_); effective on the next request."""
    from orchestration.service.access import revoke_token

    if not revoke_token(_store(ctx, db), token_id):
        raise click.ClickException(f"no active token {token_id} (see powertrace tokens list)")
    click.echo(f"revoked {token_id}")


@click.group()
def audit() -> None:
    """Inspect and verify the alert service's audit log."""


@audit.command("verify")
@click.option("--db", envvar="POWERTRACE_SERVICE_DB", help=DB_HELP)
@click.pass_context
def verify(ctx, db) -> None:
    """Check the hash chain; exits 1 when an entry was edited, removed or inserted."""
    from orchestration.service.audit import verify_chain

    report = verify_chain(_store(ctx, db))
    click.echo(f"{report.entries} entries; head {report.head_seq} {report.head_hash}")
    for problem in report.problems:
        click.echo(f"BROKEN: {problem}", err=True)
    if not report.intact:
        raise SystemExit(1)
    click.echo("chain intact")


@audit.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10000))
@click.option("--actor", help="Only this token holder's entries.")
@click.option("--db", envvar="POWERTRACE_SERVICE_DB", help=DB_HELP)
@click.pass_context
def list_entries(ctx, limit, actor, db) -> None:
    """The latest entries, newest first."""
    from orchestration.service.audit import entries

    for e in entries(_store(ctx, db), limit=limit, actor=actor):
        click.echo(f"{e['seq']:>7}  {e['at']}  {e['actor']:24}  {e['action']:20}  {e['target']}  {e['detail']}")


@click.group()
def dispositions() -> None:
    """Dispositions recorded through the alert service."""


@dispositions.command("export")
@click.option("--batch-date", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="Batch date of the feedback delivery to write.")
@click.option("--db", envvar="POWERTRACE_SERVICE_DB", help=DB_HELP)
@click.pass_context
def export(ctx, batch_date, db) -> None:
    """Write the dispositions into landing/ as the disposition_feedback_330000 delivery of a date."""
    from orchestration.service.feedback import export_dispositions

    result = export_dispositions(_store(ctx, db), ctx.obj["lake"], batch_date.date())
    click.echo(f"{result.events} disposition event(s) -> {result.path}")
