"""Evaluating suites against the warehouse, keeping the results, building Data Docs.

Engines (each suite names the engine of each expectation, see expectations/README.md):

- ``gx``: Great Expectations 1.x, pandas engine, over the columns the suite needs (the whole table
  unless the expectation says ``sample``: a reproducible reservoir sample of that many rows).
  GX is imported here only, when a gate runs: never at code-location load.
- ``duckdb``: SQL over the whole table in the warehouse (key uniqueness at SF 10 has no business
  in pandas).
- ``powertrace``: the platform's own rules in Python (the id-number scanner).

A suite passes when every expectation of severity ``error`` succeeds; ``warn`` ones (freshness)
are reported and never block. Each result carries the unexpected count and a sample of
unexpected values, masked where the column may hold personal data.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from orchestration.gates.suites import Expectation, Suite
from orchestration.sql_quoting import sql_identifier, sql_string

log = logging.getLogger(__name__)

SAMPLE_SIZE = 5
# Columns whose values may identify a person: their unexpected values are masked in results.
_PERSONAL = re.compile(r"name|id_number|person|payee|phone|ref|doctor|holder|owner|legal_rep", re.I)


@dataclass
class ExpectationResult:
    suite: str
    table: str
    expectation: str
    engine: str
    severity: str
    success: bool
    sampled_rows: int | None = None
    element_count: int | None = None
    unexpected_count: int | None = None
    observed: str | None = None          # JSON of the observed value (a count, a mean, a list)
    unexpected_sample: str | None = None  # JSON list, masked
    error: str | None = None


@dataclass
class SuiteResult:
    suite: str
    table: str
    relation: str
    on_failure: str
    results: list[ExpectationResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.success for r in self.results if r.severity == "error")

    @property
    def failures(self) -> list[ExpectationResult]:
        return [r for r in self.results if not r.success and r.severity == "error"]

    @property
    def warnings(self) -> list[ExpectationResult]:
        return [r for r in self.results if not r.success and r.severity == "warn"]

    def summary(self) -> str:
        failed = ", ".join(f"{r.expectation} ({r.unexpected_count if r.unexpected_count is not None else r.observed})"
                           for r in self.failures)
        return f"{self.suite}: " + ("passed" if self.passed else f"FAILED {failed}")


@dataclass
class GateContext:
    """What some expectations compare against: the previous run's figures, the as-of date, the
    live supervision models (from the manifest)."""
    run_id: str
    as_of: dt.date | None = None
    previous_rows: dict[str, int] = field(default_factory=dict)
    live_models: list[str] = field(default_factory=list)


def mask(value) -> object:
    """张三丰 -> 张*丰, 33012019630404004X -> 3****************X: enough to recognise, not to identify."""
    if not isinstance(value, str) or len(value) < 2:
        return value
    return value[0] + "*" * max(1, len(value) - 2) + (value[-1] if len(value) > 2 else "")


def _sample(column: str | None, values: list) -> str:
    values = [v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v for v in values[:SAMPLE_SIZE]]
    if column and _PERSONAL.search(column):
        values = [mask(v) for v in values]
    return json.dumps(values, ensure_ascii=False, default=str)


def _literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return sql_string(str(value))


# ---------------------------------------------------------------------------- duckdb engine

def duplicate_keys_sql(relation: str, keys: str) -> str:
    """SQL listing each key (``keys``: one column or several, comma-separated) held by more than one
    row, with its row count ``n``, most repeated first; a null key counts as a key.

    Two passes, because silver keys run to 140 characters (a pseudonym inside) and grouping them
    is most of the gate's time (at SF 1 the six largest tables' key checks took 2.8 s, 2.2 s this
    way; docs/gates.md): first the 8-byte hashes are grouped, then only the rows whose hash
    repeats are grouped by the keys themselves, so a hash collision is never reported as a
    duplicate. Rows of one key share a hash, so every duplicate survives the first pass with all
    its rows: the result equals a plain ``group by ... having count(*) > 1``
    (tests/gates/test_duplicate_keys.py)."""
    return (f"with repeated_hash as (select hash({keys}) as h from {relation} group by h having count(*) > 1) "
            f"select {keys}, count(*) as n from {relation} where hash({keys}) in (select h from repeated_hash) "
            f"group by all having count(*) > 1 order by n desc")


def _duckdb(con, relation: str, e: Expectation, ctx: GateContext, base: dict) -> ExpectationResult:
    col = sql_identifier(e.column) if e.column else None
    total = con.execute(f"select count(*) from {relation}").fetchone()[0]

    def failing(predicate: str) -> ExpectationResult:
        unexpected = con.execute(f"select count(*) from {relation} where {predicate}").fetchone()[0]
        sample = [r[0] for r in con.execute(f"select {col} from {relation} where {predicate} limit {SAMPLE_SIZE}").fetchall()]
        allowed = (1 - (e.mostly or 1.0)) * total
        return ExpectationResult(**base, success=unexpected <= allowed, element_count=total,
                                 unexpected_count=unexpected, unexpected_sample=_sample(e.column, sample))

    def duplicates(keys: str) -> ExpectationResult:
        rows = con.execute(duplicate_keys_sql(relation, keys)).fetchall()
        unexpected = sum(r[-1] for r in rows)
        sample = [r[0] if len(r) == 2 else list(r[:-1]) for r in rows[:SAMPLE_SIZE]]
        return ExpectationResult(**base, success=not rows, element_count=total, unexpected_count=unexpected,
                                 unexpected_sample=_sample(e.column or ",".join(e.column_list or []), sample))

    def between(observed) -> ExpectationResult:
        ok = observed is not None and (e.min_value is None or observed >= e.min_value) and \
            (e.max_value is None or observed <= e.max_value)
        return ExpectationResult(**base, success=ok, element_count=total, observed=json.dumps(observed))

    match e.expect:
        case "expect_column_values_to_not_be_null":
            return failing(f"{col} is null")
        case "expect_column_values_to_be_unique":
            return duplicates(col)
        case "expect_compound_columns_to_be_unique":
            return duplicates(", ".join(sql_identifier(c) for c in e.column_list))
        case "expect_column_values_to_be_in_set":
            return failing(f"{col} is not null and {col} not in ({', '.join(_literal(v) for v in e.value_set)})")
        case "expect_column_values_to_be_between":
            bounds = [f"{col} < {_literal(e.min_value)}" if e.min_value is not None else None,
                      f"{col} > {_literal(e.max_value)}" if e.max_value is not None else None]
            return failing(" or ".join(b for b in bounds if b))
        case "expect_column_mean_to_be_between":
            return between(con.execute(f"select avg(cast({col} as double)) from {relation}").fetchone()[0])
        case "expect_table_row_count_to_be_between":
            return between(total)
        case "expect_table_columns_to_have_types":
            actual = {r[0]: r[1].upper() for r in con.execute(f"describe select * from {relation}").fetchall()}
            wrong = {c: actual.get(c, "missing") for c, t in e.columns.items() if actual.get(c) != t.upper()}
            return ExpectationResult(**base, success=not wrong, element_count=len(e.columns),
                                     unexpected_count=len(wrong), observed=json.dumps(wrong))
        case "expect_row_count_within_band_of_previous_run":
            previous = ctx.previous_rows.get(base["table"])
            ok = previous is None or (abs(total - previous) <= e.band * max(previous, 1))
            return ExpectationResult(**base, success=ok, element_count=total,
                                     observed=json.dumps({"rows": total, "previous_rows": previous}))
        case "expect_every_live_model_to_have_run":
            from orchestration.warehouse import relation_name

            ran = {r[0] for r in con.execute(f"select model_id from {relation_name(e.models_table)}").fetchall()}
            missing = sorted(set(ctx.live_models) - ran)
            return ExpectationResult(**base, success=not missing, element_count=len(ctx.live_models),
                                     unexpected_count=len(missing), observed=json.dumps({"missing": missing}))
        case "expect_table_to_be_fresh":
            latest = con.execute(f"select max({col}) from {relation}").fetchone()[0]
            age = (ctx.as_of - latest).days if latest is not None and ctx.as_of is not None else None
            ok = age is not None and age <= e.max_age_days
            return ExpectationResult(**base, success=ok, element_count=total,
                                     observed=json.dumps({"latest": str(latest), "as_of": str(ctx.as_of), "age_days": age}))
    raise NotImplementedError(f"{e.expect} has no duckdb implementation")


# ---------------------------------------------------------------------------- powertrace engine

def _powertrace(con, relation: str, e: Expectation, ctx: GateContext, base: dict) -> ExpectationResult:
    if e.expect != "expect_no_id_number_in_any_column":
        raise NotImplementedError(f"{e.expect} has no powertrace implementation")
    from orchestration.identity import id_numbers_in, id_shaped_sql

    text_columns = [r[0] for r in con.execute(f"describe select * from {relation}").fetchall() if r[1] == "VARCHAR"]
    hits: list[str] = []
    rows = con.execute(f"select count(*) from {relation}").fetchone()[0]
    if text_columns:
        # one string per row holding every text column: one scan, one regex pass. The separator is
        # not a space: the scanner removes spaces (to find spaced-out ids), which would glue columns.
        # DuckDB hands over only the rows holding an id-shaped token once spaces are gone
        # (id_shaped_sql: any spelling of an id matches it; full-width digits are Unicode digits
        # too): the Python scan, which does the real test, reads a fraction of the text.
        joined = " || '|' || ".join(f"coalesce({sql_identifier(c)}, '')" for c in text_columns)
        cursor = con.execute(f"select text from (select {joined} as text from {relation}) "
                             f"where {id_shaped_sql('text')}")
        while batch := cursor.fetchmany(10_000):
            hits.extend(id_numbers_in("|".join(text for (text,) in batch)))  # rows apart as columns are
    return ExpectationResult(**base, success=not hits, element_count=rows, unexpected_count=len(hits),
                             unexpected_sample=json.dumps([mask(h) for h in hits[:SAMPLE_SIZE]], ensure_ascii=False),
                             observed=json.dumps({"columns_scanned": text_columns}))


# ---------------------------------------------------------------------------- gx engine

def _import_gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations

    return great_expectations


def preload_gx() -> None:
    """Start importing Great Expectations in a background thread (its import takes seconds).

    Called as the dbt build starts: this process mostly waits on dbt's subprocess then, and the
    gate step, which follows dbt, finds GX imported (Python's import lock makes it wait for an
    import still under way). Never at code-location load.
    """
    threading.Thread(target=_import_gx, name="preload-great-expectations", daemon=True).start()


class GxSession:
    """One ephemeral Great Expectations context per gate run, with a Data Docs site on disk,
    built once when the run's suites are validated (``build_docs``): built after each suite,
    the site's templates were compiled again every time (0.35 s per suite here)."""

    def __init__(self, docs_dir: Path):
        gx = _import_gx()

        self.gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = {"globally": False}
        docs_dir.mkdir(parents=True, exist_ok=True)
        self.docs_dir = docs_dir
        self.context.add_data_docs_site(site_name="gates", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})
        self.source = self.context.data_sources.add_pandas("warehouse")
        self._names: dict[str, int] = {}

    def validate(self, name: str, frame, expectations: list[Expectation], run_id: str) -> list[dict]:
        gx = self.gx
        seen = self._names[name] = self._names.get(name, 0) + 1
        name = name if seen == 1 else f"{name}#{seen}"  # GX names are unique per context
        asset = self.source.add_dataframe_asset(name)
        batch = asset.add_batch_definition_whole_dataframe("run")
        suite = self.context.suites.add(gx.ExpectationSuite(name=name))
        for e in expectations:
            cls = getattr(gx.expectations, "".join(p.title() for p in e.expect.split("_")))
            suite.add_expectation(cls(**e.kwargs))
        definition = self.context.validation_definitions.add(gx.ValidationDefinition(data=batch, suite=suite, name=name))
        checkpoint = self.context.checkpoints.add(gx.Checkpoint(name=name, validation_definitions=[definition]))
        from great_expectations.core.run_identifier import RunIdentifier

        result = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=RunIdentifier(run_name=run_id))
        return [r.to_json_dict() for r in next(iter(result.run_results.values())).results]

    def build_docs(self) -> Path:
        """Write the Data Docs site of every suite validated in this session; returns its index."""
        self.context.build_data_docs(site_names=["gates"])
        return self.docs_dir / "index.html"


