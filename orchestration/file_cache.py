"""Values derived from files, kept between processes while the files are unchanged.

A file whose size, modification time, change time and inode are those recorded keeps its recorded
value; anything that writes a file changes its change time (which no tool can set back), so a
changed file is always derived again. File clocks tick coarsely (a few ms): a file changed within
the last seconds could change again with the same times, so its value is not kept until it has
been still a while. Best effort: a missing, unreadable or corrupt cache only costs deriving again.

Used for the landed files' sha256 (``orchestration.ingest.landing.HashCache``) and the parsed
source contracts (``orchestration.contracts``).
"""
from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestration.atomic_files import write_atomically

SETTLED_NS = 2_000_000_000   # a file changed within the last 2 s is not kept


class FileCache:
    """``derived(key, path, derive)`` is ``derive(path)``, from the cache while the file is
    unchanged; ``save()`` keeps what this use saw (keys not asked for drop out)."""

    def __init__(self, path: Path, *, load: Callable[[bytes], Any] = pickle.loads,
                 dump: Callable[[dict], bytes] = pickle.dumps):
        self.path, self._dump = Path(path), dump
        try:
            known = load(self.path.read_bytes())
        except Exception:  # noqa: BLE001 - missing, unreadable or corrupt (pickle raises many kinds): derive again
            known = {}
        self.known: dict[str, list] = known if isinstance(known, dict) else {}
        self.seen: dict[str, list] = {}

    def derived(self, key: str, path: Path, derive: Callable[[Path], Any]) -> Any:
        st = path.stat()
        stamp = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        entry = self.known.get(key)
        value = entry[4] if isinstance(entry, list) and entry[:4] == stamp else derive(path)
        if time.time_ns() - st.st_ctime_ns > SETTLED_NS:
            self.seen[key] = [*stamp, value]
        return value

    def save(self) -> None:
        if self.seen == self.known:
            return
        try:
            write_atomically(self.path, self._dump(self.seen))
        except OSError:
            pass
