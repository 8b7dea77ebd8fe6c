# imnm-cohort: two commands set everything up on a fresh machine.
#   make run   - create .venv, install, run the demo pipeline, print where the report is
#   make test  - create .venv, install with test tools, run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-slow test-golden test-databases test-spark lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/imnm-cohort run

test: $(STAMP)
	$(BIN)/ruff check imnm_cohort tests benchmarks
	$(BIN)/ruff format --check imnm_cohort tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n auto -m 'not slow' --ignore=tests/databases --ignore=tests/spark --ignore=tests/golden

# Whole runs end to end and the heavy properties (each over about 3 s; marked `slow`): the
# same files as make test, their own step of .ci/run so that make test stays within minutes.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -n auto -m slow --ignore=tests/databases --ignore=tests/spark --ignore=tests/golden

# Every output of fixed runs against its record (tests/golden; re-record only for a
# deliberate change: python -m tests.golden.record). Its own step of .ci/run.
test-golden: $(STAMP)
	$(BIN)/python -m pytest -q -n auto -p no:cacheprovider tests/golden

# The engine tests, each its own step of .ci/run: DuckDB and a throw-away PostgreSQL
# cluster (started by the tests), and Spark in local mode (needs the spark extra).
test-databases: $(STAMP)
	$(BIN)/python -m pytest -q -n auto tests/databases
	IMNM_TEST_ENGINES=duckdb,postgres $(BIN)/python -m pytest -q -n auto -p no:cacheprovider tests/spec -k "duckdb or postgres"

test-spark: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[spark]'
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/spark

lint: $(STAMP)
	$(BIN)/ruff check imnm_cohort tests benchmarks
	$(BIN)/ruff format --check imnm_cohort tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	cd benchmarks && ../$(BIN)/python bench_validate.py
	cd benchmarks && ../$(BIN)/python bench_read_csv.py
	cd benchmarks && ../$(BIN)/python bench_classify.py
	cd benchmarks && ../$(BIN)/python bench_analyse.py
	cd benchmarks && ../$(BIN)/python bench_cancer.py
	cd benchmarks && ../$(BIN)/python bench_run.py
	cd benchmarks && ../$(BIN)/python bench_run_scale.py
	cd benchmarks && ../$(BIN)/python bench_outputs.py
	cd benchmarks && ../$(BIN)/python bench_map.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
