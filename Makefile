# The two commands a newcomer needs: `make demo` and `make test`. Everything else is for developers.
# Every target sets up .venv from uv.lock itself, so a fresh clone needs nothing but Python 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo test lint bench chaos soak browser web-assets clean venv

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "uv==$(UV_VERSION)"

# --frozen: install exactly what uv.lock says; --inexact: keep uv itself in the venv.
$(VENV)/.synced: $(BIN)/uv pyproject.toml uv.lock
	$(BIN)/uv sync --frozen --inexact --quiet
	touch $@

venv: $(VENV)/.synced

# Debian's Chromium for the browser tests (never a browser download at run time).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# Leaflet for the supervisor's maps, from the npm registry into a git-ignored folder; the server
# serves it itself (never a CDN at run time, so the pages work on an intranet and in tests).
LEAFLET_VERSION := 1.9.4
WEB_VENDOR := server/web/vendor
$(WEB_VENDOR)/node_modules/leaflet/dist/leaflet.js:
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq npm >/dev/null; }
	npm install --silent --no-audit --no-fund --no-save --prefix $(WEB_VENDOR) leaflet@$(LEAFLET_VERSION)

web-assets: $(WEB_VENDOR)/node_modules/leaflet/dist/leaflet.js

lint: $(VENV)/.synced
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint browser web-assets
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

# The server over fresh demo data, and beside it the collector's app in web mode (a fresh phone:
# the demo database is new each time, so an old phone registration would be refused).
demo: $(VENV)/.synced web-assets
	rm -rf data/demo-phone
	$(BIN)/recaudo-app --web --port 8550 --server http://127.0.0.1:8000 --data-dir data/demo-phone & \
	app=$$!; trap 'kill $$app 2>/dev/null' EXIT INT TERM; \
	echo "Collector app: http://127.0.0.1:8550 (log in as a collector from the list below)"; \
	$(BIN)/recaudo demo

# Benchmarks on SQLite and on the local PostgreSQL (each makes fresh databases of its own there);
# results go to docs/benchmarks.md.
RECAUDO_BENCH_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/recaudo_bench
# The bench group adds the planners the route benchmark compares against (never shipped).
bench: $(VENV)/.synced
	$(BIN)/uv sync --frozen --inexact --quiet --group bench
	RECAUDO_BENCH_POSTGRES_URL=$(RECAUDO_BENCH_POSTGRES_URL) $(BIN)/python -m benchmarks

# The property-based tests with many more examples, and the kill -9 crash loop with 1,000 kills per
# engine (make test runs a short version of both); -rP prints the crash loop's invariant report.
RECAUDO_CHAOS_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/recaudo_chaos
chaos: $(VENV)/.synced
	RECAUDO_TEST_POSTGRES_URL=$${RECAUDO_TEST_POSTGRES_URL:-$(RECAUDO_CHAOS_POSTGRES_URL)} \
	RECAUDO_CHAOS_KILLS=1000 HYPOTHESIS_PROFILE=chaos \
	$(BIN)/python -m pytest -q -rP -n 2 tests/shared tests/sync tests/server tests/mobile tests/chaos

# 500 phones through compressed collector days against uvicorn with 2 workers on PostgreSQL for
# 10 minutes (make test runs 40 phones for 16 s when PostgreSQL is set): latency by request
# kind, errors, each worker's memory, the sync invariants; the report goes to docs/benchmarks.md.
RECAUDO_SOAK_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/recaudo_soak
soak: $(VENV)/.synced
	RECAUDO_SOAK_POSTGRES_URL=$(RECAUDO_SOAK_POSTGRES_URL) $(BIN)/python -m benchmarks.sync_soak

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
