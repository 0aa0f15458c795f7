"""`powertrace-dbt`: dbt's own command line, for the builds Dagster runs, without the manifest writes.

dagster-dbt starts this executable for ``warehouse_models`` (orchestration/assets/dbt.py). It is
dbt with one change: a build does not write ``manifest.json`` (nor ``semantic_manifest.json``)
into its run folder. dbt writes the 2.8 MB manifest twice per build, once after its
partial-parse check and again after the last node (the second on the run's critical path): 0.8 s
of a build at SF 0.01 and 2.2 s at SF 1 here (docs/scaling.md, "Session 18"). Nothing reads those
copies: Dagster and ``powertrace evaluate`` read the manifest ``powertrace prepare`` wrote, and
the SQL each node ran is in the run folder's ``compiled/`` and ``run/``. ``run_results.json``,
``dbt.log`` and the partial parse are written as before. dbt's ``--no-write-json`` would drop
run_results.json too, which ops and ``bench/end_to_end.py`` read.

The change replaces dbt's ``write_manifest`` where the build calls it; if a dbt release moves it,
this fails at start rather than quietly writing the manifests again
(tests/orchestration/test_dbt_resource.py).
"""
from __future__ import annotations

import sys

# The modules whose ``write_manifest`` a build calls: the parse (after its partial-parse check)
# and the runnable task (after the last node).
MANIFEST_WRITERS = ("dbt.parser.manifest", "dbt.task.runnable")


def _skip_manifest(manifest, target_path: str, which: str | None = None) -> None:
    """Stands in for dbt.parser.manifest.write_manifest: the prepared manifest is the one read."""


def without_manifest_writes() -> None:
    import importlib

    for name in MANIFEST_WRITERS:
        module = importlib.import_module(name)
        if not callable(getattr(module, "write_manifest", None)):
            raise RuntimeError(f"powertrace-dbt: {name}.write_manifest is gone (a dbt-core upgrade?); "
                               "orchestration/dbt_cli.py needs the new place dbt writes its manifest")
        module.write_manifest = _skip_manifest


def main() -> None:
    without_manifest_writes()
    from dbt.cli.main import cli

    sys.exit(cli())


if __name__ == "__main__":
    main()
