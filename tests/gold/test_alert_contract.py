"""The alert contract held by the alert_contract macro as a model's alerts are written: a finding
without a primary_key, or a key whose findings carry no severity red or yellow, fails that model
with an error naming the model and the key (the supervision models' YAML carries no data tests
for them). Three throw-away models over literal findings, built with the seed they read."""
from __future__ import annotations

import duckdb
import pytest

MODELS = {
    # name: the findings' rows (primary_key, rule_branch, severity)
    "sm91_keyless": "('prt:A', 'a', 'red'), (null, 'b', 'yellow')",
    "sm92_orange": "('prt:A', 'a', 'red'), ('prt:B', 'a', 'orange')",
    "sm93_sound": "('prt:A', 'a', 'yellow'), ('prt:A', 'b', 'red'), ('prt:B', 'a', 'yellow')",
}


def _sql(rows: str) -> str:
    return f"""with findings as (
    select primary_key, rule_branch, severity, '330102' as region_code, cast(null as varchar) as subject_ref,
           cast(null as date) as event_date, cast(null as decimal(18, 2)) as amount,
           {{{{ json_obj(branch='rule_branch') }}}} as evidence
    from (values {rows}) as f(primary_key, rule_branch, severity)
)

{{{{ alert_contract('findings') }}}}
"""


def _yml(name: str) -> str:
    model_id = name.split("_")[0].upper()
    return f"""version: 2
models:
  - name: {name}
    config:
      tags: [supervision_model]
      meta: {{model_id: {model_id}, version: 0.0.1, name_zh: 测试, domain: bidding, severity: red, mode: shadow}}
"""


@pytest.fixture(scope="module")
def built(project_copy, tmp_path_factory):
    folder = project_copy.dir / "models" / "gold" / "bidding"
    for name, rows in MODELS.items():
        (folder / f"{name}.sql").write_text(_sql(rows))
        (folder / f"{name}.yml").write_text(_yml(name))
    project_copy.prepare()
    lake = tmp_path_factory.mktemp("lake")
    failures = project_copy.dbt_failures(lake, "build", "-s", "model_thresholds", *MODELS)
    return failures, lake


def test_a_finding_without_primary_key_fails_its_model_naming_it(built):
    failures, _ = built
    assert "SM91: a finding without a primary_key" in failures["sm91_keyless"]


def test_a_severity_outside_red_and_yellow_fails_its_model_naming_the_key(built):
    failures, _ = built
    assert "SM92: the findings of primary_key prt:B carry no severity red or yellow" in failures["sm92_orange"]


def test_sound_findings_make_one_alert_per_key_with_the_highest_severity(built):
    failures, lake = built
    assert set(failures) == {"sm91_keyless", "sm92_orange"}
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("select primary_key, rule_branch, severity from gold.sm93_sound order by 1").fetchall()
    assert rows == [("prt:A", "a,b", "red"), ("prt:B", "a", "yellow")]
