"""`powertrace evaluate`: precision and recall per model and rule branch, severity included."""
from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.evaluate import MODEL_LEVEL, evaluate, failures

COLUMNS = ["model_id", "rule_branch", "primary_key", "severity"]


def frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=COLUMNS, orient="row")


TRUTH = frame([("SM01", "a", "k1", "red"), ("SM01", "a,c", "k2", "red"), ("SM02", "b", "k3", "yellow")])
PLANTED = pl.DataFrame({"model_id": ["SM02"], "rule_branch": ["b"], "primary_key": ["decoy"], "severity": [None],
                        "decoy": [True], "note": ["split parts outside the window"]},
                       schema_overrides={"severity": pl.Utf8})


def figures_of(alerts: pl.DataFrame, models=()) -> dict[tuple[str, str], dict]:
    result = evaluate(alerts, TRUTH, PLANTED, list(models))
    return {(r["model_id"], r["rule_branch"]): r for r in result.iter_rows(named=True)}


def test_perfect_alerts_score_one_everywhere():
    figures = figures_of(TRUTH)
    assert {key: (r["precision"], r["recall"]) for key, r in figures.items()} == {
        ("SM01", MODEL_LEVEL): (1.0, 1.0), ("SM01", "a"): (1.0, 1.0), ("SM01", "c"): (1.0, 1.0),
        ("SM02", MODEL_LEVEL): (1.0, 1.0), ("SM02", "b"): (1.0, 1.0)}
    assert failures(evaluate(TRUTH, TRUTH, PLANTED), 0.95) == []


def test_a_true_positive_needs_the_severity():
    figures = figures_of(frame([("SM01", "a", "k1", "red"), ("SM01", "a,c", "k2", "red"),
                                ("SM02", "b", "k3", "red")]))
    assert figures[("SM02", MODEL_LEVEL)]["true_positives"] == 0
    assert figures[("SM02", "b")]["recall"] == 0.0


def test_branches_are_scored_apart():
    # k2 alerts on c only: branch a misses it, branch c finds it, the model finds both keys
    figures = figures_of(frame([("SM01", "a", "k1", "red"), ("SM01", "c", "k2", "red"), ("SM02", "b", "k3", "yellow")]))
    assert figures[("SM01", "a")]["recall"] == 0.5
    assert figures[("SM01", "c")]["recall"] == 1.0
    assert figures[("SM01", MODEL_LEVEL)]["recall"] == 1.0


def test_decoys_and_false_positives_are_counted():
    alerts = pl.concat([TRUTH, frame([("SM02", "b", "decoy", "yellow")])])
    figures = figures_of(alerts)
    assert figures[("SM02", "b")]["decoys_alerted"] == 1
    assert figures[("SM02", "b")]["precision"] == 0.5
    problems = failures(evaluate(alerts, TRUTH, PLANTED), 0.95)
    assert "SM02 b: precision 0.500 < 0.95" in problems
    assert "SM02 b: 1 decoy(s) alerted" in problems


def test_a_model_without_alerts_nor_truth_is_listed():
    figures = figures_of(TRUTH, models=["SM11"])
    assert figures[("SM11", MODEL_LEVEL)]["alerts"] == 0
    assert figures[("SM11", MODEL_LEVEL)]["precision"] is None


@pytest.fixture
def lake(tmp_path):
    """A lake with truth and published alerts (one of them resolved, which evaluate ignores)."""
    (tmp_path / "truth").mkdir()
    TRUTH.write_parquet(tmp_path / "truth" / "alerts.parquet")
    PLANTED.write_parquet(tmp_path / "truth" / "planted.parquet")
    return tmp_path


def publish(lake, alerts: pl.DataFrame) -> None:
    as_of = dt.date(2026, 10, 31)
    alerts.with_columns(status=pl.lit("open"), last_detected_as_of=pl.lit(as_of)).write_delta(
        str(lake / "published" / "alerts"), mode="overwrite")


def test_cli_writes_the_evaluation_and_fails_under_the_bar(lake):
    resolved = frame([("SM01", "a", "stale", "red")]).with_columns(
        status=pl.lit("resolved"), last_detected_as_of=pl.lit(dt.date(2026, 10, 2)))
    publish(lake, TRUTH)
    pl.concat([pl.read_delta(str(lake / "published" / "alerts")), resolved], how="diagonal").write_delta(
        str(lake / "published" / "alerts"), mode="overwrite")
    ok = CliRunner().invoke(main, ["--lake", str(lake), "evaluate", "--fail-under", "0.95"])
    assert ok.exit_code == 0, ok.output
    written = pl.read_parquet(lake / "evaluation" / "2026-10-31.parquet")
    assert set(written["model_id"]) >= {"SM01", "SM02"} and written["precision"].min() == 1.0

    publish(lake, TRUTH.head(2))
    bad = CliRunner().invoke(main, ["--lake", str(lake), "evaluate", "--fail-under", "0.95"])
    assert bad.exit_code == 1
    assert "SM02 b: recall 0.000 < 0.95" in bad.output
