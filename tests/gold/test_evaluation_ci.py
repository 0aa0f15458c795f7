"""CI: the whole pipeline on the SF 0.01 world of seed 7 (not the development seed 20261127), then
`powertrace evaluate --fail-under 0.95`: every model and rule branch at precision and recall
>= 0.95, severity included, and no planted decoy alerted."""
from __future__ import annotations

import shutil

import polars as pl
import pytest
from click.testing import CliRunner

from orchestration.cli import main

pytestmark = pytest.mark.slow  # a full `powertrace run` (several minutes on two cores)


@pytest.fixture(scope="module")
def evaluated(small_world, tmp_path_factory):
    lake = tmp_path_factory.mktemp("evaluated")
    for zone in ("landing", "truth"):
        shutil.copytree(small_world / zone, lake / zone)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(tmp_path_factory.mktemp("dagster_home")))
        ran = CliRunner().invoke(main, ["--lake", str(lake), "run"])
    assert ran.exit_code == 0, ran.output[-3000:]
    return lake, CliRunner().invoke(main, ["--lake", str(lake), "evaluate", "--fail-under", "0.95"])


def test_every_model_and_branch_passes_the_bar(evaluated):
    _, result = evaluated
    assert result.exit_code == 0, result.output[-4000:]


def test_every_model_of_the_catalogue_is_evaluated(evaluated):
    lake, _ = evaluated
    written = pl.read_parquet(next((lake / "evaluation").glob("*.parquet")))
    per_model = written.filter(pl.col("rule_branch") == "*")
    assert {f"SM{n:02d}" for n in range(1, 11)} <= set(per_model["model_id"])
    assert per_model.filter(pl.col("truth") > 0).height >= 10
