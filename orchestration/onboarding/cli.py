"""``powertrace onboard``: draft a source contract from a sample delivery, validate it, write it."""
from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import click

from orchestration.contracts import LEVELS, MODES, SYSTEM_ID, ContractError, contract_paths, load_contract, sources_dir

from .infer import STANDARD_DEFAULTS, Draft, OnboardError, infer_contract, review_summary, standard_contract
from .sample import SampleError


@click.command("onboard")
@click.argument("sample", type=click.Path(exists=True, path_type=Path))
@click.option("--system-id", required=True, help="Id of the new system, e.g. village_finance_330100.")
@click.option("--standard", is_flag=True,
              help="SAMPLE is a folder in the standard exchange format (<entity>.csv, UTF-8, canonical "
                   "column names): map it one to one, nothing to review.")
@click.option("--name", help="The system's official name (default: the system id, to be reviewed).")
@click.option("--kind", help="Kind of system (default: from the system id; standard_exchange with --standard).")
@click.option("--department", help=f"Department running it (default: {STANDARD_DEFAULTS['department']}).")
@click.option("--level", type=click.Choice(LEVELS),
              help="province, city or hospital (default: guessed; province with --standard).")
@click.option("--region", help="6-digit region code (default: from the system id, else 330000).")
@click.option("--mode", type=click.Choice(MODES),
              help="Delivery mode (default: guessed from the entity; increment with --standard).")
@click.option("--batch-date", type=click.DateTime(["%Y-%m-%d"]),
              help="from_batch of the mapping (default: the sample folder's date, else today; "
                   "with --standard 2000-01-01, as canonical names never change).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of <sources>/<level>/<kind>/<system_id>.yml.")
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the contract instead of writing it.")
@click.option("--force", is_flag=True, help="Overwrite an existing contract file.")
def onboard(sample: Path, system_id: str, standard: bool, name: str | None, kind: str | None,
            department: str | None, level: str | None, region: str | None, mode: str | None,
            batch_date: dt.datetime | None, output: Path | None, to_stdout: bool, force: bool) -> None:
    """Infer a draft contract for a new system from SAMPLE (a delivered file, or a batch folder
    with one file per table), validate it, and write it into the source registry.

    The review summary (per native header: canonical column, confidence, parse rule) goes to
    stderr; lines of the contract marked "# REVIEW:" need the engineer's eye before commit.
    """
    if not SYSTEM_ID.match(system_id):
        raise click.BadParameter("lowercase letters, digits and '_' (3-63 chars), starting with a letter",
                                 param_hint="--system-id")
    if output and to_stdout:
        raise click.UsageError("--output and --stdout exclude each other")
    options = dict(name=name, kind=kind, department=department, level=level, region=region, mode=mode,
                   batch_date=batch_date.date() if batch_date else None)
    try:
        draft = standard_contract(sample, system_id, **options) if standard else infer_contract(sample, system_id, **options)
    except (OnboardError, SampleError) as exc:
        raise click.ClickException(str(exc)) from None
    text = draft.to_yaml(_title(sample, standard))
    _validate(text, system_id)

    target = None
    if not to_stdout:
        target = output or sources_dir() / draft.contract["level"] / draft.contract["kind"] / f"{system_id}.yml"
        _check_target(target, system_id, force)

    click.echo(review_summary(draft) if draft.tables else _standard_summary(draft), err=True)
    reviews = sum(1 for line in text.splitlines() if "# REVIEW:" in line)
    if target is None:
        click.echo(text, nl=False)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {target}" + (f" ({reviews} line(s) marked REVIEW)" if reviews else ""), err=True)


def _title(sample: Path, standard: bool) -> str:
    if standard:
        return (f"Contract of a standard exchange delivery, drafted by `powertrace onboard --standard` "
                f"from {sample.name}.")
    return (f"Draft contract inferred by `powertrace onboard` from {sample.name}.\n"
            f"Check every line marked REVIEW, then commit.")


def _validate(text: str, system_id: str) -> None:
    """The registry's own loader must accept the draft (it also checks the file name)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{system_id}.yml"
        path.write_text(text, encoding="utf-8")
        try:
            load_contract(path)
        except ContractError as exc:
            raise click.ClickException(f"the drafted contract does not validate:\n{exc}\n\n{text}") from None


def _check_target(target: Path, system_id: str, force: bool) -> None:
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists; pass --force to overwrite it")
    registry_root = sources_dir().resolve()
    if registry_root in target.resolve().parents:
        clash = [p for p in contract_paths(registry_root)
                 if p.stem == system_id and p.resolve() != target.resolve()]
        if clash:
            raise click.ClickException(f"system {system_id} is already registered in {clash[0]}")


def _standard_summary(draft: Draft) -> str:
    tables = draft.contract["tables"]
    return "\n".join(f"{t['file_pattern']} -> {name}: {len(t['mappings'][0]['columns'])} canonical columns"
                     for name, t in tables.items())
