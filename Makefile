# imnm-cohort: two commands set everything up on a fresh machine.
#   make run   - create .venv, install, run the demo pipeline, print where the report is
#   make test  - create .venv, install with test tools, run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

DEMO := imnm_cohort/data/demo_registry.csv
run: $(STAMP)
	$(BIN)/imnm-cohort validate $(DEMO) -o reports/demo
	$(BIN)/imnm-cohort classify $(DEMO) -o reports/demo/classified.csv
	@echo "Demo outputs: $(CURDIR)/reports/demo (validation_report.md, classified.csv)"

test: $(STAMP)
	$(BIN)/ruff check imnm_cohort tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check imnm_cohort tests benchmarks
	$(BIN)/ruff format --check imnm_cohort tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_validate.py
	$(BIN)/python benchmarks/bench_classify.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
