# PolicyBot: `make run` sets up and starts the bot (Slack when tokens are set, else the REPL);
# `make test` runs the tests. Both create .venv and install the project on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test index eval bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/policybot run

test: $(STAMP)
	$(BIN)/python -m pytest

index: $(STAMP)
	$(BIN)/policybot index

eval: $(STAMP)
	$(BIN)/policybot eval --sweep

# Every bench, one report (var/bench-report.md); `make bench BENCH_ARGS=--quick` for a few-minute run.
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python bench/report.py $(BENCH_ARGS)

# Lint, format check, types, then the import contracts in pyproject.toml ([tool.importlinter]).
lint: $(STAMP)
	$(BIN)/ruff check bot embeddings tests bench .ci
	$(BIN)/ruff format --check bot embeddings tests bench .ci
	$(BIN)/mypy bot embeddings
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) index var .pytest_cache .mypy_cache .ruff_cache
