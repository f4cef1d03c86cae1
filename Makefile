# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= archive.db
PORT ?= 8001

.PHONY: install chromium run crawl serve demo test bench screenshots clean

# The venv is rebuilt when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Keep the default sources current (each polled at its interval; a source that cannot be
# reached is reported and retried later) while serving the archive. Ctrl-C stops both.
run: install
	$(BIN)/incident-archive watch --db $(DB) --serve --port $(PORT)

crawl: install
	$(BIN)/incident-archive crawl --db $(DB)

serve: install
	$(BIN)/incident-archive serve --db $(DB) --port $(PORT)

# No network needed: recorded status pages served locally, crawled by the real spiders.
# Where ../shared/realdata is beside the clone, the ICPE 2025 dataset is imported first.
RESEARCH := ../shared/realdata/research
DEMO_RESEARCH := $(if $(wildcard $(RESEARCH)/FAILS),--research $(RESEARCH)/llm-service-analysis/data/raw --research $(RESEARCH)/FAILS)
demo: install
	$(BIN)/incident-archive demo --db demo.db --port $(PORT) $(DEMO_RESEARCH)

# The browser test drives Debian's chromium through Playwright (no browser download).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium is not installed (sudo apt-get install chromium): the browser test will be skipped"; \
	  fi; }

test: install chromium
	$(BIN)/python -m pytest -q

# Benchmarks (not part of make test): writes docs/BENCHMARKS.md. BENCH_SCALE=full for
# the full sizes (5,000 sites, 1,000,000 incidents), which take much longer.
BENCH_SCALE ?= quick
bench: install
	$(BIN)/python -m bench.run --scale $(BENCH_SCALE)

# Refresh the screenshots in docs/ from the browser test.
screenshots: install chromium
	UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/test_browser.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache demo.db* archive.db.httpcache
