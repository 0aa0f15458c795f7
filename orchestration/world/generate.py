"""``powertrace generate``: build the synthetic world and write its deliveries, truth and manifest.

Steps (``generate``), streaming throughout: the world's rows live in a row store on disk
(``store.RowStore``, in a work folder of the lake that is removed at the end), never whole in
memory, so peak memory hardly grows with the scale.

1. ``World(seed, scale)``; every scenario module plants its positives and decoys (older planted
   rows move to the store as planting goes on); the background adds ordinary life block by block
   (``background.py``).
2. The clean world as the platform can know it (``render.schedule``/``visible``: rows dated after
   the last batch are never delivered, a monthly snapshot only knows its first-of-month) is
   written to ``truth/clean/<entity>.parquet`` chunk by chunk, counting the rows of every batch.
3. The truth: every scenario oracle over those clean files (``truth.clean_tables``: lazy scans)
   with models.md's default thresholds -> ``truth/alerts.parquet``; what was planted ->
   ``truth/planted.parquet``; the two must agree (``truth.check_planted`` raises with the list of
   disagreements).
4. Every system's batches into ``landing/<system_id>/<YYYY-MM-DD>/`` in its native form, chunk by
   chunk, with defects (``defects.py``) and one corrected re-delivery, then
   ``truth/manifest.parquet`` and ``truth/defects.parquet``.

Same seed, same bytes: nothing depends on the clock, set iteration or thread timing.
"""
from __future__ import annotations

import ctypes
import datetime as dt
import gc
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np
import polars as pl
import pyarrow.parquet as pq
from tqdm import tqdm

from orchestration.canonical import entities
from orchestration.contracts import Contract, registry
from orchestration.world import truth as T
from orchestration.world.background import background
from orchestration.world.core import World
from orchestration.world.defects import DRIFT_SAFE, DefectRates, JunkIds
from orchestration.world.render import (
    DAILY_RANGE, Deliveries, Specials, chunk_rows, project_days, schedule, visible,
)
from orchestration.world.scenarios._frames import schema_of
from orchestration.world.store import RowStore

MANIFEST_SCHEMA = {"system_id": pl.Utf8, "batch_date": pl.Date, "file_name": pl.Utf8, "path": pl.Utf8,
                   "records": pl.Int64, "sha256": pl.Utf8, "delivery": pl.Int64, "superseded": pl.Boolean}
DEFECTS_SCHEMA = {"system_id": pl.Utf8, "batch_date": pl.Date, "file_name": pl.Utf8, "record": pl.Int64,
                  "defect": pl.Utf8, "column": pl.Utf8, "detail": pl.Utf8}


@dataclass
class GenerateSummary:
    lake: Path
    seed: int
    scale: float
    clean_rows: dict[str, int]           # entity -> clean (delivered) rows
    undelivered_rows: int                # rows dated after the last batch a system sends
    files: int
    records: int                         # data records in landing (junk and duplicates included)
    alerts: int
    planted: int
    defects: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        return [f"world seed {self.seed} scale {self.scale}: {sum(self.clean_rows.values()):,} clean rows, "
                f"{self.files:,} files ({self.records:,} records) in {self.lake / 'landing'}",
                f"truth: {self.alerts:,} alerts, {self.planted:,} planted rows; defects: "
                + ", ".join(f"{k} {v}" for k, v in sorted(self.defects.items())),
                f"done in {self.seconds:.1f} s"]


@dataclass
class BuiltWorld:
    """A world built and its truth written, not yet delivered: its rows in the store, what every
    batch of every system table holds, and the truth."""
    store: RowStore
    bid_days: dict[str, dt.date]                           # project_id -> the day its bids are sent
    clean_rows: dict[str, int]                             # entity -> rows in truth/clean
    batch_rows: dict[tuple[str, str], dict[dt.date, int]]  # (system, table) -> batch -> real rows
    undelivered: int
    alerts: pl.DataFrame
    planted: pl.DataFrame


