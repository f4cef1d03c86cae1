# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= archive.db
PORT ?= 8001

.PHONY: install run crawl serve demo test clean

# The venv is rebuilt when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Crawl the default sources (a source that cannot be reached is reported, the rest
# still archived), then serve whatever the archive holds.
run: install
	-$(BIN)/incident-archive crawl --db $(DB)
	$(BIN)/incident-archive serve --db $(DB) --port $(PORT)

crawl: install
	$(BIN)/incident-archive crawl --db $(DB)

serve: install
	$(BIN)/incident-archive serve --db $(DB) --port $(PORT)

# No network needed: recorded status pages served locally, crawled by the real spiders.
demo: install
	$(BIN)/incident-archive demo --db demo.db --port $(PORT)

test: install
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache demo.db* archive.db.httpcache
