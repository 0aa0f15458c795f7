# The two commands of the README: `make run` (main job end to end) and `make test`.
# Both set up everything they need on a fresh machine: a venv with the locked dependencies.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test test-fast test-soak prepare dagster clean-lake

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q uv
	$(BIN)/uv pip install --python $(BIN)/python -q -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python -q --no-deps -e .
	$(BIN)/python -c "from orchestration.duckdb_setup import ensure_delta_extension as e; e()"
	touch $(STAMP)

setup: $(STAMP)

prepare: setup
	$(BIN)/powertrace prepare

run: setup
	$(BIN)/powertrace run

test: setup
	$(BIN)/powertrace prepare
	$(BIN)/pytest -q -n 2 --timeout 900 --durations=12

test-fast: setup
	$(BIN)/pytest -q -m "not slow and not soak"

# Whole-pipeline soak tests (SIGKILL in every phase): minutes, so outside the default run; CI runs them.
test-soak: setup
	$(BIN)/powertrace prepare
	$(BIN)/pytest -q -m soak --timeout 2400 tests/operations

dagster: prepare
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/.state/dagster} $(BIN)/dagster dev -w workspace.yaml

clean-lake:
	rm -rf lake/landing lake/bronze lake/quarantine lake/ledger lake/published lake/restricted lake/truth lake/warehouse.duckdb*
