# Two commands a person needs: `make demo` and `make test` (see README.md).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SHARED ?= ../shared/data
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# The main job on the embedded default: import the real Asterisk sample logs, show the calls.
demo: $(STAMP)
	rm -f demo.duckdb
	$(BIN)/callscope --config examples/asterisk-real.toml import --db demo.duckdb \
	    $(SHARED)/pbx-samples/asterisk-real/Master.csv \
	    $(SHARED)/pbx-samples/asterisk-real/queue_log \
	    $(SHARED)/pbx-samples/asterisk-real/cel.csv
	$(BIN)/callscope --config examples/asterisk-real.toml summary --db demo.duckdb
	$(BIN)/callscope --config examples/asterisk-real.toml calls --db demo.duckdb

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: $(STAMP) lint
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python bench/import.py

clean:
	rm -rf $(VENV) demo.duckdb