def _gx(session: GxSession, con, relation: str, suite: Suite, group: list[Expectation], sample: int | None,
        ctx: GateContext, bases: list[dict]) -> list[ExpectationResult]:
    columns = sorted({c for e in group for c in ([e.column] if e.column else []) + (e.column_list or [])})
    select = ", ".join(sql_identifier(c) for c in columns) or "1 as one"
    sampling = f" using sample reservoir({sample} rows) repeatable (7)" if sample else ""
    frame = con.execute(f"select {select} from {relation}{sampling}").df()
    name = f"{suite.name}" + (f"@sample{sample}" if sample else "")
    results = []
    for e, base, raw in zip(group, bases, session.validate(name, frame, group, ctx.run_id)):
        r = raw.get("result", {})
        results.append(ExpectationResult(
            **base, success=bool(raw["success"]), sampled_rows=sample and len(frame),
            element_count=r.get("element_count", len(frame)), unexpected_count=r.get("unexpected_count"),
            observed=json.dumps(r.get("observed_value"), default=str) if "observed_value" in r else None,
            unexpected_sample=_sample(e.column, list(r.get("partial_unexpected_list") or []))))
    return results


# ---------------------------------------------------------------------------- suites

def validate_suite(con, suite: Suite, relation: str, ctx: GateContext, gx_session=None) -> SuiteResult:
    """Evaluate every expectation of ``suite`` on ``relation``; an expectation that cannot be
    evaluated (missing column, engine error) fails with the error in its result."""
    out = SuiteResult(suite=suite.name, table=suite.table, relation=relation, on_failure=suite.on_failure)

    def base(e: Expectation) -> dict:
        return {"suite": suite.name, "table": suite.table, "expectation": e.label, "engine": e.run_engine,
                "severity": e.severity}

    gx_groups: dict[int | None, list[Expectation]] = {}
    for e in suite.expectations:
        if e.run_engine == "gx":
            gx_groups.setdefault(e.sample, []).append(e)
            continue
        run = _duckdb if e.run_engine == "duckdb" else _powertrace
        try:
            out.results.append(run(con, relation, e, ctx, base(e)))
        except Exception as exc:  # a broken table or suite fails its expectation, loudly, not the whole gate
            out.results.append(ExpectationResult(**base(e), success=False, error=f"{type(exc).__name__}: {exc}"))
    for sample, group in gx_groups.items():
        try:
            session = gx_session() if callable(gx_session) else gx_session
            out.results.extend(_gx(session, con, relation, suite, group, sample, ctx, [base(e) for e in group]))
        except Exception as exc:
            out.results.extend(ExpectationResult(**base(e), success=False, error=f"{type(exc).__name__}: {exc}")
                               for e in group)
    return out


def results_frame(run_id: str, evaluated_at: dt.datetime, suite_results: list[SuiteResult]):
    import polars as pl

    rows = [{"run_id": run_id, "evaluated_at": evaluated_at, **asdict(r)} for s in suite_results for r in s.results]
    schema = {"run_id": pl.String, "evaluated_at": pl.Datetime("us", "UTC"), "suite": pl.String, "table": pl.String,
              "expectation": pl.String, "engine": pl.String, "severity": pl.String, "success": pl.Boolean,
              "sampled_rows": pl.Int64, "element_count": pl.Int64, "unexpected_count": pl.Int64,
              "observed": pl.String, "unexpected_sample": pl.String, "error": pl.String}
    return pl.DataFrame(rows, schema=schema)
