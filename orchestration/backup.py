"""``powertrace backup --to DIR`` and ``powertrace restore --from DIR``: the state that exists
nowhere else.

The lake can be rebuilt from landing; two stores cannot: the alert service's database
(dispositions, tokens, audit chain: ``<lake>/service/service.sqlite``, or ``POWERTRACE_SERVICE_DB``)
and the Dagster instance (run history, schedule and sensor state: ``DAGSTER_HOME``, default
``.state/dagster``). A backup holds

    DIR/service/<database file>    DIR/dagster/<the instance folder>    DIR/manifest.json

SQLite databases are copied with SQLite's online backup API, which reads one consistent snapshot
(WAL contents included) while the service or Dagster keeps writing; every other file is copied.
Each database is consistent on its own; for the Dagster instance as a whole, back up between runs.
``manifest.json`` (written last: a backup without it is incomplete) lists every file with its
sha256 and size. Restore checks every checksum first, refuses to overwrite a non-empty target
unless ``--force``, and then keeps what the target held beside it (``*.before-restore-<time>``).
Stop ``powertrace serve`` and Dagster before restoring.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import click

from orchestration.settings import Zones, dagster_home

MANIFEST = "manifest.json"
SQLITE_HEADER = b"SQLite format 3\x00"
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")   # a database's live companions: the backup API reads through them


class BackupError(RuntimeError):
    """A backup or restore refused: names the file or folder at fault."""


@dataclass(frozen=True)
class Part:
    """One store a backup holds: a database file or an instance folder."""

    name: str            # its folder inside the backup
    path: Path           # where it lives on this machine
    is_folder: bool


def parts(zones: Zones) -> tuple[list[Part], dict[str, str]]:
    """The stores to back up or restore on this machine, and the ones skipped with the reason."""
    from sqlalchemy.engine import make_url

    from orchestration.service.store import default_url

    found, skipped = [], {}
    url = make_url(default_url(zones.root))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        skipped["service"] = (f"the service database is {url.get_backend_name()}, not a SQLite file: "
                              "back it up with that database's own tools (e.g. pg_dump)")
    else:
        found.append(Part("service", Path(url.database).resolve(), is_folder=False))
    found.append(Part("dagster", dagster_home(), is_folder=True))
    return found, skipped


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_sqlite(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(len(SQLITE_HEADER)) == SQLITE_HEADER


def _side_file_of_database(path: Path) -> bool:
    for suffix in SQLITE_SIDE_FILES:
        if path.name.endswith(suffix):
            base = path.with_name(path.name[:-len(suffix)])
            return base.is_file() and is_sqlite(base)
    return False


def _copy_sqlite(source: Path, target: Path) -> None:
    """One consistent snapshot of a live database, through SQLite's online backup API."""
    src = sqlite3.connect(str(source), timeout=30)
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _copy_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if is_sqlite(source):
        _copy_sqlite(source, target)
    else:
        shutil.copy2(source, target)


def _files_of(part: Part) -> list[Path]:
    if not part.is_folder:
        return [part.path] if part.path.is_file() else []
    if not part.path.is_dir():
        return []
    return [p for p in sorted(part.path.rglob("*")) if p.is_file() and not _side_file_of_database(p)]