def release_freed_memory() -> None:
    """Give the memory the last step freed back to the system: glibc keeps freed heap pages for
    reuse, so without this the next step's peak would sit on top of the last one's."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def populate(seed: int, scale: float, modules: Sequence[ModuleType], store: RowStore) -> pl.DataFrame:
    """Plant every scenario and add the background, all rows into ``store``; what was planted."""
    world = World(seed, scale)
    world.store = store
    for module in modules:
        if hasattr(module, "plant"):
            module.plant(world)
    world.flush()
    planted = world.planted_frame()
    release_freed_memory()
    background(world, store)
    return planted


def build_world(seed: int, scale: float, contracts: dict[str, Contract], modules: Sequence[ModuleType],
                work: Path, truth_dir: Path) -> BuiltWorld:
    """Plant, add the background (rows in a store under ``work``), write the clean world and the
    truth over it into ``truth_dir`` (clean/, alerts.parquet, planted.parquet)."""
    store = RowStore(work / "rows")
    planted = populate(seed, scale, modules, store)
    release_freed_memory()
    bid_days = project_days(store.scan("tender_project").select("project_id", "award_date", "publish_date").collect())
    clean_rows, batch_rows, undelivered = write_clean_world(store, contracts, bid_days, truth_dir / "clean")
    release_freed_memory()
    alerts = T.compute_truth(T.clean_tables(truth_dir / "clean"), modules)
    release_freed_memory()
    alerts.write_parquet(truth_dir / "alerts.parquet")
    planted.write_parquet(truth_dir / "planted.parquet")
    return BuiltWorld(store, bid_days, clean_rows, batch_rows, undelivered, alerts, planted)


def generate(lake: Path, scale: float, seed: int, progress: bool = True, *,
             defects: DefectRates = DefectRates(), scenarios: Sequence[ModuleType] | None = None,
             sources: Path | None = None) -> GenerateSummary:
    """Write the world of ``seed`` at ``scale`` into ``lake`` (landing/ and truth/, which must be
    empty or absent: ``clear_world`` first to replace a world). ``scenarios`` defaults to every
    module of ``orchestration/world/scenarios``; ``sources`` to the registry in use."""
    started = time.perf_counter()
    lake = Path(lake)
    landing = lake / "landing"
    if landing.is_dir() and any(landing.iterdir()):
        raise FileExistsError(f"{landing} already holds deliveries: clear_world({str(lake)!r}) first")
    contracts = registry(sources)
    modules = T.discover_scenarios() if scenarios is None else list(scenarios)
    truth_dir = lake / "truth"
    lake.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".generate-", dir=lake))
    try:
        built = build_world(seed, scale, contracts, modules, work, truth_dir)
        T.check_planted(built.alerts, built.planted)
        manifest, found = deliver(lake, seed, contracts, built, defects, progress)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    landing = manifest.filter(~pl.col("superseded"))
    return GenerateSummary(
        lake=lake, seed=seed, scale=scale, clean_rows=built.clean_rows,
        undelivered_rows=built.undelivered, files=landing.height, records=int(landing["records"].sum()),
        alerts=built.alerts.height, planted=built.planted.height, defects=dict(sorted(found.items())),
        seconds=time.perf_counter() - started)


def deliver(lake: Path, seed: int, contracts: dict[str, Contract], built: BuiltWorld, rates: DefectRates,
            progress: bool) -> tuple[pl.DataFrame, Counter]:
    """Every system's deliveries into landing/, then truth/manifest.parquet and truth/defects.parquet
    (written system by system: systems go in sorted order, so sorting each system's defects sorts
    them all); the manifest and the defect counts."""
    specials = plan_specials(contracts, built.batch_rows, rates, seed)
    out = Deliveries(lake, seed, rates, specials, JunkIds())
    counts: Counter = Counter()
    schema = pl.DataFrame(schema=DEFECTS_SCHEMA).to_arrow().schema
    with pq.ParquetWriter(lake / "truth" / "defects.parquet", schema, compression="zstd") as writer:
        for sid in tqdm(sorted(contracts), desc="systems", unit="system", disable=not progress):
            placed = out.system(contracts[sid], built.store, built.bid_days, built.batch_rows)
            found = pl.DataFrame([vars(d) for d in placed], schema=DEFECTS_SCHEMA, orient="row")
            found = found.sort("system_id", "batch_date", "file_name", "record", "defect", "column", nulls_last=True)
            writer.write_table(found.to_arrow().cast(schema))
            counts.update(found.get_column("defect").to_list())
    manifest = pl.DataFrame([vars(m) for m in out.manifest], schema=MANIFEST_SCHEMA, orient="row")
    manifest = manifest.sort("system_id", "batch_date", "file_name", "delivery")
    manifest.write_parquet(lake / "truth" / "manifest.parquet")
    return manifest, counts


def clear_world(lake: Path) -> None:
    """Remove a previous world's landing/ and truth/ (nothing else in the lake)."""
    for zone in ("landing", "truth"):
        shutil.rmtree(Path(lake) / zone, ignore_errors=True)


