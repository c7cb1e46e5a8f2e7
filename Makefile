# karmabank: `make demo` and `make test` are all a fresh clone needs (Python 3.11 + make).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint bench serve clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (karmabank needs Python 3.11)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,semantic]'
	@touch $(STAMP)

## demo: build the demo database and print a guided tour
demo: $(STAMP)
	$(BIN)/karmabank demo

## test: lint, type-check, then every test on SQLite and on a throwaway PostgreSQL
test: $(STAMP) lint
	scripts/test-postgres -- $(BIN)/python -m pytest -W error

test-fast: $(STAMP)
	$(BIN)/python -m pytest -W error -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

## bench: the import benchmark (SQLite, and PostgreSQL when available), then the rescore
## benchmark (1M people, 10M activities; several minutes)
bench: $(STAMP)
	scripts/test-postgres -- $(BIN)/python bench/import_bench.py
	$(BIN)/python bench/rescore_bench.py

## serve: the web app and REST API on the demo database (built first when missing)
serve: $(STAMP)
	@test -f karmabank-demo.db || $(BIN)/karmabank demo
	$(BIN)/karmabank serve --db karmabank-demo.db

clean:
	rm -rf $(VENV) karmabank-demo.db*
