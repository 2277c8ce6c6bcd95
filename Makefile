# One entry point per job. `make test` is what CI runs (.ci/run): it installs what is
# missing, starts PostgreSQL and Kafka for real, lints, and runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install services lint test unit bench demo clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

services: install
	PYTHON=$(CURDIR)/$(BIN)/python deploy/up.sh > .services.env
	cat .services.env

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

test: services lint
	set -a && . ./.services.env && set +a && $(BIN)/pytest -p no:cacheprovider

unit: install
	$(BIN)/pytest -p no:cacheprovider tests/unit

bench: services
	set -a && . ./.services.env && set +a && $(BIN)/python -m tests.benchmarks.write_path
	set -a && . ./.services.env && set +a && $(BIN)/python -m tests.benchmarks.pay_recompute
	set -a && . ./.services.env && set +a && $(BIN)/python -m tests.benchmarks.read_models
	set -a && . ./.services.env && set +a && $(BIN)/python -m tests.benchmarks.relay
	set -a && . ./.services.env && set +a && $(BIN)/python -m tests.benchmarks.whatif_sweep --events 1000000
	set -a && . ./.services.env && set +a && $(BIN)/python -m tests.benchmarks.http_load --clients 50 --seconds 60

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .services.env
