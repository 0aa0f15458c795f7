"""Write-audit-publish: gated warehouse tables → ``<lake>/published/`` (core.py), what a run may
publish (plan.py), coverage (coverage.py), the publication log, history and rollback (history.py).
"""
