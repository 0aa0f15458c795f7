"""What bench/end_to_end.py reports about a run: the phase it is in (read from the markers as they
are appended), where its time went, dbt's slowest nodes from the run's run_results.json, and whether
the disk can hold its runs."""
import json

import pytest

from bench.end_to_end import DagsterRun, PhaseTail, breakdown, check_free_disk, slowest_dbt_nodes


def test_phase_tail_follows_the_markers_and_waits_for_whole_lines(tmp_path):
    log = tmp_path / "phases.log"
    tail = PhaseTail(log)
    assert tail.now() == "outside phases"  # no log yet
    log.write_text("enter ingestion village_finance_330100 11\n")
    assert tail.now() == "ingestion village_finance_330100"
    with log.open("a") as out:
        out.write("leave ingestion village_finance_330100 11\nenter dbt_build - 11\nleave dbt_bu")
    assert tail.now() == "dbt_build"  # the half-written "leave" line is not read yet
    with log.open("a") as out:
        out.write("ild - 11\n")
    assert tail.now() == "outside phases"


def test_breakdown_splits_the_wall_time():
    run = DagsterRun("r", 90.0, {"bronze_finance": 12.0, "bronze_registry": 8.0, "warehouse_models": 50.0,
                                 "quality_gates": 5.0, "publication": 2.0, "sensor_tick": 1.0})
    assert breakdown(100.0, run) == (
        "process outside the Dagster run 10.0 s, Dagster between steps 12.0 s, ingestion 20.0 s, "
        "dbt 50.0 s, gates 5.0 s, publication 2.0 s, other steps 1.0 s")


def test_slowest_dbt_nodes_come_from_the_runs_own_run_results(tmp_path):
    folder = tmp_path / "warehouse_models-abcdef1-1234567"
    folder.mkdir()
    results = [{"unique_id": "model.powertrace.relation", "execution_time": 15.25},
               {"unique_id": "model.powertrace.alerts", "execution_time": 1.0},
               {"unique_id": "test.powertrace.unique_relation_relation_key.93", "execution_time": 0.5}]
    (folder / "run_results.json").write_text(json.dumps({"results": results}))
    lines = slowest_dbt_nodes(DagsterRun("r", 1.0, {}, folder), top=2)
    assert lines[0] == "  all nodes: models 16.2 s, tests 0.5 s"
    assert [line.split()[0] for line in lines[1:]] == ["relation", "alerts"]
    assert slowest_dbt_nodes(DagsterRun("r", 1.0, {})) == ["  (no run_results.json for this run)"]
    assert slowest_dbt_nodes(DagsterRun("r", 1.0, {}, tmp_path / "gone")) == ["  (no run_results.json for this run)"]


def test_the_dbt_steps_time_is_split_at_its_first_and_last_node(tmp_path):
    """dbt's start and end, beside its nodes: from the step's times and run_results.json's."""
    folder = tmp_path / "warehouse_models-abcdef1-1234567"
    folder.mkdir()
    results = [{"unique_id": "model.powertrace.as_of_date", "execution_time": 2.0,
                "timing": [{"name": "compile", "started_at": "2026-11-28T09:00:04.000000Z",
                            "completed_at": "2026-11-28T09:00:04.500000Z"},
                           {"name": "execute", "started_at": "2026-11-28T09:00:04.500000Z",
                            "completed_at": "2026-11-28T09:00:06.000000Z"}]},
               {"unique_id": "model.powertrace.alerts", "execution_time": 1.0,
                "timing": [{"name": "execute", "started_at": "2026-11-28T09:00:30.000000Z",
                            "completed_at": "2026-11-28T09:00:31.000000Z"}]}]
    (folder / "run_results.json").write_text(json.dumps({"results": results}))
    start = 1795856400.0  # 2026-11-28T09:00:00Z
    lines = slowest_dbt_nodes(DagsterRun("r", 40.0, {}, folder, (start, start + 32.5)))
    assert lines[1] == "  the dbt step: before its first node 4.0 s, first to last node 27.0 s, after its last node 1.5 s"


def test_the_benchmark_refuses_a_disk_too_small_for_its_runs(tmp_path):
    with pytest.raises(SystemExit, match="GiB free, the runs need about"):
        check_free_disk(tmp_path, landing_gib=10**6, min_free_gib=None)
    check_free_disk(tmp_path, landing_gib=10**6, min_free_gib=0)   # told otherwise
    check_free_disk(tmp_path, landing_gib=0.001, min_free_gib=None)


def test_a_recorded_section_replaces_its_old_one_and_keeps_the_blank_line_before_the_next(tmp_path, monkeypatch):
    from bench import results

    monkeypatch.setattr(results, "RESULTS", tmp_path / "RESULTS.md")
    results.record("First", "s", ["1"], command="c")
    results.record("Second", "s", ["2"], command="c")
    results.record("First", "s", ["one"], command="c")  # re-measured: replaced where it stands
    text = (tmp_path / "RESULTS.md").read_text()
    assert text.index("## First") < text.index("## Second") and "```\n1\n" not in text
    assert "one\n```\n\n## Second" in text


def test_a_recording_says_when_the_code_measured_is_not_the_commit_named(tmp_path):
    import subprocess

    from bench import results

    def git(*args):
        subprocess.run(["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args], cwd=tmp_path,
                       check=True, capture_output=True)

    (tmp_path / "bench").mkdir()
    code, recorded = tmp_path / "model.sql", tmp_path / "bench" / "RESULTS.md"
    code.write_text("select 1\n")
    recorded.write_text("# results\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "one")
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tmp_path, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert results._commit(recorded) == head
    recorded.write_text("# results\n\n## an earlier benchmark of the session\n")   # its own file
    (tmp_path / "lake").mkdir()
    (tmp_path / "lake" / "warehouse.duckdb").write_text("untracked")                 # not code
    assert results._commit(recorded) == head
    code.write_text("select 2\n")
    assert results._commit(recorded) == f"{head} with uncommitted changes"
