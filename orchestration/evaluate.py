"""``powertrace evaluate``: published alerts against the synthetic world's truth (models.md, "Evaluation").

An alert is a true positive when its model_id and primary_key match a truth row of
``<lake>/truth/alerts.parquet`` and its severity is the truth's. Precision and recall are computed
per model (rule_branch ``*``) and per rule branch: an alert or truth row whose rule_branch is
``a,c`` counts for branch ``a`` and for branch ``c``, and a branch's true positives are the keys
that carry the branch on both sides with the right severity. The planted decoys of
``<lake>/truth/planted.parquet`` that alert for their model are counted per model and branch.

Only open alerts count (a resolved alert is one the models no longer produce). Models without
alerts and without truth (a new model in a world that plants nothing for it) appear with empty
figures, so a scaffolded model is visible from its first run.

The figures are printed, written to ``<lake>/evaluation/<as_of>.parquet`` (an evaluation record
for model authors, not a consumer table), and ``--fail-under X`` exits non-zero when a precision
or recall is below X or a decoy alerts.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
import polars as pl

from orchestration.settings import Zones, dbt_target_dir

MODEL_LEVEL = "*"  # rule_branch of the per-model rows
KEY = ["model_id", "primary_key"]
# What "the same alerts" means when two builds are compared (a daily run and a full rebuild,
# DuckDB and Spark): the alert, its severity and its branches.
ALERT_IDENTITY = ["model_id", "primary_key", "severity", "rule_branch"]
EVALUATION_SCHEMA = {
    "as_of": pl.Date, "model_id": pl.Utf8, "rule_branch": pl.Utf8, "alerts": pl.Int64, "truth": pl.Int64,
    "true_positives": pl.Int64, "precision": pl.Float64, "recall": pl.Float64, "decoys_alerted": pl.Int64,
}


# --------------------------------------------------------------------------- the figures
def _by_branch(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per (model_id, primary_key, branch): 'a,c' becomes a row for a and one for c."""
    return (frame.with_columns(pl.col("rule_branch").str.split(","))
            .explode("rule_branch").with_columns(pl.col("rule_branch").str.strip_chars()))


