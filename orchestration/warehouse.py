"""Reading the dbt warehouse from outside dbt: the prepared manifest and read-only connections.

dbt is the warehouse file's only writer; gates and publication open it read-only, after dbt has
finished (they run downstream of it, in the same DuckDB pool), under the same memory limit as dbt
(``POWERTRACE_DUCKDB_MEMORY``).
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

import orjson

from orchestration.settings import duckdb_memory_limit
from orchestration.sql_quoting import sql_identifier


@cache
def _manifest(path: Path, mtime: float) -> dict:
    return orjson.loads(path.read_bytes())


def manifest() -> dict:
    """The prepared dbt manifest (``powertrace prepare``), re-read when it changes. The dbt assets
    are built from this same dict: the code location parses the file (2.8 MB) once, not twice."""
    from orchestration.assets.dbt import manifest_path

    path = manifest_path()
    return _manifest(path, path.stat().st_mtime)


def model_nodes() -> dict[str, dict]:
    """The project's dbt models by name."""
    return {n["name"]: n for n in manifest()["nodes"].values() if n["resource_type"] == "model"}


def relation_name(model: str) -> str:
    """The warehouse relation of a dbt model, as the prepared manifest names it."""
    node = model_nodes().get(model)
    if node is None:
        raise KeyError(f"dbt model {model!r} is not in the manifest (run `powertrace prepare`)")
    return node["relation_name"]


def upstream_models(model: str) -> set[str]:
    """Every model ``model`` reads, directly or through other models (its lineage)."""
    nodes = manifest()["nodes"]
    seen: set[str] = set()
    todo = [n for n in nodes.values() if n["resource_type"] == "model" and n["name"] == model]
    while todo:
        for parent in todo.pop()["depends_on"]["nodes"]:
            node = nodes.get(parent)
            if node and node["resource_type"] == "model" and node["name"] not in seen:
                seen.add(node["name"])
                todo.append(node)
    return seen


def supervision_models() -> dict[str, dict]:
    """Models carrying meta.model_id (the supervision models), by dbt model name -> their meta."""
    return {name: node["config"]["meta"] for name, node in model_nodes().items()
            if node["config"].get("meta", {}).get("model_id")}


def connect_readonly(warehouse: Path):
    import duckdb

    if not Path(warehouse).exists():
        raise FileNotFoundError(f"warehouse {warehouse} does not exist: dbt has not built it yet")
    return duckdb.connect(str(warehouse), read_only=True, config={"memory_limit": duckdb_memory_limit()})


def read_relation(warehouse: Path, relation: str, columns: tuple[str, ...] | None = None):
    """A warehouse relation (or those of its columns) as an Arrow table."""
    select = ", ".join(sql_identifier(c) for c in columns) if columns else "*"
    with connect_readonly(warehouse) as con:
        return con.execute(f"select {select} from {relation}").to_arrow_table()
