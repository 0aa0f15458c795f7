"""Replacing a file whole: a reader sees the old file or the new one, never half of one."""
import os
import threading
from pathlib import Path


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to a temporary sibling of ``target`` (its folder made when missing), then
    rename it over ``target``: a rename within one folder is atomic. The temporary's name holds
    the process and thread, so concurrent writers never share one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
    temporary.write_bytes(data)
    os.replace(temporary, target)
