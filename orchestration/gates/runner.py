"""One gate run: every suite against the warehouse, results appended to ``<lake>/gates/results``.

Publication reads the results of its own run from that table (``results_of_run``) to decide
what it may publish; ``powertrace gates`` and the Dagster UI show the same figures. Data Docs
are written to ``<lake>/gates/data_docs/index.html``.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import polars as pl

from orchestration.gates.suites import Suite, suites
from orchestration.gates.validate import GateContext, GxSession, SuiteResult, results_frame, validate_suite
from orchestration.settings import Zones

BAND_EXPECTATION = "expect_row_count_within_band_of_previous_run"


def results_path(zones: Zones) -> Path:
    return zones.gates / "results"


def data_docs_index(zones: Zones) -> Path:
    return zones.gates / "data_docs" / "index.html"


def read_results(zones: Zones) -> pl.DataFrame | None:
    path = results_path(zones)
    return pl.read_delta(str(path)) if (path / "_delta_log").exists() else None


def results_of_run(zones: Zones, run_id: str) -> pl.DataFrame | None:
    """The gate results of one run, or None when that run evaluated no gate."""
    results = read_results(zones)
    if results is None:
        return None
    results = results.filter(pl.col("run_id") == run_id)
    return results if results.height else None


def failed_tables(results: pl.DataFrame | None) -> set[str]:
    """Tables whose suite failed (an error-severity expectation did not succeed)."""
    if results is None:
        return set()
    failed = results.filter((pl.col("severity") == "error") & ~pl.col("success"))
    return set(failed["table"].unique().to_list())


def _previous_rows(zones: Zones, run_id: str) -> dict[str, int]:
    """Per table, the row count the latest earlier gate run observed."""
    results = read_results(zones)
    if results is None:
        return {}
    rows = (results.filter((pl.col("run_id") != run_id) & pl.col("expectation").str.starts_with(BAND_EXPECTATION))
            .sort("evaluated_at").group_by("table").last())
    return {t: pl.Series([o]).str.json_decode().struct.field("rows")[0] for t, o in rows.select("table", "observed").iter_rows()}


def gate_context(zones: Zones, con, run_id: str) -> GateContext:
    from orchestration.warehouse import relation_name, supervision_models

    as_of = con.execute(f"select as_of_date from {relation_name('as_of_date')}").fetchone()[0]
    live = sorted(m["model_id"] for m in supervision_models().values() if m.get("mode") == "live")
    return GateContext(run_id=run_id, as_of=as_of, previous_rows=_previous_rows(zones, run_id), live_models=live)


def run_gates(zones: Zones, run_id: str, tables: list[str] | None = None,
              log: Callable[[str], None] = print) -> dict[str, SuiteResult]:
    """Evaluate the suites of ``tables`` (default: all) and append their results; returns them by table."""
    from deltalake import write_deltalake

    from orchestration.warehouse import connect_readonly, relation_name

    chosen: list[Suite] = [s for t, s in suites().items() if tables is None or t in tables]
    session: GxSession | None = None

    def gx_session() -> GxSession:
        nonlocal session
        if session is None:
            log("gates: starting Great Expectations")
            session = GxSession(data_docs_index(zones).parent)
        return session

    out: dict[str, SuiteResult] = {}
    with connect_readonly(zones.warehouse) as con:
        ctx = gate_context(zones, con, run_id)
        for suite in chosen:
            result = validate_suite(con, suite, relation_name(suite.table), ctx, gx_session)
            out[suite.table] = result
            log(f"gate {result.summary()}")
            for w in result.warnings:
                log(f"gate {suite.name}: WARNING {w.expectation}: {w.observed}")
    if session is not None:
        session.build_docs()
    frame = results_frame(run_id, dt.datetime.now(dt.timezone.utc), list(out.values()))
    path = results_path(zones)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(str(path), frame.to_arrow(), mode="append")
    return out
