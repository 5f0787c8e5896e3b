# `make demo` and `make test` each create .venv when missing and install the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The demo store goes to $WATCHLIST_HOME, else ./.demo; --replace rebuilds an earlier demo there
# (only a folder the demo made: a real store is refused).
demo: $(STAMP)
	$(BIN)/watchlist demo --replace

test: lint typecheck
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy governance projections commands bench

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

# Long-running (the 1M-event store takes about 25 minutes to build and project); not part of CI.
bench: $(STAMP)
	mkdir -p bench/out
	$(BIN)/python -m bench.ingest | tee bench/out/ingest.log
	$(BIN)/python -m bench.pointintime | tee bench/out/pointintime.log
	$(BIN)/python -m bench.verify | tee bench/out/verify.log
	$(BIN)/python -m bench.sweep | tee bench/out/sweep.log
	$(BIN)/python -m bench.postgres | tee bench/out/postgres.log
	$(BIN)/python -m bench.cli | tee bench/out/cli.log

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
