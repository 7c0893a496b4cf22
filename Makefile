# The two commands a newcomer needs are `make run` and `make test` (see README).
# Each creates the virtual environment on first use and reinstalls when
# pyproject.toml changes, so both work from a clean clone.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit integration contracts clean system-deps bench

# Debian packages the tests drive: Chromium and a CJK font for the dashboard's
# browser tests, promtool (package prometheus) to validate the alert rules.
SYSTEM_PACKAGES := chromium fonts-wqy-microhei prometheus
SYSTEM_FILES := /usr/bin/chromium /usr/share/fonts/truetype/wqy/wqy-microhei.ttc /usr/bin/promtool

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 is required, found {sys.version.split()[0]}"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## Run the embedded stack (broker, ingest, appraisal, demo county).
run: $(STAMP)
	$(BIN)/python -m embedded run $(ARGS)

## Lint, type-check and run the whole test suite (unit, contract, integration, e2e).
test: lint typecheck system-deps
	$(BIN)/pytest

## Install the Debian packages the tests need, if any is missing (needs root).
system-deps:
	@missing=0; for f in $(SYSTEM_FILES); do [ -e "$$f" ] || missing=1; done; \
	if [ $$missing = 1 ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing $(SYSTEM_PACKAGES)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; \
	  else \
	    echo "missing system packages; as root run: apt-get install -y $(SYSTEM_PACKAGES)"; \
	  fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy contracts services tests bench

unit: $(STAMP)
	$(BIN)/pytest -m unit

integration: $(STAMP)
	$(BIN)/pytest -m integration

## Benchmarks B0–B5 (issue #8); sizes via ARGS, e.g. make bench ARGS="--events 60000 --villages 200".
bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

## Regenerate contracts/schemas and contracts/asyncapi.json from the models.
contracts: $(STAMP)
	$(BIN)/python -m contracts.generate

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