# --------------------------------------------------------------------------- the clean world
def write_clean_world(store: RowStore, contracts: dict[str, Contract], bid_days: dict[str, dt.date],
                      clean_dir: Path) -> tuple[dict[str, int], dict[tuple[str, str], dict[dt.date, int]], int]:
    """Write the last delivered version of every row to ``clean_dir/<entity>.parquet`` (systems
    in sorted order), chunk by chunk. Returns the clean rows per entity, the real rows per batch of
    every system table, and how many rows are never delivered (dated after the system's last
    batch, or routed to a system that has no contract)."""
    clean_dir.mkdir(parents=True, exist_ok=True)
    clean_rows: dict[str, int] = {}
    batch_rows: dict[tuple[str, str], dict[dt.date, int]] = {}
    for entity in entities():
        columns = list(schema_of(entity))
        arrow_schema = pl.DataFrame(schema=schema_of(entity)).to_arrow().schema
        clean_rows[entity] = 0
        with pq.ParquetWriter(clean_dir / f"{entity}.parquet", arrow_schema, compression="zstd") as writer:
            for sid in sorted(contracts):
                contract = contracts[sid]
                for table_name, table in contract.tables.items():
                    if table.entity != entity:
                        continue
                    counts = batch_rows.setdefault((sid, table_name), {})
                    mode, first_row = contract.delivery.mode, 0
                    for chunk in store.chunks(entity, sid, chunk_rows(mode)):
                        rows = schedule(chunk, entity, table, mode, bid_days, first_row)
                        first_row += chunk.height
                        for day, n in rows.group_by("_batch").len().iter_rows():
                            counts[day] = counts.get(day, 0) + n
                        known = visible(rows, mode).select(columns)
                        writer.write_table(known.to_arrow().cast(arrow_schema))
                        clean_rows[entity] += known.height
    stored = sum(store.rows(e, s) for e in entities() for s in store.systems(e))
    return clean_rows, batch_rows, stored - sum(clean_rows.values())


# --------------------------------------------------------------------------- file defects
def plan_specials(contracts: dict[str, Contract], batch_rows: dict[tuple[str, str], dict[dt.date, int]],
                  rates: DefectRates, seed: int) -> Specials:
    """Choose the world's file defects: empty files (empty daily batches of event systems), schema
    drift (files with data, renaming an optional column no rule reads; at least one) and the one
    corrected re-delivery (a daily event batch with amounts)."""
    rng = np.random.default_rng([seed, 3])
    empty_candidates, drift_candidates, redelivery_candidates = [], [], []
    for sid in sorted(contracts):
        contract = contracts[sid]
        for table_name, table in contract.tables.items():
            counts = batch_rows.get((sid, table_name), {})
            protected = set(table.required) | set(table.primary_key)
            for day in sorted(set(counts) | (set(DAILY_RANGE) if contract.delivery.mode == "increment" else set())):
                key, n = (sid, table_name, day), counts.get(day, 0)
                mapping = table.mapping_for(day) or table.mappings[0]
                mapped = {r.column: r for r in mapping.columns.values()}
                if n == 0 and contract.delivery.mode == "increment" and day in DAILY_RANGE:
                    empty_candidates.append(key)
                safe = [c for c in DRIFT_SAFE.get(table.entity, ()) if c in mapped and c not in protected]
                if n and safe:
                    drift_candidates.append((key, safe[int(rng.integers(len(safe)))]))
                decimal = any(entities()[table.entity].columns[c] == "decimal" for c in mapped)
                if n and decimal and contract.delivery.mode == "increment" and day in DAILY_RANGE:
                    redelivery_candidates.append(key)
    empty = {k for k in empty_candidates if rng.random() < rates.empty_file}
    if not empty and empty_candidates and rates.empty_file > 0:
        empty = {empty_candidates[int(rng.integers(len(empty_candidates)))]}
    drift = {k: c for k, c in drift_candidates if rng.random() < rates.schema_drift}
    if not drift and drift_candidates and rates.schema_drift > 0:
        k, c = drift_candidates[int(rng.integers(len(drift_candidates)))]
        drift = {k: c}
    redelivery = (redelivery_candidates[int(rng.integers(len(redelivery_candidates)))]
                  if redelivery_candidates else None)
    return Specials(empty=empty, drift=drift, redelivery=redelivery)
