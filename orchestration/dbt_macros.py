"""The dbt project's macros as plain Jinja, outside dbt: for the identity tests, which evaluate
the SQL the macros render directly in DuckDB (or Spark), and for the SQL lint (sqlfluff).

The engine-dependent macros dispatch with ``adapter.dispatch(name, 'powertrace')``
(dbt_project/macros/engine/): dbt resolves that to ``<engine>__<name>``, else
``default__<name>``; :class:`MacroAdapter` does the same over the macros of the template
being rendered.
"""
from __future__ import annotations

from pathlib import Path

import jinja2

from orchestration.settings import DBT_PROJECT_DIR

MACROS_DIR = DBT_PROJECT_DIR / "macros"


class MacroAdapter:
    """The part of dbt's ``adapter`` the project's macros use outside dbt: ``dispatch``."""

    def __init__(self, engine: str = "duckdb"):
        self.engine = engine

    @jinja2.pass_context
    def dispatch(self, context, name: str, macro_namespace: str | None = None):
        for prefix in (f"{self.engine}__", "default__"):
            macro = context.get(prefix + name)
            if macro is not None:
                return macro
        raise KeyError(f"no macro {self.engine}__{name} or default__{name} in the rendered macros")


def render_macros(folders: list[str], engine: str = "duckdb"):
    """The macros of ``dbt_project/macros/<folder>/*.sql`` for each folder, as callables returning
    the SQL text ``engine`` would run (a Jinja template module)."""
    text = "\n".join(path.read_text(encoding="utf-8")
                     for folder in folders for path in sorted(Path(MACROS_DIR, folder).glob("*.sql")))
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do"])  # dbt has `do`
    env.globals["adapter"] = MacroAdapter(engine)
    return env.from_string(text).module
