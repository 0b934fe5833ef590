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

bench: $(STAMP)
	$(BIN)/python bench/latency.py
	$(BIN)/python bench/slack_latency.py
	$(BIN)/python bench/slack_load.py
	$(BIN)/python bench/reembed.py
	$(BIN)/python bench/scifact.py
	$(BIN)/python bench/onnx_backends.py
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/milvus_compare.py

lint: $(STAMP)
	$(BIN)/ruff check bot embeddings tests bench
	$(BIN)/mypy bot embeddings

clean:
	rm -rf $(VENV) index var .pytest_cache .mypy_cache .ruff_cache
