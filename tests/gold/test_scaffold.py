"""`powertrace new-model`: what the scaffold writes and what it refuses (the dbt side is exercised
end to end in test_gold_pipeline.py)."""
from __future__ import annotations

import shutil

import pytest
import yaml
from click.testing import CliRunner

from orchestration.scaffold import DOMAINS, scaffold
from orchestration.settings import DBT_PROJECT_DIR


@pytest.fixture
def dbt_dir(tmp_path):
    target = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, target, ignore=shutil.ignore_patterns("target", "logs", "sources", "generated"))
    return target


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_every_domain_gets_a_model_a_shadow_yaml_and_a_unit_test(dbt_dir, domain):
    sql, yml, seed = scaffold("SM11", domain, "ring", author="tester", dbt_dir=dbt_dir)
    assert sql == dbt_dir / "models" / "gold" / domain / "sm11_ring.sql"
    text = sql.read_text()
    assert "{{ alert_contract('findings') }}" in text and f"ref('{DOMAINS[domain].entity}')" in text
    doc = yaml.safe_load(yml.read_text())
    meta = doc["models"][0]["config"]["meta"]
    assert (meta["model_id"], meta["domain"], meta["mode"], meta["author"]) == ("SM11", domain, "shadow", "tester")
    test = doc["unit_tests"][0]
    assert test["model"] == "sm11_ring" and len(test["expect"]["rows"]) == 1
    assert {g["input"] for g in test["given"]} == {f"ref('{DOMAINS[domain].entity}')", "ref('model_thresholds')"}
    assert seed.read_text().splitlines()[-2:] == ["SM11,enabled,330000,1", "SM11,example_min_amount,330000,1000000"]


def test_refuses_an_existing_model_and_bad_names(dbt_dir):
    with pytest.raises(ValueError, match="SM03 exists already"):
        scaffold("SM03", "village", "again", dbt_dir=dbt_dir)
    with pytest.raises(ValueError, match="expected SM followed by digits"):
        scaffold("X11", "village", dbt_dir=dbt_dir)
    with pytest.raises(ValueError, match="domain 'sports'"):
        scaffold("SM11", "sports", dbt_dir=dbt_dir)
    with pytest.raises(ValueError, match="lowercase"):
        scaffold("SM11", "village", "Bad-Name", dbt_dir=dbt_dir)


def test_cli_reports_refusals_clearly():
    from orchestration.cli import main

    result = CliRunner().invoke(main, ["new-model", "SM03", "--domain", "village"])
    assert result.exit_code != 0 and "SM03 exists already" in result.output
