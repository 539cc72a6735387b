# One task runner: `make check` is exactly what CI runs (.ci/run = install + services + check).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CASES ?= ../shared/conformance/cases
SCORE := ../shared/conformance/score.py
# Floors: the conformance pass rates reached so far (they can only go up).
MIN_LOCAL ?= 1.0
MIN_CELERY ?= 1.0
MIN_HTTP ?= 1.0

.PHONY: install demo test lint types conformance conformance-celery conformance-http check clean

$(BIN)/stepline: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/stepline  ## create .venv and install stepline with its dev tools

demo: install  ## run the order example on the embedded default (no servers needed)
	$(BIN)/stepline run examples/order_processing.asl.json \
		--input @examples/order_input.json --handlers examples/order_handlers.py --history

test: install  ## the test suite (needs Redis and PostgreSQL for the integration tests)
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install
	$(BIN)/mypy
	$(BIN)/lint-imports

conformance: install  ## the corpus through the local executor, scored with a floor
	$(BIN)/python -m tests.conformance.run --cases $(CASES) --out results-local.jsonl --executor local
	$(BIN)/python $(SCORE) --cases $(CASES) --results results-local.jsonl --min-pass $(MIN_LOCAL)

conformance-celery: install  ## the corpus through a real Celery worker on Redis + PostgreSQL
	$(BIN)/python -m tests.conformance.run --cases $(CASES) --out results-celery.jsonl --executor celery
	$(BIN)/python $(SCORE) --cases $(CASES) --results results-celery.jsonl --min-pass $(MIN_CELERY)

conformance-http: install  ## the corpus through boto3 -> `stepline serve` -> Celery on Redis + PostgreSQL
	$(BIN)/python -m tests.conformance.run --cases $(CASES) --out results-http.jsonl --executor http
	$(BIN)/python $(SCORE) --cases $(CASES) --results results-http.jsonl --min-pass $(MIN_HTTP)

check: lint types test conformance conformance-celery conformance-http  ## everything CI checks

clean:
	rm -rf $(VENV) .stepline results-*.jsonl .pytest_cache .mypy_cache .ruff_cache
