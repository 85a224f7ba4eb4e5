# Fireline — everything a newcomer and CI need. `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The PostgreSQL server the tests create their throw-away databases on.
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
export FIRELINE_DATABASE_URL ?= sqlite:///./var/fireline.db

.PHONY: install browser contract run test lint typecheck test-sqlite test-postgres coverage bench clean

$(BIN)/fireline: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Front-end packages come from the npm registry (package-lock.json); the files pages load are
# copied into the package's static folder, which git ignores.
VENDOR := src/fireline/web/static/vendor
$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx-ext-sse/dist/sse.min.js $(VENDOR)/
	cp node_modules/axe-core/axe.min.js $(VENDOR)/
	touch $@

install: $(BIN)/fireline $(VENDOR)/.installed

## make run: create the virtualenv, install, migrate, and serve on http://127.0.0.1:8000 (SQLite).
run: install
	mkdir -p var
	$(BIN)/fireline db upgrade
	$(BIN)/fireline serve

## make test: everything CI checks.
test: install browser contract lint typecheck
	rm -f .coverage .coverage.*
	$(MAKE) test-sqlite test-postgres
	$(MAKE) coverage

lint:
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck:
	$(BIN)/mypy

test-sqlite:
	FIRELINE_TEST_DATABASE_URL= $(BIN)/coverage run -m pytest -q

test-postgres:
	FIRELINE_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/coverage run -m pytest -q

coverage:
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report --fail-under=90

# The browser tests drive Debian's Chromium (Playwright's own browser downloads are not used).
browser:
	command -v chromium >/dev/null || (apt-get install -y chromium chromium-driver || (apt-get update && apt-get install -y chromium chromium-driver))

# The contract tests feed Debian's Prometheus Alertmanager alerts and check they reach Fireline.
contract:
	command -v prometheus-alertmanager >/dev/null || (apt-get install -y prometheus-alertmanager || (apt-get update && apt-get install -y prometheus-alertmanager))

## make bench: benchmarks; each prints its figures. Needs PostgreSQL, wrk and nginx (installed if missing).
bench: install
	command -v wrk >/dev/null || (apt-get install -y wrk || (apt-get update && apt-get install -y wrk))
	$(BIN)/python bench/api.py
	$(BIN)/python bench/timers.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/statuspage.py

clean:
	rm -rf $(VENV) var .coverage .coverage.* .pytest_cache .mypy_cache .ruff_cache
