"""The truth aggregator: every scenario module's oracle over the clean rows, and the planted check.

The rules themselves are implemented (independently of the dbt models) by the scenario modules,
``orchestration/world/scenarios/smNN.py``, each exposing ``plant(world)`` and
``truth(tables, params)``. This module finds them (by name, sorted, so a new module needs no
registration), runs every oracle with the defaults of models.md, checks the alert shape and
concatenates the result; ``check_planted`` then compares it with what was planted.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

import polars as pl

from orchestration.world.scenarios._common import DEFAULT_PARAMS

SCENARIO_PACKAGE = "orchestration.world.scenarios"
ALERT_SCHEMA = {"model_id": pl.Utf8, "rule_branch": pl.Utf8, "primary_key": pl.Utf8, "severity": pl.Utf8}
SEVERITIES = ("red", "yellow")


class TruthMismatch(RuntimeError):
    """What was planted and what the oracles compute disagree (the message lists every case)."""


def default_params() -> dict[str, float]:
    """The thresholds every oracle runs with: the defaults models.md names."""
    return dict(DEFAULT_PARAMS)


def discover_scenarios(package: str = SCENARIO_PACKAGE) -> list[ModuleType]:
    """The scenario modules of ``package``, sorted by name: every module not starting with ``_``
    that defines ``plant`` or ``truth`` (helper modules start with ``_``)."""
    pkg = importlib.import_module(package)
    names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))
    modules = [importlib.import_module(f"{package}.{name}") for name in names]
    return [m for m in modules if hasattr(m, "plant") or hasattr(m, "truth")]


def _check_alerts(alerts: pl.DataFrame, source: str) -> pl.DataFrame:
    """One oracle's output in the alert shape, or a ValueError naming the module and the rule."""
    if set(alerts.columns) != set(ALERT_SCHEMA):
        raise ValueError(f"{source}: truth() must return columns {list(ALERT_SCHEMA)}, got {alerts.columns}")
    alerts = alerts.select(list(ALERT_SCHEMA)).cast(ALERT_SCHEMA)
    bad = alerts.filter(~pl.col("severity").is_in(SEVERITIES) | pl.col("primary_key").is_null()
                        | pl.col("model_id").is_null() | pl.col("rule_branch").is_null())
    if bad.height:
        raise ValueError(f"{source}: {bad.height} alert(s) without model_id/primary_key/branch or with a severity "
                         f"other than red/yellow, e.g. {bad.row(0, named=True)}")
    dup = alerts.group_by("model_id", "primary_key").len().filter(pl.col("len") > 1)
    if dup.height:
        raise ValueError(f"{source}: {dup.height} (model_id, primary_key) pair(s) alert more than once, "
                         f"e.g. {dup.row(0, named=True)}; one row per key, branches comma-joined")
    unsorted = [b for b in alerts["rule_branch"].to_list() if ",".join(sorted(b.split(","))) != b]
    if unsorted:
        raise ValueError(f"{source}: rule_branch must be sorted and comma-joined, got {unsorted[0]!r}")
    return alerts


def clean_tables(clean_dir: Path) -> dict[str, pl.LazyFrame]:
    """The clean world written by ``generate`` (``truth/clean/<entity>.parquet``) as lazy scans,
    which the oracles read a group of records at a time."""
    return {path.stem: pl.scan_parquet(path) for path in sorted(Path(clean_dir).glob("*.parquet"))}


def compute_truth(tables: dict[str, pl.DataFrame | pl.LazyFrame], modules: Iterable[ModuleType],
                  params: dict | None = None) -> pl.DataFrame:
    """Every oracle's alerts over ``tables`` (entity -> clean frame or scan), sorted by model and key."""
    params = default_params() if params is None else params
    parts = [pl.DataFrame(schema=ALERT_SCHEMA)]
    for module in modules:
        if hasattr(module, "truth"):
            parts.append(_check_alerts(module.truth(tables, dict(params)), f"{module.__name__}.truth"))
    alerts = pl.concat(parts)
    dup = alerts.group_by("model_id", "primary_key").len().filter(pl.col("len") > 1)
    if dup.height:
        raise ValueError(f"two scenario modules report the same alert, e.g. {dup.row(0, named=True)}")
    return alerts.sort("model_id", "primary_key")


def planted_problems(truth: pl.DataFrame, planted: pl.DataFrame) -> list[str]:
    """Every disagreement: a planted positive missing from the truth, with another severity or
    without its branch among the alert's branches; a planted decoy that alerts for its model."""
    found = {(m, k): (b.split(","), s) for m, b, k, s in truth.select(
        "model_id", "rule_branch", "primary_key", "severity").iter_rows()}
    problems = []
    for p in planted.iter_rows(named=True):
        where = f"{p['model_id']} {p['rule_branch']} {p['primary_key']}" + (f" ({p['note']})" if p["note"] else "")
        alert = found.get((p["model_id"], p["primary_key"]))
        if p["decoy"]:
            if alert:
                problems.append(f"decoy alerts: {where} -> branches {','.join(alert[0])}, {alert[1]}")
        elif alert is None:
            problems.append(f"positive not in truth: {where}")
        else:
            branches, severity = alert
            if p["rule_branch"] not in branches:
                problems.append(f"positive alerts on other branches: {where} -> {','.join(branches)}")
            if severity != p["severity"]:
                problems.append(f"positive with severity {severity}, planted {p['severity']}: {where}")
    return problems


def check_planted(truth: pl.DataFrame, planted: pl.DataFrame) -> None:
    """Raise ``TruthMismatch`` listing every disagreement between planted and computed truth."""
    problems = planted_problems(truth, planted)
    if problems:
        shown = "\n  ".join(problems[:200])
        more = f"\n  ... and {len(problems) - 200} more" if len(problems) > 200 else ""
        raise TruthMismatch(f"{len(problems)} planted record(s) disagree with the computed truth:\n  {shown}{more}")
