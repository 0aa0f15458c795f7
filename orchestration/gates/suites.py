"""Expectation suites: one YAML file per gated table under ``expectations/<layer>/<table>.yml``.

A suite is read by data engineers, not programmers (reference: expectations/README.md). This module
validates it at load, so a typo fails with the file, the expectation's position and the field,
never halfway through a run.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from orchestration.settings import EXPECTATIONS_DIR
from orchestration.yaml_files import load_yaml

Engine = Literal["gx", "duckdb", "powertrace"]

# Every expectation a suite may name: the engines that can run it (the first is the default), the
# arguments it needs and those it accepts. Names starting with expect_ and found in Great
# Expectations keep GX's meaning and arguments; the others are this platform's own.
CATALOGUE: dict[str, dict[str, Any]] = {
    "expect_column_values_to_not_be_null": {"engines": ("gx", "duckdb"), "needs": ("column",), "takes": ("mostly",)},
    "expect_column_values_to_be_unique": {"engines": ("duckdb", "gx"), "needs": ("column",), "takes": ()},
    "expect_compound_columns_to_be_unique": {"engines": ("duckdb", "gx"), "needs": ("column_list",), "takes": ()},
    "expect_column_values_to_be_in_set": {"engines": ("gx", "duckdb"), "needs": ("column", "value_set"),
                                          "takes": ("mostly",)},
    "expect_column_values_to_be_between": {"engines": ("gx", "duckdb"), "needs": ("column",),
                                           "takes": ("min_value", "max_value", "mostly")},
    "expect_column_mean_to_be_between": {"engines": ("gx", "duckdb"), "needs": ("column",),
                                         "takes": ("min_value", "max_value")},
    "expect_table_row_count_to_be_between": {"engines": ("duckdb", "gx"), "needs": (),
                                             "takes": ("min_value", "max_value")},
    # platform expectations
    "expect_table_columns_to_have_types": {"engines": ("duckdb",), "needs": ("columns",), "takes": ()},
    "expect_row_count_within_band_of_previous_run": {"engines": ("duckdb",), "needs": ("band",), "takes": ()},
    "expect_no_id_number_in_any_column": {"engines": ("powertrace",), "needs": (), "takes": ()},
    "expect_every_live_model_to_have_run": {"engines": ("duckdb",), "needs": ("models_table",), "takes": ()},
    "expect_table_to_be_fresh": {"engines": ("duckdb",), "needs": ("column", "max_age_days"), "takes": ()},
}
# Freshness warns and never blocks (an old but correct batch must not stop publication).
WARN_ONLY = {"expect_table_to_be_fresh"}
ARGUMENTS = {"column", "column_list", "value_set", "min_value", "max_value", "mostly", "columns", "band",
             "models_table", "max_age_days"}


class Expectation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    expect: str
    engine: Engine | None = Field(None, description="who evaluates it; default: the first engine of the catalogue")
    sample: int | None = Field(None, gt=0, description="gx only: validate a reproducible sample of this many rows")
    severity: Literal["error", "warn"] = "error"
    why: str | None = None
    column: str | None = None
    column_list: list[str] | None = None
    value_set: list[Any] | None = None
    min_value: float | None = None
    max_value: float | None = None
    mostly: float | None = Field(None, gt=0, le=1)
    columns: dict[str, str] | None = None
    band: float | None = Field(None, gt=0)
    models_table: str | None = None
    max_age_days: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _known_and_complete(self) -> Expectation:
        entry = CATALOGUE.get(self.expect)
        if entry is None:
            raise ValueError(f"unknown expectation {self.expect!r}; known: {', '.join(sorted(CATALOGUE))}")
        given = {a for a in ARGUMENTS if getattr(self, a) is not None}
        missing = [a for a in entry["needs"] if a not in given]
        extra = sorted(given - set(entry["needs"]) - set(entry["takes"]))
        if missing:
            raise ValueError(f"{self.expect} needs {', '.join(missing)}")
        if extra:
            raise ValueError(f"{self.expect} does not take {', '.join(extra)}")
        if self.engine is not None and self.engine not in entry["engines"]:
            raise ValueError(f"{self.expect} runs on {' or '.join(entry['engines'])}, not {self.engine}")
        if self.sample is not None and self.run_engine != "gx":
            raise ValueError("sample applies to the gx engine only (duckdb and powertrace read the whole table)")
        if self.expect in WARN_ONLY and self.severity != "warn":
            object.__setattr__(self, "severity", "warn")
        return self

    @property
    def run_engine(self) -> str:
        return self.engine or CATALOGUE[self.expect]["engines"][0]

    @property
    def kwargs(self) -> dict[str, Any]:
        """The expectation's own arguments (what Great Expectations or the SQL needs)."""
        return {a: getattr(self, a) for a in sorted(ARGUMENTS) if getattr(self, a) is not None}

    @property
    def label(self) -> str:
        target = self.column or (",".join(self.column_list) if self.column_list else "table")
        return f"{self.expect}({target})"


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str = Field(description="the dbt model whose warehouse relation is validated")
    description: str | None = None
    on_failure: Literal["hold_readers", "hold_all"] = Field(
        "hold_readers", description="hold_readers: the published tables and models that read this table keep "
                                    "their last good publication; hold_all: nothing is published")
    engine: Engine | None = Field(
        None, description="default engine of this suite's expectations that can run on it (an expectation's own "
                          "engine or sample wins)")
    expectations: list[Expectation]
    path: Path | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _suite_engine(self) -> Suite:
        if self.engine is not None:
            object.__setattr__(self, "expectations", [
                e.model_copy(update={"engine": self.engine})
                if e.engine is None and e.sample is None and self.engine in CATALOGUE[e.expect]["engines"] else e
                for e in self.expectations])
        return self

    @property
    def name(self) -> str:
        return f"{self.path.parent.name}.{self.table}" if self.path else self.table

    @property
    def blocking(self) -> list[Expectation]:
        return [e for e in self.expectations if e.severity == "error"]


class SuiteError(ValueError):
    """A suite file that cannot be used; the message names the file and the field."""


def load_suite(path: Path) -> Suite:
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SuiteError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SuiteError(f"{path}: a suite is a mapping with table and expectations")
    try:
        suite = Suite(**data, path=path)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            if err["loc"][:1] == ("expectations",) and len(err["loc"]) > 1:
                index = err["loc"][1]
                entry = data["expectations"][index] if isinstance(data.get("expectations"), list) else {}
                name = entry.get("expect", "?") if isinstance(entry, dict) else "?"
                where = f"expectations[{index}] ({name})" + ("." + ".".join(map(str, err["loc"][2:])) if err["loc"][2:] else "")
            problems.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
        raise SuiteError(f"{path}: " + "; ".join(problems)) from None
    if suite.table != path.stem:
        raise SuiteError(f"{path}: table {suite.table!r} must match the file name ({path.stem}.yml)")
    return suite


@cache
def suites(folder: Path = EXPECTATIONS_DIR) -> dict[str, Suite]:
    """Every suite under ``folder``, keyed by the dbt model it gates."""
    found: dict[str, Suite] = {}
    for path in sorted(folder.rglob("*.yml")):
        suite = load_suite(path)
        if suite.table in found:
            raise SuiteError(f"{path}: table {suite.table} already has a suite at {found[suite.table].path}")
        found[suite.table] = suite
    return found
