# Two commands a person needs: `make demo` and `make test` (see README.md).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SHARED ?= ../shared/data
STAMP := $(VENV)/.installed
WEB := src/callscope/web
ASSETS := $(WEB)/node_modules/.package-lock.json

.PHONY: setup demo sample test lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

# Chart.js, Swagger UI and axe-core from the npm registry, served by the app from node_modules.
$(ASSETS): $(WEB)/package-lock.json
	npm ci --prefix $(WEB) --no-audit --no-fund --loglevel=error

setup: $(STAMP) $(ASSETS)

# The main job on the embedded default: simulate a few weeks of a dental clinic, import its
# Asterisk logs, print the summary, then serve the dashboard (log in as demo / demo-password).
demo: $(STAMP) $(ASSETS)
	rm -f demo.duckdb demo.duckdb.wal
	$(BIN)/callscope demo --db demo.duckdb --config-out demo.toml
	CALLSCOPE_PASSWORD=demo-password $(BIN)/callscope --config demo.toml user add demo --role admin --db demo.duckdb
	$(BIN)/callscope --config demo.toml serve --db demo.duckdb

# The real Asterisk 22 sample (29 scripted calls): import it and print the summary and the calls.
sample: $(STAMP)
	rm -f sample.duckdb sample.duckdb.wal
	$(BIN)/callscope --config examples/asterisk-real.toml import --db sample.duckdb \
	    $(SHARED)/pbx-samples/asterisk-real/Master.csv \
	    $(SHARED)/pbx-samples/asterisk-real/queue_log \
	    $(SHARED)/pbx-samples/asterisk-real/cel.csv
	$(BIN)/callscope --config examples/asterisk-real.toml summary --db sample.duckdb
	$(BIN)/callscope --config examples/asterisk-real.toml calls --db sample.duckdb

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/mypy bench

test: $(STAMP) $(ASSETS) lint
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python bench/import.py
	$(BIN)/python bench/simulate.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/live.py

clean:
	rm -rf $(VENV) $(WEB)/node_modules demo.duckdb demo.toml sample.duckdb
