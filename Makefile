# Two commands on a fresh machine: `make demo` and `make test`. Each creates .venv as needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
SRC := src tests benchmarks

.PHONY: demo test lint typecheck imports unit emulator clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(RUNTIME)

demo: $(RUNTIME)
	$(BIN)/belimo demo

emulator: $(RUNTIME)
	$(BIN)/belimo emulator serve

lint: $(DEV)
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)

typecheck: $(DEV)
	$(BIN)/mypy

imports: $(DEV)
	$(BIN)/lint-imports

unit: $(DEV)
	$(BIN)/pytest

test: lint typecheck imports unit

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build dist