def backup(zones: Zones, target: Path, echo=print) -> dict:
    """Back up the service database and the Dagster instance into the empty folder ``target``."""
    target = Path(target).resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"backup target {target} is not an empty folder: choose a new one")
    found, skipped = parts(zones)
    manifest = {"created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "parts": {}, "skipped": skipped, "files": {}}
    for part in found:
        files = _files_of(part)
        if not files:
            skipped[part.name] = f"nothing at {part.path}"
            continue
        manifest["parts"][part.name] = {"source": str(part.path), "folder": part.is_folder}
        for source in files:
            relative = Path(part.name) / (source.relative_to(part.path) if part.is_folder else source.name)
            copy = target / relative
            _copy_file(source, copy)
            manifest["files"][relative.as_posix()] = {"sha256": sha256_of(copy), "bytes": copy.stat().st_size}
        echo(f"backup: {part.name} ({part.path}): {len(files)} file(s)")
    for name, why in skipped.items():
        echo(f"backup: {name} skipped: {why}")
    if not manifest["parts"]:
        raise BackupError("nothing to back up: " + "; ".join(f"{n}: {w}" for n, w in skipped.items()))
    target.mkdir(parents=True, exist_ok=True)
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def read_manifest(source: Path) -> dict:
    """The backup's manifest, after checking every file against its sha256."""
    path = Path(source) / MANIFEST
    if not path.is_file():
        raise BackupError(f"{path} is missing: {source} is not a complete backup")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for relative, entry in manifest["files"].items():
        copy = Path(source) / relative
        if not copy.is_file():
            raise BackupError(f"{copy}: listed in {MANIFEST} but missing")
        if sha256_of(copy) != entry["sha256"]:
            raise BackupError(f"{copy}: sha256 differs from {MANIFEST}: the backup is damaged")
    return manifest


def _occupants(part: Part) -> list[Path]:
    """What restoring ``part`` would overwrite (a database counts with its WAL and journal)."""
    if part.is_folder:
        return [part.path] if part.path.is_dir() and any(part.path.iterdir()) else []
    candidates = [part.path, *(part.path.with_name(part.path.name + s) for s in SQLITE_SIDE_FILES)]
    return [p for p in candidates if p.exists()]


def restore(zones: Zones, source: Path, *, force: bool = False, echo=print) -> dict[str, Path]:
    """Restore the backup at ``source`` onto this machine's service database and Dagster instance;
    returns where the previous contents were kept (``force`` only)."""
    source = Path(source).resolve()
    manifest = read_manifest(source)
    found, _ = parts(zones)
    restoring = [p for p in found if p.name in manifest["parts"]]
    for name in sorted(set(manifest["parts"]) - {p.name for p in restoring}):
        echo(f"restore: {name} is in the backup but not restorable here (see `backup` output); skipped")
    occupied = [path for part in restoring for path in _occupants(part)]
    if occupied and not force:
        raise BackupError("restore would overwrite " + ", ".join(map(str, occupied))
                          + ": stop the service and Dagster, then use --force (the current contents are kept aside)")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    kept = {}
    for path in occupied:
        kept[str(path)] = path.rename(path.with_name(f"{path.name}.before-restore-{stamp}"))
    for part in restoring:
        prefix = f"{part.name}/"
        files = [r for r in manifest["files"] if r.startswith(prefix)]
        for relative in files:
            inside = relative[len(prefix):]
            destination = part.path / inside if part.is_folder else part.path
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / relative, destination)
        echo(f"restore: {part.name} → {part.path}: {len(files)} file(s) from the backup of {manifest['created_at']}")
    for old, new in kept.items():
        echo(f"restore: the previous {old} is kept at {new}")
    return kept


@click.command("backup")
@click.option("--to", "target", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="An empty or new folder for the backup.")
@click.pass_context
def backup_command(ctx: click.Context, target: Path) -> None:
    """Back up the alert service's database and the Dagster instance, with a sha256 manifest."""
    try:
        manifest = backup(Zones(ctx.obj["lake"]), target, echo=click.echo)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup written to {target} ({len(manifest['files'])} files, manifest {MANIFEST})")


@click.command("restore")
@click.option("--from", "source", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="A folder written by `powertrace backup`.")
@click.option("--force", is_flag=True, help="Replace a non-empty target (its contents are kept aside, renamed).")
@click.pass_context
def restore_command(ctx: click.Context, source: Path, force: bool) -> None:
    """Restore the alert service's database and the Dagster instance from a backup."""
    try:
        restore(Zones(ctx.obj["lake"]), source, force=force, echo=click.echo)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("restored")
