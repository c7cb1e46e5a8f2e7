# karmabank: `make demo` and `make test` are all a fresh clone needs (Python 3.11 to 3.13 + make).
# Every install is pinned by requirements/lock.txt (pip and the build backend too), so that an
# upstream release cannot change what a fresh clone gets.
PYTHON ?= $(firstword $(shell command -v python3.11 python3.12 python3.13 python3 2>/dev/null) python3.11)
VENV   := .venv
BIN    := $(VENV)/bin
LOCK   := requirements/lock.txt
PIP    := $(BIN)/python -m pip install --quiet --constraint $(LOCK)
APP    := $(VENV)/.installed-app
DEV    := $(VENV)/.installed-dev

.PHONY: demo test test-fast lint bench serve clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (karmabank needs Python 3.11 to 3.13)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' || { echo "error: $(PYTHON) is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())'): karmabank needs 3.11 to 3.13 (make PYTHON=python3.12 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) pip setuptools

# the package alone: all `make demo` and `make serve` need
$(APP): pyproject.toml $(LOCK) | $(BIN)/python
	$(PIP) --build-constraint $(LOCK) -e .
	@touch $@

# the package with what the tests, linters and benchmarks need (semantic: the affinity tests;
# spark: the Spark engine's equality tests, on Java 17)
$(DEV): pyproject.toml $(LOCK) | $(BIN)/python
	$(PIP) --build-constraint $(LOCK) -e '.[dev,semantic,spark]'
	@touch $@ $(APP)

## demo: build the demo database and print a guided tour (an existing one is kept, users too)
demo: $(APP)
	@$(BIN)/karmabank demo --keep

## test: lint, type-check, then every test on SQLite and on a throwaway PostgreSQL
test: $(DEV) lint
	scripts/test-postgres -- $(BIN)/python -m pytest -W error -n 2 --dist loadfile

test-fast: $(DEV)
	$(BIN)/python -m pytest -W error -m "not slow"

lint: $(DEV)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

## bench: the import benchmark (SQLite, and PostgreSQL when available), then the rescore
## benchmark (1M people, 10M activities; several minutes)
bench: $(DEV)
	scripts/test-postgres -- $(BIN)/python bench/import_bench.py
	$(BIN)/python bench/rescore_bench.py

## serve: the web app and REST API on the demo database (built first when missing)
serve: $(APP)
	@test -f karmabank-demo.db || $(BIN)/karmabank demo
	$(BIN)/karmabank serve --db karmabank-demo.db

clean:
	rm -rf $(VENV) karmabank-demo.db*
