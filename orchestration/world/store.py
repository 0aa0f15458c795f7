"""The world's rows while it is being generated: Parquet parts on disk, per entity and system.

Planting and the background append typed frames (``scenarios._frames.schema_of``, with
``_system_id``). Rows are buffered in memory up to ``buffer_rows`` in all, then written as parts:
one file per (entity, system) and flush, numbered in write order. Reading a system's parts in order
gives its rows in the order they were added, which is what the delivery schedule numbers them by.
Nothing else is kept in memory, so the store's footprint does not grow with the world's scale.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from orchestration.world.scenarios._frames import schema_of


class RowStore:
    def __init__(self, root: Path, buffer_rows: int = 100_000) -> None:
        self.root = Path(root)
        self.buffer_rows = buffer_rows
        self._buffers: dict[str, list[pl.DataFrame]] = {}
        self._buffered: dict[str, int] = {}
        self._parts: dict[str, dict[str, list[Path]]] = {}   # entity -> system -> parts, in order
        self._rows: dict[tuple[str, str], int] = {}
        self._written = 0

    # ------------------------------------------------------------------ writing
    def append(self, entity: str, frame: pl.DataFrame) -> None:
        """Add rows of ``entity`` (its full schema, ``_system_id`` set on every row)."""
        if not frame.height:
            return
        self._buffers.setdefault(entity, []).append(frame)
        self._buffered[entity] = self._buffered.get(entity, 0) + frame.height
        while sum(self._buffered.values()) >= self.buffer_rows:
            self.flush(max(self._buffered, key=lambda e: (self._buffered[e], e)))

    def flush(self, entity: str | None = None) -> None:
        """Write the buffered rows of ``entity`` (of every entity when None) as parts."""
        for name in [entity] if entity else sorted(self._buffers):
            frames = self._buffers.pop(name, [])
            self._buffered.pop(name, None)
            if not frames:
                continue
            rows = pl.concat(frames)
            for (system,), part in rows.partition_by("_system_id", as_dict=True, maintain_order=True).items():
                if system is None:
                    raise ValueError(f"{name}: {part.height} row(s) without _system_id reached the row store")
                path = self.root / name / system / f"{self._written:07d}.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                part.write_parquet(path, compression="lz4", statistics=False)
                self._written += 1
                self._parts.setdefault(name, {}).setdefault(system, []).append(path)
                self._rows[(name, system)] = self._rows.get((name, system), 0) + part.height

    # ------------------------------------------------------------------ reading (buffered rows first written)
    def systems(self, entity: str) -> list[str]:
        self.flush(entity)
        return sorted(self._parts.get(entity, {}))

    def rows(self, entity: str, system: str) -> int:
        self.flush(entity)
        return self._rows.get((entity, system), 0)

    def chunks(self, entity: str, system: str, max_rows: int) -> Iterator[pl.DataFrame]:
        """The system's rows of ``entity`` in the order added, in frames of at most ``max_rows``."""
        self.flush(entity)
        pending: list[pl.DataFrame] = []
        held = 0
        for path in self._parts.get(entity, {}).get(system, []):
            part = pl.read_parquet(path)
            for start in range(0, part.height, max_rows):
                piece = part.slice(start, max_rows)
                if held + piece.height > max_rows and pending:
                    yield pl.concat(pending)
                    pending, held = [], 0
                pending.append(piece)
                held += piece.height
        if pending:
            yield pl.concat(pending)

    def scan(self, entity: str) -> pl.LazyFrame:
        """Every row of ``entity`` (all systems), lazily."""
        self.flush(entity)
        paths = sorted(p for parts in self._parts.get(entity, {}).values() for p in parts)
        if not paths:
            return pl.LazyFrame(schema=schema_of(entity))
        return pl.scan_parquet(paths)
