# The two commands a fresh clone needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.huchu-installed
TEST_STAMP := $(VENV)/.huchu-test-installed
# checkov's pins clash with Huchu's dependencies, so it gets a virtualenv of its own.
CHECKOV := $(VENV)/tools/checkov/bin/checkov
CHECKOV_PIN := $(shell sed -n 's/^checkov = \["\(checkov==[^"]*\)"\]/\1/p' pyproject.toml)

.PHONY: run test lint imports typecheck unit bench clean

run: $(STAMP)
	$(BIN)/huchu serve --data-dir ./data

test: $(TEST_STAMP) lint imports typecheck unit

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e .
	touch $@

$(CHECKOV): pyproject.toml
	$(BIN)/python -m venv $(VENV)/tools/checkov
	$(VENV)/tools/checkov/bin/python -m pip install -q '$(CHECKOV_PIN)'
	touch $@

$(TEST_STAMP): $(STAMP) $(CHECKOV) pyproject.toml frontend/package-lock.json
	$(BIN)/python -m pip install -q -e '.[test]'
	# The swap/restore stage's extras, for its tests: torch's CPU build, and only the
	# architecture files of codeformer-pip (its declared deps pull torchvision and more).
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q --no-deps codeformer-pip==0.0.4
	# Browser tests drive Debian's Chromium (never a downloaded browser build).
	command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-nanum; }
	cd frontend && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

imports: $(TEST_STAMP)
	$(BIN)/lint-imports --no-cache

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

unit: $(TEST_STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/analyze.py

clean:
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache .pytest_cache
