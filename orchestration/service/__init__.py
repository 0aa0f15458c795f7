"""The alert service (``powertrace serve``): the consumer side of the published lake.

- tables.py        the published/restricted tables it reads (the one place that knows their schemas)
- publication.py   the snapshot of them it serves, reloaded when a new version is published
- access.py        roles, regional scopes, permissions, API tokens
- store.py         its own database (SQLite WAL or PostgreSQL): tokens, dispositions, audit log
- dispositions.py  the disposition state machine
- audit.py         the hash-chained, append-only audit log
- queries.py       list, detail, export, feed, scorecard (every one filtered by access)
- payment_check.py SM03 as a real-time check, and the ineligible-payee index it reads
- feedback.py      dispositions written back into landing/ as a source system
- api.py, api_schemas.py   the HTTP API (FastAPI, OpenAPI)
- ui.py, templates/        the triage page
- cli.py           serve, tokens, audit, dispositions
"""
