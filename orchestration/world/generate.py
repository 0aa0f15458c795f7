"""``powertrace generate``: build the synthetic world and write its deliveries, truth and manifest.

Steps (``generate``):

1. ``World(seed, scale)``; every scenario module plants its positives and decoys; the background
   adds ordinary life (``background.py``).
2. The clean world as the platform can know it (``render.schedule``/``visible``: rows dated after
   the last batch are never delivered, a monthly snapshot only knows its first-of-month) is
   written to ``truth/clean/<entity>.parquet``.
3. The truth: every scenario oracle over those clean rows with models.md's default thresholds ->
   ``truth/alerts.parquet``; what was planted -> ``truth/planted.parquet``; the two must agree
   (``truth.check_planted`` raises with the list of disagreements).
4. Every system's batches into ``landing/<system_id>/<YYYY-MM-DD>/`` in its native form, with
   defects (``defects.py``), one corrected re-delivery, then ``truth/manifest.parquet`` and
   ``truth/defects.parquet``.

Same seed, same bytes: nothing depends on the clock, set iteration or thread timing.
"""
from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np
import polars as pl
from tqdm import tqdm

from orchestration.canonical import entities
from orchestration.contracts import Contract, registry
from orchestration.world import truth as T
from orchestration.world.background import background
from orchestration.world.core import World
from orchestration.world.defects import DRIFT_SAFE, DefectRates, JunkIds
from orchestration.world.render import (
    DAILY_RANGE, Deliveries, Specials, project_days, schedule, visible,
)
from orchestration.world.scenarios._frames import frame as planted_rows_frame

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
    """The world in memory: planted + background rows, and the clean world and truth over them."""
    world: World
    frames: dict[str, pl.DataFrame]                       # entity -> every row (with _system_id)
    by_system: dict[str, dict[str, pl.DataFrame]]         # entity -> system_id -> its rows
    bid_days: dict[str, dt.date]                          # project_id -> the day its bids are sent
    clean: dict[str, pl.DataFrame]                        # entity -> the rows as last delivered
    batch_rows: dict[tuple[str, str], dict[dt.date, int]]  # (system, table) -> batch -> real rows
    undelivered: int
    alerts: pl.DataFrame
    planted: pl.DataFrame


def build_world(seed: int, scale: float, contracts: dict[str, Contract],
                modules: Sequence[ModuleType]) -> BuiltWorld:
    """Plant every scenario, add the background, derive the clean world and compute its truth."""
    world = World(seed, scale)
    for module in modules:
        if hasattr(module, "plant"):
            module.plant(world)
    frames = world_frames(world, background(world))
    bid_days = project_days(frames["tender_project"])
    by_system = {e: split_by_system(f) for e, f in frames.items()}
    clean, batch_rows, undelivered = clean_world(frames, by_system, contracts, bid_days)
    return BuiltWorld(world, frames, by_system, bid_days, clean, batch_rows, undelivered,
                      alerts=T.compute_truth(clean, modules), planted=T.planted_frame(world.planted))


def write_truth(built: BuiltWorld, truth_dir: Path) -> None:
    """truth/clean/<entity>.parquet, truth/alerts.parquet and truth/planted.parquet."""
    (truth_dir / "clean").mkdir(parents=True, exist_ok=True)
    for entity, df in built.clean.items():
        df.write_parquet(truth_dir / "clean" / f"{entity}.parquet")
    built.alerts.write_parquet(truth_dir / "alerts.parquet")
    built.planted.write_parquet(truth_dir / "planted.parquet")


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
    built = build_world(seed, scale, contracts, modules)
    truth_dir = lake / "truth"
    write_truth(built, truth_dir)
    T.check_planted(built.alerts, built.planted)

    specials = plan_specials(contracts, built.batch_rows, defects, seed)
    out = Deliveries(lake, seed, defects, specials, JunkIds())
    for sid in tqdm(sorted(contracts), desc="systems", unit="system", disable=not progress):
        out.system(contracts[sid], {e: parts[sid] for e, parts in built.by_system.items() if sid in parts},
                   built.bid_days)
    manifest = pl.DataFrame([vars(m) for m in out.manifest], schema=MANIFEST_SCHEMA, orient="row")
    manifest.sort("system_id", "batch_date", "file_name", "delivery").write_parquet(truth_dir / "manifest.parquet")
    found = pl.DataFrame([vars(d) for d in out.defects], schema=DEFECTS_SCHEMA, orient="row")
    found.sort("system_id", "batch_date", "file_name", "record", "defect", "column", nulls_last=True) \
        .write_parquet(truth_dir / "defects.parquet")

    landing = manifest.filter(~pl.col("superseded"))
    return GenerateSummary(
        lake=lake, seed=seed, scale=scale, clean_rows={e: df.height for e, df in built.clean.items()},
        undelivered_rows=built.undelivered, files=landing.height, records=int(landing["records"].sum()),
        alerts=built.alerts.height, planted=built.planted.height,
        defects=dict(sorted(found.group_by("defect").len().iter_rows())),
        seconds=time.perf_counter() - started)


def clear_world(lake: Path) -> None:
    """Remove a previous world's landing/ and truth/ (nothing else in the lake)."""
    for zone in ("landing", "truth"):
        shutil.rmtree(Path(lake) / zone, ignore_errors=True)


# --------------------------------------------------------------------------- the clean world
def world_frames(world: World, life: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Planted rows, then the background's, per entity (oracle dtypes, with ``_system_id``)."""
    out = {}
    for entity in entities():
        planted = planted_rows_frame(entity, world.tables.get(entity, []))
        out[entity] = pl.concat([planted, life[entity]]) if entity in life else planted
    return out


def split_by_system(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    return {key[0]: part for key, part in frame.partition_by("_system_id", as_dict=True, maintain_order=True).items()}


def clean_world(frames: dict[str, pl.DataFrame], by_system: dict[str, dict[str, pl.DataFrame]],
                contracts: dict[str, Contract], bid_days: dict[str, dt.date],
                ) -> tuple[dict[str, pl.DataFrame], dict[tuple[str, str], dict[dt.date, int]], int]:
    """The last delivered version of every row, per entity; the real rows per batch of every
    system table; and how many rows are never delivered (dated after the system's last batch,
    or routed to a system that has no contract)."""
    clean: dict[str, list[pl.DataFrame]] = {e: [] for e in entities()}
    batch_rows: dict[tuple[str, str], dict[dt.date, int]] = {}
    delivered = 0
    for sid in sorted(contracts):
        contract = contracts[sid]
        for table_name, table in contract.tables.items():
            part = by_system[table.entity].get(sid)
            if part is None:
                part = frames[table.entity].clear()
            rows = schedule(part, table.entity, table, contract.delivery.mode, bid_days)
            counts = rows.group_by("_batch").len().sort("_batch")
            batch_rows[(sid, table_name)] = dict(counts.iter_rows())
            known = visible(rows, contract.delivery.mode)
            delivered += known.height
            clean[table.entity].append(known.drop("_row", "_batch"))
    out = {e: pl.concat([frames[e].clear(), *parts]) for e, parts in clean.items()}
    return out, batch_rows, sum(f.height for f in frames.values()) - delivered


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
