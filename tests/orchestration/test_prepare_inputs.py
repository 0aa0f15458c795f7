"""`powertrace prepare` regenerates and re-parses when what the manifest depends on changed: the
dbt project, the contracts, the canonical model and the generator itself; not when only its own
output (the generated sources) changed."""
from __future__ import annotations

import orchestration.settings as settings
from orchestration import run_cli


def test_the_fingerprint_follows_the_inputs_and_the_generator(tmp_path, monkeypatch):
    files = {"dbt_project/models/silver/bid.sql": "select 1", "dbt_project/models/sources/pension.yml": "a",
             "orchestration/sources/pension.yaml": "b", "orchestration/canonical/entities.yaml": "c",
             "orchestration/dbt_sources.py": "LOCATION = 1"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(settings, "PROJECT_DIR", tmp_path)
    before = run_cli.project_fingerprint()

    (tmp_path / "dbt_project/models/sources/pension.yml").write_text("regenerated")
    assert run_cli.project_fingerprint() == before
    for name in ("orchestration/dbt_sources.py", "dbt_project/models/silver/bid.sql",
                 "orchestration/sources/pension.yaml", "orchestration/canonical/entities.yaml"):
        (tmp_path / name).write_text("changed")
        after = run_cli.project_fingerprint()
        assert after != before, name
        before = after