def _counts(alerts: pl.DataFrame, truth: pl.DataFrame, decoys: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """alerts, truth, true_positives and decoys_alerted per ``by`` (model_id, maybe rule_branch)."""
    joined = alerts.join(truth, on=[*KEY, *by[1:]], how="inner", suffix="_truth")
    true_positives = joined.filter(pl.col("severity") == pl.col("severity_truth")).group_by(by).len("true_positives")
    alerted_decoys = alerts.join(decoys, on=[*KEY, *by[1:]], how="semi").group_by(by).len("decoys_alerted")
    groups = pl.concat([alerts.select(by), truth.select(by)]).unique()
    return (groups
            .join(alerts.group_by(by).len("alerts"), on=by, how="left")
            .join(truth.group_by(by).len("truth"), on=by, how="left")
            .join(true_positives, on=by, how="left")
            .join(alerted_decoys, on=by, how="left")
            .with_columns(pl.col("alerts", "truth", "true_positives", "decoys_alerted").fill_null(0).cast(pl.Int64)))


def evaluate(alerts: pl.DataFrame, truth: pl.DataFrame, planted: pl.DataFrame,
             models: list[str] = ()) -> pl.DataFrame:
    """Precision and recall per model (rule_branch '*') and per rule branch.

    ``alerts`` and ``truth`` have model_id, rule_branch, primary_key, severity; ``planted`` also
    has decoy. ``models``: model ids to list even without alerts or truth. Precision is null
    without alerts, recall null without truth.
    """
    cols = ["model_id", "rule_branch", "primary_key", "severity"]
    alerts, truth = alerts.select(cols), truth.select(cols)
    decoys = planted.filter(pl.col("decoy")).select(KEY + ["rule_branch"])
    # a decoy imitates one branch; at model level, any alert on its key is a decoy alerted
    per_model = _counts(alerts, truth, decoys.select(KEY).unique(), ["model_id"]).with_columns(
        rule_branch=pl.lit(MODEL_LEVEL))
    per_branch = _counts(_by_branch(alerts), _by_branch(truth), decoys, ["model_id", "rule_branch"])
    out = pl.concat([per_model.select(per_branch.columns), per_branch], how="vertical")
    unseen = sorted(set(models) - set(out["model_id"].to_list()))
    if unseen:
        empty = pl.DataFrame({"model_id": unseen, "rule_branch": MODEL_LEVEL}).with_columns(
            *(pl.lit(0, pl.Int64).alias(c) for c in ("alerts", "truth", "true_positives", "decoys_alerted")))
        out = pl.concat([out, empty.select(out.columns)])
    return (out.with_columns(
                precision=pl.when(pl.col("alerts") > 0).then(pl.col("true_positives") / pl.col("alerts")),
                recall=pl.when(pl.col("truth") > 0).then(pl.col("true_positives") / pl.col("truth")))
            .sort("model_id", pl.col("rule_branch") != MODEL_LEVEL, "rule_branch"))


def failures(figures: pl.DataFrame, fail_under: float) -> list[str]:
    """Every row whose precision or recall is below ``fail_under``, and every decoy alerted."""
    problems = []
    for row in figures.iter_rows(named=True):
        where = f"{row['model_id']} {row['rule_branch']}"
        for measure in ("precision", "recall"):
            if row[measure] is not None and row[measure] < fail_under:
                problems.append(f"{where}: {measure} {row[measure]:.3f} < {fail_under}")
        if row["decoys_alerted"]:
            problems.append(f"{where}: {row['decoys_alerted']} decoy(s) alerted")
    return problems


def render(figures: pl.DataFrame) -> list[str]:
    """The figures as aligned text lines (one per model and branch)."""
    def pct(value):
        return "   -  " if value is None else f"{value:6.3f}"
    lines = [f"{'model':<6} {'branch':<14} {'alerts':>7} {'truth':>7} {'TP':>7} {'precision':>9} {'recall':>7} {'decoys':>6}"]
    for r in figures.iter_rows(named=True):
        lines.append(f"{r['model_id']:<6} {r['rule_branch']:<14} {r['alerts']:>7} {r['truth']:>7} "
                     f"{r['true_positives']:>7} {pct(r['precision']):>9} {pct(r['recall']):>7} {r['decoys_alerted']:>6}")
    return lines


# --------------------------------------------------------------------------- the lake
def manifest_model_ids(manifest: Path | None = None) -> list[str]:
    """model_id of every supervision model in dbt's manifest (empty when it is not prepared)."""
    path = manifest or dbt_target_dir() / "manifest.json"
    if not path.exists():
        return []
    nodes = json.loads(path.read_text())["nodes"].values()
    return sorted({n["config"]["meta"]["model_id"] for n in nodes
                   if n["resource_type"] == "model" and n.get("config", {}).get("meta", {}).get("model_id")})


def read_published_alerts(zones: Zones) -> pl.DataFrame:
    path = zones.published / "alerts"
    if not (path / "_delta_log").exists():
        raise click.ClickException(f"no published alerts at {path}: run `powertrace run` first")
    alerts = pl.read_delta(str(path))
    return alerts.filter(pl.col("status") == "open") if "status" in alerts.columns else alerts


def read_truth(zones: Zones) -> tuple[pl.DataFrame, pl.DataFrame]:
    paths = [zones.truth / "alerts.parquet", zones.truth / "planted.parquet"]
    for path in paths:
        if not path.exists():
            raise click.ClickException(f"no truth at {path}: evaluate needs a lake generated by `powertrace generate`")
    return pl.read_parquet(paths[0]), pl.read_parquet(paths[1])


def as_of_of(alerts: pl.DataFrame, zones: Zones) -> dt.date:
    """The as-of date evaluated: the alerts' latest detection, else the last delivered batch."""
    if "last_detected_as_of" in alerts.columns and alerts.height:
        return alerts["last_detected_as_of"].max()
    manifest = zones.truth / "manifest.parquet"
    return pl.read_parquet(manifest)["batch_date"].max() if manifest.exists() else dt.date.today()


def write_evaluation(zones: Zones, figures: pl.DataFrame, as_of: dt.date) -> Path:
    target = zones.root / "evaluation" / f"{as_of.isoformat()}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    figures.with_columns(as_of=pl.lit(as_of)).select(list(EVALUATION_SCHEMA)).cast(EVALUATION_SCHEMA).write_parquet(target)
    return target


def run_evaluation(zones: Zones) -> tuple[pl.DataFrame, dt.date, Path]:
    """Evaluate the lake's published alerts; returns (figures, as_of, file written)."""
    alerts = read_published_alerts(zones)
    truth, planted = read_truth(zones)
    figures = evaluate(alerts, truth, planted, manifest_model_ids())
    as_of = as_of_of(alerts, zones)
    return figures, as_of, write_evaluation(zones, figures, as_of)


@click.command("evaluate")
@click.option("--fail-under", type=float, default=None,
              help="Exit non-zero when a model's or branch's precision or recall is below this, or a decoy alerts.")
@click.pass_context
def evaluate_command(ctx: click.Context, fail_under: float | None) -> None:
    """Precision and recall of the published alerts against the world's truth, per model and rule branch."""
    zones = Zones(ctx.obj["lake"])
    figures, as_of, path = run_evaluation(zones)
    click.echo(f"evaluation as of {as_of} ({path})")
    click.echo("\n".join(render(figures)))
    if fail_under is not None:
        problems = failures(figures, fail_under)
        if problems:
            click.echo(f"FAILED (--fail-under {fail_under}):\n  " + "\n  ".join(problems), err=True)
            raise SystemExit(1)
        click.echo(f"every precision and recall >= {fail_under}, no decoy alerted")
