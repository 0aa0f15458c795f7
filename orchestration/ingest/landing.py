"""What has landed: ``<lake>/landing/<system_id>/<YYYY-MM-DD>/<file>``, batch by batch.

A file is identified by its name and the sha256 of its bytes; the ledger remembers both, which
is how a new or corrected delivery of a date is told from one already ingested. Nothing outside
the landing zone is ever read: a symlink that leads out of it is reported, not followed.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

_HASH_CACHE: dict[tuple[str, int, int], str] = {}   # (path, size, mtime_ns) -> sha256: a sensor re-asks often
_CHUNK = 1 << 20


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
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    known = _HASH_CACHE.get(key)
    if known is None:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
        known = _HASH_CACHE[key] = digest.hexdigest()
    return known


def batch_date_of(name: str) -> dt.date | None:
    """The date a batch folder is named after, or None when the name is not a real YYYY-MM-DD."""
    if len(name) != 10:
        return None
    try:
        return dt.date.fromisoformat(name)
    except ValueError:
        return None


def landing_root(lake: Path) -> Path:
    return Path(lake) / "landing"


def system_folder(lake: Path, system_id: str) -> Path:
    return landing_root(lake) / system_id


def _landed_file(path: Path, root: Path) -> LandedFile:
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        target = str(resolved)
        return LandedFile(path.name, path, hashlib.sha256(f"symlink:{target}".encode()).hexdigest(),
                          refused=f"a symlink to {target}, outside the landing zone; not read")
    if not resolved.is_file():
        return LandedFile(path.name, path, hashlib.sha256(f"missing:{resolved}".encode()).hexdigest(),
                          refused=f"a symlink to {resolved}, which is not a readable file")
    return LandedFile(path.name, path, file_sha256(resolved))


def landed_batches(lake: Path, system_id: str) -> tuple[list[Batch], list[str]]:
    """The system's batch folders in date order, and warnings about what is not a batch."""
    folder = system_folder(lake, system_id)
    if not folder.is_dir():
        return [], []
    root = landing_root(lake).resolve()
    batches: list[Batch] = []
    warnings: list[str] = []
    for entry in sorted(folder.iterdir()):
        where = f"landing/{system_id}/{entry.name}"
        if not entry.is_dir():
            warnings.append(f"{where}: a file directly in the system folder, not in a dated batch folder; skipped")
            continue
        day = batch_date_of(entry.name)
        if day is None:
            warnings.append(f"{where}: batch folder name is not a valid YYYY-MM-DD date; skipped")
            continue
        batch = Batch(day, entry)
        for path in sorted(entry.iterdir()):
            if path.is_dir() and not path.is_symlink():
                warnings.append(f"{where}/{path.name}: a folder inside a batch folder; skipped")
            elif path.is_symlink() or path.is_file():
                batch.files.append(_landed_file(path, root))
            else:
                warnings.append(f"{where}/{path.name}: not a regular file; skipped")
        if batch.files:
            batches.append(batch)
        else:
            warnings.append(f"{where}: empty batch folder; skipped")
    return batches, warnings


def latest_landed_date(lake: Path) -> dt.date | None:
    """The newest batch folder date of any system: the lake's 'today' for freshness."""
    root = landing_root(lake)
    if not root.is_dir():
        return None
    days = [d for system in root.iterdir() if system.is_dir()
            for entry in system.iterdir() if (d := batch_date_of(entry.name)) is not None]
    return max(days, default=None)
