# kb — everyday commands. Each bootstraps .venv on first use.
# The newest supported Python found (3.13, 3.12, 3.11), else python3 if it is one of them.
SUPPORTED_PYTHON := import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 14))
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c '$(SUPPORTED_PYTHON)' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-postgres e2e lint format migrations-check bench bench-quick bench-parts soak clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "kb needs Python 3.11, 3.12 or 3.13 (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## run: serve the site on SQLite with demo content at http://127.0.0.1:8000
run: $(STAMP)
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py load_demo --if-empty
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py ensure_admin
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py serve $(HOST):$(PORT)

## test: the whole suite (browser tests included when Chromium is installed)
test: $(STAMP)
	$(BIN)/pytest

## test-postgres: the whole suite again on PostgreSQL (DATABASE_URL, default: local server)
test-postgres: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kb} $(BIN)/pytest

## e2e: only the browser tests
e2e: $(STAMP)
	$(BIN)/pytest -m e2e

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations-check: $(STAMP)
	DJANGO_DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

## bench: the site under gunicorn with 10,000 posts (README, "Performance"); DATABASE_URL picks the engine
bench: $(STAMP)
	$(BIN)/python bench/site_bench.py

## bench-quick: the same with 1,000 posts and short runs
bench-quick: $(STAMP)
	$(BIN)/python bench/site_bench.py --quick

## bench-parts: rendering, search, import, editor-preview and [[ completion speed, each on its own
bench-parts: $(STAMP)
	$(BIN)/python bench/render_bench.py --posts 1000
	$(BIN)/python bench/search_bench.py
	$(BIN)/python bench/import_bench.py --files 1000
	$(BIN)/python bench/preview_bench.py
	$(BIN)/python bench/completion_bench.py

## soak: a few minutes of mixed load on PostgreSQL with faults injected (README, "Reliability")
soak: $(STAMP)
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
