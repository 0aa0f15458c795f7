"""Precision and recall of the supervision models on synthetic worlds, recorded in bench/RESULTS.md.

Usage: ``python -m bench.supervision_evaluation "SF 0.01, seed 7=LAKE" [...]`` (a label for the world, then
its lake folder) after ``powertrace run`` on each
lake (``powertrace generate --scale S --seed N`` first for another world). Reads each lake's
published alerts (or, when a run stopped before publication, the open alerts of the warehouse's
gold.alerts, said so in the record), evaluates them with ``orchestration.evaluate`` and writes one
section listing every world.
"""
from __future__ import annotations

import sys
import duckdb
import polars as pl

from bench.results import record
from orchestration.evaluate import evaluate, read_truth, render
from orchestration.settings import Zones

TITLE = "Supervision models: precision and recall against the world's truth"


def open_alerts(zones: Zones) -> tuple[pl.DataFrame, str]:
    published = zones.published / "alerts"
    if (published / "_delta_log").exists():
        alerts, source = pl.read_delta(str(published)), "published/alerts"
    else:
        with duckdb.connect(str(zones.warehouse), read_only=True) as con:
            alerts = pl.from_arrow(con.execute("select * from gold.alerts").to_arrow_table())
        source = "warehouse gold.alerts (not published)"
    return alerts.filter(pl.col("status") == "open"), source


def world_of(label: str, zones: Zones) -> str:
    truth = zones.truth
    planted = pl.read_parquet(truth / "planted.parquet")
    manifest = pl.read_parquet(truth / "manifest.parquet")
    return (f"{label}: {manifest['records'].sum():,} records delivered, "
            f"{planted.filter(~pl.col('decoy')).height} positives and {planted.filter(pl.col('decoy')).height} decoys planted")


def main(worlds: list[str]) -> None:
    lines = []
    for world in worlds:
        label, _, lake = world.rpartition("=")
        zones = Zones(lake)
        alerts, source = open_alerts(zones)
        truth, planted = read_truth(zones)
        figures = evaluate(alerts, truth, planted)
        worst = figures.select(pl.min_horizontal("precision", "recall").min()).item()
        lines += [world_of(label or lake, zones), f"alerts from {source}; lowest precision or recall {worst:.3f}, "
                  f"decoys alerted {figures.filter(pl.col('rule_branch') == '*')['decoys_alerted'].sum()}",
                  *render(figures), ""]
    labels = [w.rpartition("=")[0] or w for w in worlds]
    record(TITLE, "worlds: " + "; ".join(labels), lines,
           command="python -m bench.supervision_evaluation " + " ".join(f'"{w}"' for w in worlds))
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1:])
