"""``powertrace onboard``: writes into the registry under POWERTRACE_SOURCES, never over a file."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.contracts import load_contract, load_registry
from onboarding_samples import ids, write_csv


@pytest.fixture
def sources(tmp_path, monkeypatch):
    root = tmp_path / "sources"
    root.mkdir()
    monkeypatch.setenv("POWERTRACE_SOURCES", str(root))
    return root


@pytest.fixture
def death_batch(batch):
    people = ids(20)
    write_csv(batch / "swxx.csv", ["证明编号", "身份证号码", "死亡日期"],
              [[f"SW{i}", people[i], f"2026-09-{1 + i:02d}"] for i in range(20)], encoding="gbk")
    return batch


def onboard(*args: str):
    return CliRunner().invoke(main, ["onboard", *args], catch_exceptions=False)


def test_writes_the_draft_into_the_registry_and_prints_a_review_summary(sources, death_batch):
    result = onboard(str(death_batch), "--system-id", "death_registry_330100", "--department", "杭州市卫健委")
    assert result.exit_code == 0, result.output
    path = sources / "city" / "death_registry" / "death_registry_330100.yml"
    contract = load_contract(path)
    assert contract.department == "杭州市卫健委"
    assert contract.tables["death"].mappings[0].columns["身份证号码"].column == "id_number"
    assert "身份证号码" in result.stderr and "-> id_number" in result.stderr
    assert f"wrote {path}" in result.stderr
    assert "death_registry_330100" in load_registry(sources)  # the registry picks it up as is


def test_refuses_to_overwrite_without_force(sources, death_batch):
    args = [str(death_batch), "--system-id", "death_registry_330100"]
    assert onboard(*args).exit_code == 0
    path = sources / "city" / "death_registry" / "death_registry_330100.yml"
    path.write_text(path.read_text(encoding="utf-8") + "# edited by hand\n", encoding="utf-8")
    refused = onboard(*args)
    assert refused.exit_code != 0 and "exists; pass --force" in refused.output
    assert path.read_text(encoding="utf-8").endswith("# edited by hand\n")
    assert onboard(*args, "--force").exit_code == 0
    assert "# edited by hand" not in path.read_text(encoding="utf-8")


def test_refuses_a_system_id_registered_elsewhere(sources, death_batch):
    assert onboard(str(death_batch), "--system-id", "death_registry_330100").exit_code == 0
    clash = onboard(str(death_batch), "--system-id", "death_registry_330100", "--level", "province")
    assert clash.exit_code != 0 and "already registered" in clash.output


def test_standard_mode_and_stdout(sources, batch):
    write_csv(batch / "death.csv", ["id_number", "death_date", "source_ref"], [[ids(1)[0], "2026-09-01", "R1"]])
    result = onboard(str(batch), "--system-id", "std_exchange_330000", "--standard", "--stdout")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Contract of a standard exchange delivery")
    assert "kind: standard_exchange" in result.stdout and "REVIEW" not in result.stdout
    assert not any(sources.rglob("*.yml"))
    assert onboard(str(batch), "--system-id", "std_exchange_330000", "--standard").exit_code == 0
    assert load_contract(sources / "province" / "standard_exchange" / "std_exchange_330000.yml")


def test_output_path_and_bad_input_errors(sources, death_batch, tmp_path):
    out = tmp_path / "draft" / "death_registry_330100.yml"
    assert onboard(str(death_batch), "--system-id", "death_registry_330100", "--output", str(out)).exit_code == 0
    assert load_contract(out).system_id == "death_registry_330100"
    bad_id = onboard(str(death_batch), "--system-id", "Bad-Id")
    assert bad_id.exit_code == 2 and "--system-id" in bad_id.output
    wrong = onboard(str(death_batch), "--system-id", "std_exchange_330000", "--standard")
    assert wrong.exit_code == 1 and "not a canonical entity" in wrong.output
