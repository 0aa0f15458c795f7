"""What has landed: ``<lake>/landing/<system_id>/<YYYY-MM-DD>/<file>``, batch by batch.

A file is identified by its name and the sha256 of its bytes; the ledger remembers both, which
is how a new or corrected delivery of a date is told from one already ingested. Nothing outside
the landing zone is ever read: a symlink that leads out of it is reported, not followed.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.file_cache import FileCache
from orchestration.settings import Zones

_CHUNK = 1 << 20
# ASCII digits only: date.fromisoformat also takes "2026-W40-4" and "20261001  ", which are not batch folders.
_BATCH_FOLDER = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class LandedFile:
    name: str                   # name inside the batch folder
    path: Path                  # where it lies in landing (not resolved)
    sha256: str                 # of its bytes; of the link text for a file that must not be read
    refused: str | None = None  # why it must not be read (e.g. a symlink out of landing)


@dataclass
class Batch:
    batch_date: dt.date
    folder: Path
    files: list[LandedFile] = field(default_factory=list)

    def fingerprint(self) -> frozenset[tuple[str, str]]:
        return frozenset((f.name, f.sha256) for f in self.files)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class HashCache(FileCache):
    """The sha256 of a system's landed files, kept in ``<lake>/cache/landing_sha256/<system>.json``
    (orchestration/file_cache.py: kept while a file is unchanged, a re-delivery always read again).

    Every run asks whether each landed batch is new or re-delivered, which needs every landed
    file's hash: read afresh, that is all of landing every run (16 GiB at SF 10).
    """

    def __init__(self, lake: Path, system_id: str):
        super().__init__(Zones(lake).cache / "landing_sha256" / f"{system_id}.json",
                         load=json.loads, dump=lambda seen: json.dumps(seen).encode())

    def sha256(self, name: str, resolved: Path) -> str:
        return self.derived(name, resolved, file_sha256)


def batch_date_of(name: str) -> dt.date | None:
    """The date a batch folder is named after, or None when the name is not a real YYYY-MM-DD."""
    if not _BATCH_FOLDER.fullmatch(name):
        return None
    try:
        return dt.date.fromisoformat(name)
    except ValueError:
        return None


def landing_root(lake: Path) -> Path:
    return Path(lake) / "landing"


def system_folder(lake: Path, system_id: str) -> Path:
    return landing_root(lake) / system_id


def recorded_name(path: Path) -> str:
    """The file name as the ledger and quarantine record it: a name that is not valid UTF-8 (bytes
    Linux allows) cannot be stored in a Utf8 column, so its stray bytes are written as ``\\xNN``."""
    return path.name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def resolve_in_landing(path: Path, root: Path) -> tuple[Path | None, str | None]:
    """The real path of ``path`` when it stays inside the landing zone ``root``; else None and why."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError) as exc:       # RuntimeError: a symlink loop (Python 3.11)
        return None, f"a symlink that cannot be resolved ({exc}); not read"
    if not resolved.is_relative_to(root):
        return None, f"a symlink to {resolved}, outside the landing zone; not read"
    return resolved, None


def _refused(name: str, path: Path, why: str) -> LandedFile:
    # The hash stands for what is known without reading: the reason (which names the link target).
    return LandedFile(name, path, hashlib.sha256(f"refused:{why}".encode()).hexdigest(), refused=why)


def _landed_file(path: Path, root: Path, hashes: HashCache, is_link: bool) -> LandedFile:
    name = recorded_name(path)
    if not is_link:      # a plain file in a batch folder already found inside landing
        resolved = path
    else:
        resolved, why = resolve_in_landing(path, root)
        if resolved is None:
            return _refused(name, path, why)
        if not resolved.is_file():
            return _refused(name, path, f"a symlink to {resolved}, which is not a readable file")
    try:
        return LandedFile(name, path, hashes.sha256(f"{path.parent.name}/{path.name}", resolved))
    except OSError as exc:                       # e.g. no read permission: report it, do not stop the run
        return _refused(name, path, f"cannot be read ({exc.strerror or exc})")


def _entries(folder: Path) -> list[os.DirEntry]:
    """The folder's entries by name; their kinds come with the listing (no call per entry)."""
    with os.scandir(folder) as listing:
        return sorted(listing, key=lambda e: e.name)


def landed_batches(lake: Path, system_id: str) -> tuple[list[Batch], list[str]]:
    """The system's batch folders in date order, and warnings about what is not a batch."""
    folder = system_folder(lake, system_id)
    if not folder.is_dir():
        return [], []
    root = landing_root(lake).resolve()
    _, why = resolve_in_landing(folder, root)
    if why:       # not even listed: the names in an outside folder are not landing's to read
        return [], [f"landing/{system_id}: the system folder is {why}; skipped"]
    batches: list[Batch] = []
    warnings: list[str] = []
    hashes = HashCache(lake, system_id)
    # Only a symlink can lead out of landing: plain folders and files under the resolved system
    # folder are inside it without asking the file system for their real paths.
    for entry in _entries(folder):
        where = f"landing/{system_id}/{recorded_name(Path(entry.name))}"
        if not entry.is_dir():
            warnings.append(f"{where}: a file directly in the system folder, not in a dated batch folder; skipped")
            continue
        day = batch_date_of(entry.name)
        if day is None:
            warnings.append(f"{where}: batch folder name is not a valid YYYY-MM-DD date; skipped")
            continue
        if entry.is_symlink():
            _, why = resolve_in_landing(Path(entry.path), root)
            if why:
                warnings.append(f"{where}: the batch folder is {why}; skipped")
                continue
        batch = Batch(day, Path(entry.path))
        for item in _entries(Path(entry.path)):
            path = Path(item.path)
            if item.is_dir(follow_symlinks=False):
                warnings.append(f"{where}/{recorded_name(path)}: a folder inside a batch folder; skipped")
            elif item.is_symlink() or item.is_file(follow_symlinks=False):
                batch.files.append(_landed_file(path, root, hashes, is_link=item.is_symlink()))
            else:
                warnings.append(f"{where}/{recorded_name(path)}: not a regular file; skipped")
        if batch.files:
            batches.append(batch)
        else:
            warnings.append(f"{where}: empty batch folder; skipped")
    hashes.save()
    return batches, warnings


def landed_dates(lake: Path, system_id: str) -> list[dt.date]:
    """Dates of the system's batch folders, from their names only (no file is opened).

    A system folder that leads out of landing is not listed. (A batch folder that does is
    counted here, for freshness, by its name; :func:`landed_batches` skips it.)
    """
    folder = system_folder(lake, system_id)
    if not folder.is_dir() or resolve_in_landing(folder, landing_root(lake).resolve())[0] is None:
        return []
    return sorted(d for e in folder.iterdir() if e.is_dir() and (d := batch_date_of(e.name)) is not None)


def latest_landed_date(lake: Path) -> dt.date | None:
    """The newest batch folder date of any system: the lake's 'today' for freshness."""
    root = landing_root(lake)
    if not root.is_dir():
        return None
    return max((d for system in root.iterdir() for d in landed_dates(lake, system.name)[-1:]), default=None)
